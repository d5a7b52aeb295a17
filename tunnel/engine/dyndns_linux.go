package engine

// Endpoints given as host names (dynamic DNS). A name is resolved at Up;
// while the tunnel is up one goroutine per tunnel (watchNames)
//
//   - retries names that did not resolve at Up, every ResolveRetry, and sets
//     the endpoint (and keepalive) once they do;
//   - looks names up again while their peer looks unreachable, and moves
//     the peer to the new address when the name's address changed, like
//     wireguard-tools' reresolve-dns.sh but faster.
//
// Peers whose endpoint is an IP literal are never touched.

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// Default timings of endpoint name resolution (Options can shorten them).
const (
	// defaultResolveRetry is how often the engine looks at hostname peers: names
	// that never resolved are retried, and resolved names of peers that
	// look unreachable are looked up again. 10 s: at most 6 lookups a
	// minute per unreachable peer, and a moved peer with keepalive on is
	// found again 20 to 30 s after it moved.
	defaultResolveRetry = 10 * time.Second

	// defaultReresolveHandshake: a peer whose latest handshake is older than this
	// (or that never completed one) is unreachable (reresolve-dns.sh's
	// 135 s: a live session re-handshakes every 120 s while packets flow).
	// Its name is looked up and the endpoint set when the address differs
	// from the one the device uses now.
	defaultReresolveHandshake = 135 * time.Second

	// defaultReresolveSilence: a peer with persistent keepalive on from which
	// nothing arrived for this long is probably unreachable (WG Punch
	// peers send a keepalive every 5 s; the monitor calls them stale after
	// 17 s). Its name is looked up, but the endpoint is only changed when
	// the name's address itself changed since the last lookup, so a peer
	// that roamed (wireguard-go follows authenticated packets from a new
	// address) and then went quiet is not moved back. Silence is measured
	// from the look that saw rx grow, so 15 s means two 10 s looks in a
	// row without anything received (not a multiple of the retry:
	// ticker jitter would make it one look more or less).
	defaultReresolveSilence = 15 * time.Second
)

// dnsPeer is a peer whose endpoint is a host name.
type dnsPeer struct {
	peer     conf.Peer
	resolved netip.AddrPort // last address the name gave; invalid: never resolved
	rx       uint64         // rx_bytes at the last look
	rxAt     time.Time      // when rx was last seen to grow (or watching began)
	failing  bool           // the last lookup failed (logged once)
}

// peerSample is what the device reports of one peer.
type peerSample struct {
	endpoint  netip.AddrPort
	handshake time.Time // zero: never
	rx        uint64
	keepalive int // persistent keepalive, seconds; 0: off
}

// isHostname reports whether ep names a host rather than an IP address.
func isHostname(ep conf.Endpoint) bool {
	if ep.IsZero() {
		return false
	}
	host := strings.TrimSuffix(strings.TrimPrefix(ep.Host, "["), "]")
	_, err := netip.ParseAddr(host)
	return err != nil
}

// namePeers lists cfg's hostname peers with what Up resolved for them.
func namePeers(cfg *conf.Config, endpoints map[wgtypes.Key]netip.AddrPort, now time.Time) map[wgtypes.Key]*dnsPeer {
	var m map[wgtypes.Key]*dnsPeer
	for _, p := range cfg.Peers {
		if !isHostname(p.Endpoint) {
			continue
		}
		if m == nil {
			m = make(map[wgtypes.Key]*dnsPeer)
		}
		m[p.PublicKey] = &dnsPeer{peer: p, resolved: endpoints[p.PublicKey], rxAt: now}
	}
	return m
}

