package control

// The address watch: while a tunnel is up, the daemon learns this
// machine's current public endpoint through the tunnel's own UDP socket
// (engine.Prober) and compares it with the one the peers were told
// (conf.InterfaceMeta.PublicEndpoint). When it moved, every peer that has
// not been heard from since gets a public-address-changed warning holding
// an address update (invite.Update, WGP1U-...) to send it, and the
// diagnosis says own-address-changed. A peer heard from after the change
// (a handshake or packets) has our new address (it took the update, or
// WireGuard roamed); once all have, and one more query still sees it, the new
// address is saved as the announced one.
//
// Cost: one STUN request (retransmitted only when lost) per tunnel every
// AddrCheckIdle (10 min) while every peer is connected, every
// AddrCheckSilent (60 s) while one is not, and at once when a peer falls
// silent or a local address or route changes (netlink). When no STUN
// server answers twice in a row, the diagnosis says udp-blocked. While a
// peer has no session the Linux engine asks from another socket (port 0:
// only the address is compared), as a query from the tunnel's socket
// could keep a stuck router's wrong port alive (docs/engine.md).

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// Default address-watch timings (ServiceOptions can shorten them).
const (
	DefaultAddrCheckIdle   = 10 * time.Minute
	DefaultAddrCheckSilent = 60 * time.Second
	defaultAddrTick        = 5 * time.Second
)

// selfState is what the watch knows about one tunnel's own address.
type selfState struct {
	announced netip.AddrPort // what the peers were told
	current   netip.AddrPort // what STUN saw last; valid and != announced: changed
	changedAt time.Time      // when current was first seen
	lastCheck time.Time
	failures  int                    // checks in a row no server answered
	caught    map[wgtypes.Key]bool   // peers heard from since the change
	caughtAll bool                   // all have been: the next probe confirms before saving
	updates   map[wgtypes.Key]string // the update for each peer, for current
	due       bool                   // check at the next tick (netlink change)
	silent    bool                   // a peer was not connected at the last look
}

func (st *selfState) changed() bool {
	return st.current.IsValid() && st.announced.IsValid() && st.current != st.announced
}

type addrWatch struct {
	mu    sync.Mutex
	state map[string]*selfState
}

// StartAddressWatch runs the address watch until ctx ends, if the engine
// can probe (engine.Prober). The daemon calls it once.
func (s *Service) StartAddressWatch(ctx context.Context) {
	p, ok := s.eng.(engine.Prober)
	if !ok {
		return
	}
	changes := netChanges(ctx, s.opts.Logf)
	go func() {
		tick := time.NewTicker(s.opts.AddrTick)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changes:
				s.aw.mu.Lock()
				for _, st := range s.aw.state {
					st.due = true
				}
				s.aw.mu.Unlock()
			case <-tick.C:
			}
			s.CheckAddresses(ctx, p, false)
		}
	}()
}

// CheckAddresses runs one round of the watch: every up tunnel whose check
// is due (all of them with force) asks STUN through its own socket.
func (s *Service) CheckAddresses(ctx context.Context, p engine.Prober, force bool) {
	up := s.upSnapshot()
	now := s.opts.Now()
	for name := range up {
		cfg, err := s.load(name)
		if err != nil {
			continue
		}
		announced := endpointAddrPort(cfg.Interface.Meta.PublicEndpoint)
		s.aw.mu.Lock()
		st := s.aw.state[name]
		if st == nil || st.announced != announced {
			st = &selfState{announced: announced}
			if s.aw.state == nil {
				s.aw.state = map[string]*selfState{}
			}
			s.aw.state[name] = st
		}
		s.aw.mu.Unlock()
		if !announced.IsValid() {
			continue // nothing announced to compare with (--endpoint)
		}
		silent := s.catchUp(cfg, up, st)
		interval := s.opts.AddrCheckIdle
		if silent {
			interval = s.opts.AddrCheckSilent
		}
		s.aw.mu.Lock()
		// A peer that just fell silent may mean our address moved: look
		// at once.
		fell := silent && !st.silent
		st.silent = silent
		due := force || fell || st.due || st.lastCheck.IsZero() || now.Sub(st.lastCheck) >= interval
		if due {
			st.due, st.lastCheck = false, now
		}
		s.aw.mu.Unlock()
		if !due {
			continue
		}
		got, err := s.probe(ctx, p, name)
		s.observe(cfg, st, got, err, now)
	}
	s.aw.mu.Lock()
	for name := range s.aw.state {
		if _, ok := up[name]; !ok {
			delete(s.aw.state, name)
		}
	}
	s.aw.mu.Unlock()
}

