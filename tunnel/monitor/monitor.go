package monitor

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// Thresholds for PeerState.
const (
	// HandshakeTimeout: a session older than this is dead. WireGuard
	// rekeys every 120 s while packets flow and rejects sessions after
	// 180 s, so a live peer never goes past it.
	HandshakeTimeout = 180 * time.Second
	// ReceiveTimeout: with PersistentKeepalive = 5 the peer sends at least
	// every 5 s, so three missed keepalives plus two polls of slack means
	// nothing is arriving.
	ReceiveTimeout = 3*conf.DefaultKeepalive*time.Second + 2*time.Second
)

// DeviceReader reads a WireGuard device's current state. *wgctrl.Client
// satisfies it. An error wrapping fs.ErrNotExist means no such device.
type DeviceReader interface {
	Device(name string) (*wgtypes.Device, error)
}

// Options configure a Monitor.
type Options struct {
	// Reader reads devices; usually a *wgctrl.Client.
	Reader DeviceReader
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Monitor turns device counters into per-peer state. It remembers each
// peer's rx counter between snapshots to know when bytes last arrived, so
// call Snapshot regularly (about once a second). Safe for concurrent use.
type Monitor struct {
	reader DeviceReader
	now    func() time.Time

	mu    sync.Mutex
	peers map[peerID]*track
	// pub caches public keys by private key: deriving one is a curve
	// multiplication, the bulk of a snapshot's cost otherwise.
	pub map[wgtypes.Key]wgtypes.Key
}

type peerID struct {
	tunnel string
	key    wgtypes.Key
}

// track is what the monitor remembers about a peer between snapshots.
type track struct {
	rx, tx      int64
	lastReceive time.Time // when rx last grew; on first sight, the handshake
	since       time.Time // when the monitor started watching these counters
}

// New returns a Monitor reading devices through opts.Reader.
func New(opts Options) *Monitor {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Monitor{reader: opts.Reader, now: now, peers: make(map[peerID]*track), pub: make(map[wgtypes.Key]wgtypes.Key)}
}

// Snapshot reports every tunnel in cfgs. Tunnels named in up (tunnel name
// to interface name) are read from their device with one Device call each;
// the others are reported down from their config alone. Warnings are left
// nil for the caller to fill in.
func (m *Monitor) Snapshot(cfgs []*conf.Config, up map[string]string) *Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	seen := make(map[peerID]bool)
	pub := make(map[wgtypes.Key]wgtypes.Key, len(cfgs))
	r := &Report{Tunnels: make([]TunnelStatus, 0, len(cfgs))}
	for _, cfg := range cfgs {
		if cfg == nil {
			continue
		}
		ts := baseStatus(cfg)
		if sk := cfg.Interface.PrivateKey; sk != (wgtypes.Key{}) {
			pk, ok := m.pub[sk]
			if !ok {
				pk = sk.PublicKey()
			}
			pub[sk] = pk
			ts.PublicKey = pk.String()
		}
		ifname, isUp := up[cfg.Name]
		if !isUp {
			r.Tunnels = append(r.Tunnels, ts)
			continue
		}
		ts.Interface = ifname
		dev, err := m.device(ifname)
		if errors.Is(err, ErrStarting) {
			// Not running yet, not gone: nothing can arrive so far.
			ts.Starting = true
			for i := range ts.Peers {
				ts.Peers[i].State = StateConnecting
			}
			r.Tunnels = append(r.Tunnels, ts)
			continue
		}
		if err != nil {
			// The engine thinks it is up but the device is gone or
			// unreadable: report it down with the reason.
			ts.Error = err.Error()
			r.Tunnels = append(r.Tunnels, ts)
			continue
		}
		ts.Up = true
		ts.ListenPort = uint16(dev.ListenPort)
		byKey := make(map[wgtypes.Key]*wgtypes.Peer, len(dev.Peers))
		for i := range dev.Peers {
			byKey[dev.Peers[i].PublicKey] = &dev.Peers[i]
		}
		for i, p := range cfg.Peers {
			ps := &ts.Peers[i]
			dp, ok := byKey[p.PublicKey]
			if !ok {
				// Configured but not on the device (yet): nothing
				// can arrive from it.
				ps.State = StateConnecting
				continue
			}
			id := peerID{cfg.Name, p.PublicKey}
			seen[id] = true
			lr, judged := m.observe(id, dp, now)
			if dp.Endpoint != nil {
				ps.Endpoint = dp.Endpoint.String()
			}
			if !dp.LastHandshakeTime.IsZero() {
				hs := dp.LastHandshakeTime
				ps.LastHandshake = &hs
			}
			if !lr.IsZero() {
				lrc := lr
				ps.LastReceive = &lrc
			}
			ps.RxBytes, ps.TxBytes = dp.ReceiveBytes, dp.TransmitBytes
			if p.PersistentKeepalive == 0 && dp.PersistentKeepaliveInterval == 0 {
				// No keepalives: an idle link is silent, judge by
				// the handshake alone.
				judged = time.Time{}
			}
			ps.State = PeerState(now, true, dp.LastHandshakeTime, judged)
			if ps.State == StateConnected && dp.Endpoint != nil {
				if ap, ok := netip.AddrFromSlice(dp.Endpoint.IP); ok {
					ps.Path = string(conf.PathOf(conf.Candidates(cfg, &cfg.Peers[i]), netip.AddrPortFrom(ap.Unmap(), uint16(dp.Endpoint.Port))))
				}
			}
		}
		r.Tunnels = append(r.Tunnels, ts)
	}
	// Forget peers of reported tunnels that were not seen, and of tunnels
	// neither reported nor up. A tunnel that is up but left out of this
	// snapshot (a status query for one tunnel) keeps its history.
	reported := make(map[string]bool, len(cfgs))
	for _, cfg := range cfgs {
		if cfg != nil {
			reported[cfg.Name] = true
		}
	}
	for id := range m.peers {
		_, isUp := up[id.tunnel]
		if !seen[id] && (reported[id.tunnel] || !isUp) {
			delete(m.peers, id)
		}
	}
	for sk, pk := range m.pub {
		if _, ok := pub[sk]; !ok && len(pub) < 64 {
			pub[sk] = pk // keep keys of tunnels left out of this snapshot
		}
	}
	m.pub = pub
	return r
}