// observe records a sample taken at now and reports whether the peer looks
// unreachable, so its name should be looked up again, and whether that is
// because of a stale (or missing) handshake.
func (d *dnsPeer) observe(now time.Time, s peerSample, tune *timings) (lookup, handshakeStale bool) {
	if s.rx != d.rx {
		d.rx = s.rx
		d.rxAt = now
	}
	handshakeStale = s.handshake.IsZero() || now.Sub(s.handshake) >= tune.reresolveHandshake
	silent := d.peer.PersistentKeepalive > 0 && now.Sub(d.rxAt) >= tune.reresolveSilence
	return handshakeStale || silent, handshakeStale
}

// moveTo reports whether a peer should be pointed at the address its name
// now resolves to: only when that differs from where the device sends now,
// and, unless the handshake is stale, only when the name itself changed (a
// silent peer that roamed is not pulled back to a stale DNS answer).
func moveTo(resolved, current, last netip.AddrPort, handshakeStale bool) bool {
	if resolved == current {
		return false
	}
	return handshakeStale || resolved != last
}

// startNames starts watchNames for t's hostname peers (t.names, set by
// apply), if any. Call with e.op held.
func (e *linuxEngine) startNames(t *tunnel) {
	if len(t.names) == 0 {
		return
	}
	stop := make(chan struct{})
	t.dnsMu.Lock()
	t.dnsStop = stop
	t.dnsMu.Unlock()
	t.wg.Add(1)
	go e.watchNames(t, t.names, stop)
}

// stopNames stops t's watchNames; once it returns that goroutine sets no
// endpoint any more (it may still be finishing a DNS lookup).
func (t *tunnel) stopNames() {
	t.dnsMu.Lock()
	defer t.dnsMu.Unlock()
	if t.dnsStop != nil {
		close(t.dnsStop)
		t.dnsStop = nil
	}
}

// watchNames resolves pending names and re-resolves names of unreachable
// peers every e.tune.resolveRetry until stop or t.stop is closed.
func (e *linuxEngine) watchNames(t *tunnel, names map[wgtypes.Key]*dnsPeer, stop <-chan struct{}) {
	defer t.wg.Done()
	tick := time.NewTicker(e.tune.resolveRetry)
	defer tick.Stop()
	// names are the seeds apply made and are never written: this watcher
	// keeps its own state (a stopped one may still be finishing a lookup).
	own := make(map[wgtypes.Key]*dnsPeer, len(names))
	keys := make([]wgtypes.Key, 0, len(names))
	start := time.Now()
	for k, d := range names {
		c := *d
		c.rxAt = start
		own[k] = &c
		keys = append(keys, k)
	}
	names = own
	slices.SortFunc(keys, func(a, b wgtypes.Key) int { return strings.Compare(a.String(), b.String()) })
	for {
		select {
		case <-t.stop:
			return
		case <-stop:
			return
		case <-tick.C:
		}
		samples, err := peerSamples(t.dev)
		if err != nil {
			e.logf("tunnel %s: read peers: %v", t.name, err)
			continue
		}
		now := time.Now()
		for _, k := range keys {
			d := names[k]
			if !d.resolved.IsValid() {
				e.resolvePending(t, k, d, stop)
				continue
			}
			s, ok := samples[k]
			if !ok {
				continue
			}
			lookup, stale := d.observe(now, s, &e.tune)
			if !lookup {
				continue
			}
			ap, err := resolve(d.peer.Endpoint)
			if err != nil {
				if !d.failing {
					e.logf("tunnel %s: peer %s seems unreachable; %v (keeping %s, will retry every %s)", t.name, peerLabel(d.peer), err, s.endpoint, e.tune.resolveRetry)
				}
				d.failing = true
				continue
			}
			d.failing = false
			last := d.resolved
			d.resolved = ap
			if !moveTo(ap, s.endpoint, last, stale) {
				continue
			}
			set := fmt.Sprintf("public_key=%x\nupdate_only=true\nendpoint=%s\n", k[:], ap)
			if !e.setLocked(t, stop, set) {
				return
			}
			e.logf("tunnel %s: peer %s seems unreachable at %s; endpoint %s now resolves to %s: handshaking there", t.name, peerLabel(d.peer), s.endpoint, d.peer.Endpoint.Host, ap)
			d.rxAt = now
			if peer := t.dev.LookupPeer(device.NoisePublicKey(k)); peer != nil {
				// A fresh handshake, not a keepalive on the old
				// session: the peer at the new address may have
				// restarted and lost it.
				peer.ExpireCurrentKeypairs()
				peer.SendKeepalive()
			}
		}
	}
}