// probe asks the STUN servers of the settings in turn, through tunnel
// name's socket, until one answers with an IPv4 mapping.
func (s *Service) probe(ctx context.Context, p engine.Prober, name string) (netip.AddrPort, error) {
	servers, err := s.stunServers(nil)
	if err != nil {
		return netip.AddrPort{}, err
	}
	var last error = fmt.Errorf("no STUN server configured")
	for _, srv := range servers {
		ap, err := resolveSTUN(ctx, srv)
		if err != nil {
			last = err
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		got, err := p.PublicAddress(qctx, name, ap)
		cancel()
		if err == nil && got.IsValid() {
			return netip.AddrPortFrom(got.Addr().Unmap(), got.Port()), nil
		}
		last = err
	}
	return netip.AddrPort{}, last
}

// resolveSTUN turns HOST:PORT into an IPv4 address and port.
func resolveSTUN(ctx context.Context, hostport string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap, nil
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	pn, err := net.LookupPort("udp", port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(lctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("look up STUN server %s: %v", host, err)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(pn)), nil
}

// observe records one probe's result.
func (s *Service) observe(cfg *conf.Config, st *selfState, got netip.AddrPort, err error, now time.Time) {
	s.aw.mu.Lock()
	defer s.aw.mu.Unlock()
	if err != nil {
		st.failures++
		if st.failures == 2 {
			s.opts.Logf("tunnel %s: no STUN server answers through the tunnel's socket (%v): outgoing UDP may be blocked", cfg.Name, err)
		}
		return
	}
	st.failures = 0
	if got.Port() == 0 && st.announced.IsValid() {
		// Address only (the engine probed from another socket): the
		// port the peers know is assumed kept.
		got = netip.AddrPortFrom(got.Addr(), st.announced.Port())
	}
	switch {
	case got == st.announced:
		if st.changed() {
			s.opts.Logf("tunnel %s: this computer's public address is %s again, as announced", cfg.Name, got)
		}
		st.current, st.updates, st.caught, st.caughtAll = got, nil, nil, false
	case got == st.current && st.caughtAll:
		// Every peer has been heard from since the change, and the
		// address still holds: it is the one to announce from now on. (A
		// port seen while a router held a wrong entry is gone again by
		// then, and the case above applies.)
		ep := conf.Endpoint{Host: got.Addr().String(), Port: got.Port()}
		if err := s.saveAnnounced(cfg.Name, ep); err != nil {
			s.opts.Logf("tunnel %s: remember the new public address %s: %v", cfg.Name, got, err)
			return
		}
		s.opts.Logf("tunnel %s: every peer has this computer's new public address %s", cfg.Name, got)
		st.announced, st.updates, st.caught, st.caughtAll = got, nil, nil, false
	case got != st.current:
		st.caughtAll = false
		st.current, st.changedAt = got, now
		st.caught = map[wgtypes.Key]bool{}
		st.updates = map[wgtypes.Key]string{}
		for _, p := range cfg.Peers {
			tok, err := invite.NewUpdate(cfg.Interface.PrivateKey.PublicKey(), p.PublicKey, got, now).Encode(cfg.Interface.PrivateKey, p.PublicKey, p.PresharedKey)
			if err != nil {
				s.opts.Logf("tunnel %s: make the address update for %s: %v", cfg.Name, nameOr(p.Meta.Name), err)
				continue
			}
			st.updates[p.PublicKey] = tok
		}
		s.opts.Logf("tunnel %s: this computer's public address changed from %s to %s; status shows the update to send each peer", cfg.Name, st.announced, got)
	}
}

// catchUp marks the peers heard from since the change (a handshake or
// packets after it); once all have, the next probe, at once, saves the
// new address as announced if it still holds (observe). It reports whether some peer is
// not connected (checks are then more frequent).
func (s *Service) catchUp(cfg *conf.Config, up map[string]string, st *selfState) (silent bool) {
	s.monMu.Lock()
	rep := s.mon.Snapshot([]*conf.Config{cfg}, up)
	s.monMu.Unlock()
	if rep == nil || len(rep.Tunnels) == 0 {
		return false
	}
	s.aw.mu.Lock()
	defer s.aw.mu.Unlock()
	all := true
	for _, p := range rep.Tunnels[0].Peers {
		if p.State != StateConnected {
			silent = true
		}
		if !st.changed() {
			continue
		}
		k, err := conf.ParseKey(p.PublicKey)
		if err != nil {
			continue
		}
		// Heard from since the change: a handshake, or packets (a
		// session that outlived the change carries on without one).
		if heardAfter(p.LastHandshake, st.changedAt) || heardAfter(p.LastReceive, st.changedAt) {
			st.caught[k] = true
		}
		if !st.caught[k] {
			all = false
		}
	}
	if st.changed() && all && !st.caughtAll {
		// Look once more before saving it (observe).
		st.caughtAll, st.due = true, true
	}
	return silent
}

func heardAfter(t *time.Time, since time.Time) bool { return t != nil && t.After(since) }

// saveAnnounced stores ep as the tunnel's announced public endpoint.
func (s *Service) saveAnnounced(name string, ep conf.Endpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err := s.st.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := s.load(name)
	if err != nil {
		return err
	}
	cfg.Interface.Meta.PublicEndpoint = ep
	return s.save(cfg)
}

// selfFacts is what the watch says about tunnel name for peer k: whether
// our address changed and the peer has not caught up (with the new
// address and the update to send), and whether UDP seems blocked.
func (s *Service) selfFacts(name string, k wgtypes.Key) (changed bool, now netip.AddrPort, update string, udpBlocked bool) {
	s.aw.mu.Lock()
	defer s.aw.mu.Unlock()
	st := s.aw.state[name]
	if st == nil {
		return false, netip.AddrPort{}, "", false
	}
	udpBlocked = st.failures >= 2
	if st.changed() && !st.caught[k] {
		return true, st.current, st.updates[k], udpBlocked
	}
	return false, netip.AddrPort{}, "", udpBlocked
}

// selfWarnings are the public-address-changed warnings of cfg: one per
// peer still to be told, with its update.
func (s *Service) selfWarnings(cfg *conf.Config) []Warning {
	var out []Warning
	for _, p := range cfg.Peers {
		changed, now, upd, _ := s.selfFacts(cfg.Name, p.PublicKey)
		if !changed || upd == "" {
			continue
		}
		who := nameOr(p.Meta.Name)
		out = append(out, Warning{Code: "public-address-changed", Peer: p.Meta.Name, Update: upd,
			Message: fmt.Sprintf("Your internet address changed (now %s, was %s): send this update to %s. They paste it into WG Punch, or run wgpunch accept with their name for this link and the line.", now, cfg.Interface.Meta.PublicEndpoint, who)})
	}
	return out
}

// endpointAddrPort is ep as an address and port; invalid for a zero or
// hostname endpoint.
func endpointAddrPort(ep conf.Endpoint) netip.AddrPort {
	a, err := netip.ParseAddr(ep.Host)
	if err != nil || ep.Port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), ep.Port)
}