// ErrStarting is wrapped by a DeviceReader's error for a tunnel that was
// brought up but whose device is not there yet because it is still
// starting (a Windows tunnel service in START_PENDING). Snapshot shows such
// a tunnel as starting, not as gone.
var ErrStarting = errors.New("tunnel is starting")

// device reads one device, wording the errors for a status line.
func (m *Monitor) device(ifname string) (*wgtypes.Device, error) {
	if m.reader == nil {
		return nil, errors.New("no WireGuard reader configured")
	}
	dev, err := m.reader.Device(ifname)
	if errors.Is(err, ErrStarting) {
		return nil, err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("interface %s has disappeared: bring the tunnel up again", ifname)
	}
	if err != nil {
		return nil, fmt.Errorf("read interface %s: %w", ifname, err)
	}
	return dev, nil
}

// observe updates the peer's rx track. It returns when bytes last arrived
// as far as is known (for display), and the time to judge liveness by:
// that, but never before the monitor started watching, so a monitor that
// starts next to a running tunnel gives it ReceiveTimeout to show traffic
// instead of calling it stale at once.
func (m *Monitor) observe(id peerID, dp *wgtypes.Peer, now time.Time) (shown, judged time.Time) {
	tr, ok := m.peers[id]
	switch {
	case !ok || dp.ReceiveBytes < tr.rx || dp.TransmitBytes < tr.tx:
		// First sight, or the counters went back (the device was
		// recreated). We do not know when the bytes already counted
		// came in; the last handshake is the latest sure arrival.
		tr = &track{rx: dp.ReceiveBytes, tx: dp.TransmitBytes, since: now}
		if dp.ReceiveBytes > 0 {
			tr.lastReceive = dp.LastHandshakeTime
		}
		m.peers[id] = tr
	case dp.ReceiveBytes > tr.rx:
		tr.rx, tr.tx = dp.ReceiveBytes, dp.TransmitBytes
		tr.lastReceive = now
	default:
		tr.tx = dp.TransmitBytes
	}
	judged = tr.lastReceive
	if judged.Before(tr.since) {
		judged = tr.since
	}
	return tr.lastReceive, judged
}

// baseStatus is cfg's tunnel reported down.
func baseStatus(cfg *conf.Config) TunnelStatus {
	ts := TunnelStatus{
		Name:       cfg.Name,
		ListenPort: cfg.Interface.ListenPort,
		Peers:      make([]PeerStatus, len(cfg.Peers)),
	}
	if len(cfg.Interface.Addresses) > 0 {
		ts.Address = cfg.Interface.Addresses[0].String()
	}
	for i, p := range cfg.Peers {
		ps := PeerStatus{
			Name:       p.Meta.Name,
			PublicKey:  p.PublicKey.String(),
			AllowedIPs: make([]string, len(p.AllowedIPs)),
			State:      StateDown,
		}
		if !p.Endpoint.IsZero() {
			ps.Endpoint = p.Endpoint.String()
		}
		ps.Candidates = []Candidate{}
		for _, c := range conf.Candidates(cfg, &cfg.Peers[i]) {
			ps.Candidates = append(ps.Candidates, Candidate{Kind: string(c.Kind), Endpoint: c.Addr.String()})
		}
		for j, a := range p.AllowedIPs {
			ps.AllowedIPs[j] = a.String()
		}
		ps.LANs = make([]LANStatus, len(p.Meta.LANs))
		for j, l := range p.Meta.LANs {
			ps.LANs[j] = LANStatus{Prefix: l.String(), ReachAs: p.Meta.ReachedAs(l).String()}
		}
		for _, a := range p.Meta.ServeAs {
			ps.ServeAs = append(ps.ServeAs, LANStatus{Prefix: a.LAN.String(), ReachAs: a.As.String()})
		}
		if len(p.AllowedIPs) > 0 {
			ps.Address = ps.AllowedIPs[0]
		}
		ts.Peers[i] = ps
	}
	return ts
}

// PeerState judges a peer at now:
//   - down: the tunnel is not up;
//   - connecting: up, never a handshake;
//   - stale: the last handshake is older than HandshakeTimeout, or nothing
//     has arrived for ReceiveTimeout;
//   - connected: otherwise.
//
// A zero lastReceive means "not known" (keepalives off): the handshake
// alone decides.
func PeerState(now time.Time, up bool, lastHandshake, lastReceive time.Time) State {
	switch {
	case !up:
		return StateDown
	case lastHandshake.IsZero():
		return StateConnecting
	case now.Sub(lastHandshake) > HandshakeTimeout:
		return StateStale
	case !lastReceive.IsZero() && now.Sub(lastReceive) > ReceiveTimeout:
		return StateStale
	}
	return StateConnected
}