// resolvePending tries a name that has not resolved since Up and, once it
// does, sets the endpoint and keepalive and starts a handshake.
func (e *linuxEngine) resolvePending(t *tunnel, k wgtypes.Key, d *dnsPeer, stop <-chan struct{}) {
	ap, err := resolve(d.peer.Endpoint)
	if err != nil {
		return
	}
	set := fmt.Sprintf("public_key=%x\nupdate_only=true\nendpoint=%s\npersistent_keepalive_interval=%d\n", k[:], ap, d.peer.PersistentKeepalive)
	if !e.setLocked(t, stop, set) {
		return
	}
	e.logf("tunnel %s: endpoint %s resolved to %s", t.name, d.peer.Endpoint.Host, ap)
	d.resolved = ap
	d.rxAt = time.Now()
	if peer := t.dev.LookupPeer(device.NoisePublicKey(k)); peer != nil {
		peer.SendKeepalive()
	}
}

// setLocked applies a UAPI set unless the watcher was stopped meanwhile (a
// re-apply must not be overwritten by a lookup that finished late). It
// reports false when stopped.
func (e *linuxEngine) setLocked(t *tunnel, stop <-chan struct{}, set string) bool {
	t.dnsMu.Lock()
	defer t.dnsMu.Unlock()
	select {
	case <-stop:
		return false
	case <-t.stop:
		return false
	default:
	}
	if err := t.dev.IpcSet(set); err != nil {
		e.logf("tunnel %s: set endpoint: %v", t.name, err)
	}
	return true
}

// peerSamples reads endpoint, latest handshake and rx bytes of every peer
// from the device. (The UAPI dump also holds the private key; it is parsed
// past and never kept or logged.)
func peerSamples(dev *device.Device) (map[wgtypes.Key]peerSample, error) {
	get, err := dev.IpcGet()
	if err != nil {
		return nil, err
	}
	return parseSamples(get)
}

func parseSamples(get string) (map[wgtypes.Key]peerSample, error) {
	out := make(map[wgtypes.Key]peerSample)
	var (
		cur       *wgtypes.Key
		s         peerSample
		sec, nsec int64
		flush     = func() {
			if cur != nil {
				if sec != 0 || nsec != 0 {
					s.handshake = time.Unix(sec, nsec)
				}
				out[*cur] = s
			}
		}
	)
	for line := range strings.Lines(get) {
		key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch key {
		case "public_key":
			flush()
			b, err := hex.DecodeString(val)
			if err != nil || len(b) != wgtypes.KeyLen {
				return nil, fmt.Errorf("bad public key in device dump")
			}
			k := wgtypes.Key(b)
			cur, s, sec, nsec = &k, peerSample{}, 0, 0
		case "endpoint":
			if cur != nil {
				s.endpoint, _ = netip.ParseAddrPort(val)
				s.endpoint = netip.AddrPortFrom(s.endpoint.Addr().Unmap(), s.endpoint.Port())
			}
		case "last_handshake_time_sec":
			sec, _ = strconv.ParseInt(val, 10, 64)
		case "last_handshake_time_nsec":
			nsec, _ = strconv.ParseInt(val, 10, 64)
		case "rx_bytes":
			s.rx, _ = strconv.ParseUint(val, 10, 64)
		case "persistent_keepalive_interval":
			s.keepalive, _ = strconv.Atoi(val)
		}
	}
	flush()
	return out, nil
}
