package control

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/diagnose"
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/exchange"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
	"github.com/wgpunch/wgpunch/tunnel/ports"
)

// Status returns every tunnel (name == "") or one, with warnings.
func (s *Service) Status(ctx context.Context, name string) (*Report, error) {
	all, bad := s.loadAll()
	var cfgs []*conf.Config
	if name != "" {
		cfg, err := s.load(name)
		if err != nil {
			return nil, err
		}
		cfgs = []*conf.Config{cfg}
		bad = nil
	} else {
		cfgs = all
	}
	up := s.upSnapshot()
	s.monMu.Lock()
	rep := s.mon.Snapshot(cfgs, up)
	s.monMu.Unlock()
	if rep == nil {
		rep = &Report{}
	}
	warn := s.warnings(all, up)
	// The exchange codes stored at accept time, and the rest of what the
	// exchange recorded, by tunnel and peer key.
	stored := map[string]map[wgtypes.Key]string{}
	metas := map[string]map[wgtypes.Key]conf.PeerMeta{}
	for _, c := range cfgs {
		m := map[wgtypes.Key]string{}
		pm := map[wgtypes.Key]conf.PeerMeta{}
		for _, p := range c.Peers {
			m[p.PublicKey] = p.Meta.SafetyCode
			pm[p.PublicKey] = p.Meta
		}
		stored[c.Name], metas[c.Name] = m, pm
	}
	now := s.opts.Now()
	s.upMu.RLock()
	for i := range rep.Tunnels {
		t := &rep.Tunnels[i]
		t.Warnings = append(t.Warnings, warn[t.Name]...)
		if t.Error == "" {
			t.Error = s.upErr[t.Name]
		}
		if t.Warnings == nil {
			t.Warnings = []Warning{}
		}
		if t.Peers == nil {
			t.Peers = []PeerStatus{}
		}
		if own, err := conf.ParseKey(t.PublicKey); err == nil {
			for j := range t.Peers {
				pk, err := conf.ParseKey(t.Peers[j].PublicKey)
				if err != nil || t.Peers[j].SafetyCode != "" {
					continue
				}
				c := invite.StoredCode(stored[t.Name][pk], own, pk)
				t.Peers[j].SafetyCode, t.Peers[j].SafetyCodeKeysOnly = c.Text, c.KeysOnly
			}
		}
		for j := range t.Peers {
			p := &t.Peers[j]
			pk, _ := conf.ParseKey(p.PublicKey)
			p.Diagnosis = diagnose.For(s.diagnosisFacts(t, p, pk, metas[t.Name][pk], now))
		}
	}
	s.upMu.RUnlock()
	// The gateway other office computers route an alias through.
	lanAddr := ""
	for i := range rep.Tunnels {
		t := &rep.Tunnels[i]
		for _, p := range t.Peers {
			if !slices.ContainsFunc(p.LANs, monitor.LANStatus.Aliased) {
				continue
			}
			if lanAddr == "" {
				if a := s.net.PrimaryIPv4(s.runningIfaces()); a.IsValid() {
					lanAddr = a.String()
				}
			}
			t.LANAddress = lanAddr
		}
	}
	for n, err := range bad {
		if n == "" {
			return nil, fmt.Errorf("list tunnels in %s: %w", s.st.Dir(), err)
		}
		rep.Tunnels = append(rep.Tunnels, TunnelStatus{Name: n, Error: err.Error(), Peers: []PeerStatus{}, Warnings: []Warning{}})
	}
	slices.SortFunc(rep.Tunnels, func(a, b TunnelStatus) int { return strings.Compare(a.Name, b.Name) })
	if rep.Tunnels == nil {
		rep.Tunnels = []TunnelStatus{}
	}
	return rep, nil
}

// diagnosisFacts gathers what the daemon knows about peer p of tunnel t
// (read under upMu).
func (s *Service) diagnosisFacts(t *TunnelStatus, p *PeerStatus, pk wgtypes.Key, meta conf.PeerMeta, now time.Time) diagnose.Facts {
	f := diagnose.Facts{Peer: p.Name, Tunnel: t.Name, State: p.State, PeerVerdict: meta.NATVerdict, PeerMapping: meta.NATMapping}
	var own netip.AddrPort
	f.OwnAddressChanged, own, _, f.UDPBlocked = s.selfFacts(t.Name, pk)
	if own.IsValid() {
		f.OwnAddress = own.String()
	}
	f.PeerOnly, f.NoOwnIPv4, f.NoOwnIPv6 = s.familyFacts(t.Name, pk)
	if rf, ok := s.eng.(engine.Recoverer); ok && t.Up {
		f.RecoveringFor = rf.Recovering(t.Name, pk)
	}
	if !t.Up {
		f.State = StateDown
	}
	if since, ok := s.since[t.Name]; ok {
		f.UpFor = now.Sub(since)
	}
	if p.LastHandshake != nil {
		f.EverConnected = true
		last := *p.LastHandshake
		if p.LastReceive != nil && p.LastReceive.After(last) {
			last = *p.LastReceive
		}
		f.SinceContact = now.Sub(last)
	}
	return f
}

// familyFacts says which one IP version the peer of tunnel name can only be
// reached over ("" if both or unknown), and whether this computer lacks an
// internet connection of either version: IPv6 by having no global IPv6
// address now, IPv4 by the exchange's NAT check having found no public
// IPv4 address.
func (s *Service) familyFacts(name string, pk wgtypes.Key) (only string, no4, no6 bool) {
	cfg, err := s.load(name)
	if err != nil {
		return "", false, false
	}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		if p.PublicKey != pk {
			continue
		}
		// A LAN address counts only as a candidate (behind the same
		// NAT); elsewhere it cannot be reached.
		var has4, has6 bool
		for _, c := range conf.Candidates(cfg, p) {
			has6 = has6 || c.Kind == conf.PathIPv6
			has4 = has4 || c.Kind != conf.PathIPv6
		}
		switch {
		case has6 && !has4:
			only = "ipv6"
		case has4 && !has6:
			only = "ipv4"
		}
	}
	// The exchange's NAT check ran (a verdict is stored) and found no
	// public IPv4 address to announce (only IPv6: the address watch then
	// has nothing to follow).
	m := cfg.Interface.Meta
	no4 = m.PublicEndpoint.IsZero() && m.NATVerdict != ""
	return only, no4, !s.opts.HasIPv6()
}

// hasGlobalIPv6 reports whether this machine has a global IPv6 address
// (not link-local, not unique-local): without one it has no IPv6 internet.
func hasGlobalIPv6() bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true // unknown: do not claim there is none
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ip, ok := netip.AddrFromSlice(n.IP)
			if ok && ip.Is6() && !ip.Is4In6() && ip.IsGlobalUnicast() && !ip.IsPrivate() {
				return true
			}
		}
	}
	return false
}

// warnings computes port-shared, nat-fail and subnet-overlap warnings by
// tunnel name.
func (s *Service) warnings(cfgs []*conf.Config, up map[string]string) map[string][]Warning {
	out := map[string][]Warning{}
	local := make([]ports.LocalTunnel, 0, len(cfgs))
	var peers []ports.PeerEndpoint
	for _, c := range cfgs {
		local = append(local, ports.LocalTunnel{Name: c.Name, Port: c.Interface.ListenPort})
		for _, p := range c.Peers {
			if p.Endpoint.IsZero() {
				continue
			}
			pn := p.Meta.Name
			if pn == "" {
				pn = p.PublicKey.String()[:8]
			}
			peers = append(peers, ports.PeerEndpoint{Tunnel: c.Name, Peer: pn, Endpoint: p.Endpoint.String()})
		}
	}
	f := s.factsOf(cfgs, nil)
	suggest := func() uint16 {
		p, err := f.PickPort()
		if err != nil {
			return 0
		}
		return p
	}
	for name, ws := range ports.Warnings(lanpeers.Self{Install: s.opts.InstallID, Host: s.opts.Hostname}, local, s.lanPeers(), peers, suggest) {
		out[name] = append(out[name], ws...)
	}

	for _, c := range cfgs {
		for _, p := range c.Peers {
			who := p.Meta.Name
			if who == "" {
				who = "peer " + p.PublicKey.String()[:8]
			}
			if p.Meta.NATVerdict == string(natcheck.VerdictFail) {
				if w := exchange.NATFailWarning(who, p.Meta.NATVerdict, p.Meta.NATMapping); w != nil {
					out[c.Name] = append(out[c.Name], *w)
				}
			}
			for _, l := range p.Meta.LANs {
				if p.Meta.ReachedAs(l) != l {
					continue // reached through an alias: not ambiguous
				}
				if q, ok := exchange.OverlapsAny(l, c.Interface.Meta.LANs); ok {
					out[c.Name] = append(out[c.Name], Warning{Code: "subnet-overlap",
						Message: fmt.Sprintf("%s shares LAN %s, which overlaps this machine's shared LAN %s; one side should stop sharing it or renumber", who, l, q)})
				}
			}
		}
		out[c.Name] = append(out[c.Name], routeClashes(c, up[c.Name], f.Routes)...)
		out[c.Name] = append(out[c.Name], s.selfWarnings(c)...)
	}
	return out
}

// routeClashes warns about every route of tunnel c (its subnet, its peers'
// LANs) that clashes with a route of another interface or tunnel
// (netinfo.Clash, the rule the engine applies at up). iface is the
// tunnel's interface while it is up, else "". Up, the code is
// route-clash and the words say whether the engine left the route out
// (Linux skips what clashes at up) or the tunnel routes it anyway (a
// route that appeared later, or an engine that cannot skip); down, it is
// subnet-overlap.
func routeClashes(c *conf.Config, iface string, routes []netinfo.Route) []Warning {
	type want struct {
		p    netip.Prefix
		what string
	}
	var list []want
	sub := c.Interface.Meta.Subnet
	if !sub.IsValid() && len(c.Interface.Addresses) > 0 {
		sub = c.Interface.Addresses[0].Masked()
	}
	if sub.IsValid() {
		list = append(list, want{sub.Masked(), "the tunnel subnet"})
	}
	for _, p := range c.Peers {
		who := p.Meta.Name
		if who == "" {
			who = "peer " + p.PublicKey.String()[:8]
		}
		for _, a := range p.AllowedIPs {
			if a.Bits() < netinfo.WideBits || (sub.IsValid() && sub.Bits() <= a.Bits() && sub.Contains(a.Addr())) {
				continue
			}
			list = append(list, want{a.Masked(), who + "'s LAN"})
		}
	}
	routed := map[netip.Prefix]bool{}
	for _, r := range routes {
		if iface != "" && r.Iface == iface {
			routed[r.Prefix.Masked()] = true
		}
	}
	var out []Warning
	for _, w := range list {
		r, ok := netinfo.Clash(w.p, routes, iface)
		if !ok {
			continue
		}
		rel := netinfo.Relation(w.p, r.Prefix)
		switch {
		case iface == "":
			out = append(out, Warning{Code: "subnet-overlap", Message: fmt.Sprintf("%s %s overlaps %s on this machine's %s (%s): addresses there are ambiguous, so WG Punch will not route it through the tunnel; one side should renumber", w.what, w.p, r.Prefix, r.Iface, rel)})
		case routed[w.p]:
			out = append(out, Warning{Code: "route-clash", Message: fmt.Sprintf("%s %s goes through the tunnel, but %s on %s overlaps it (%s): traffic for those addresses may go the wrong way; one side should renumber", w.what, w.p, r.Prefix, r.Iface, rel)})
		default:
			out = append(out, Warning{Code: "route-clash", Message: fmt.Sprintf("%s %s is not routed through the tunnel, because %s on %s overlaps it (%s) and WG Punch never takes a route over: this machine still reaches those addresses through %s. To reach them through the tunnel, one side must renumber", w.what, w.p, r.Prefix, r.Iface, rel, r.Iface)})
		}
	}
	return out
}

// Watch sends a fresh Report about once a second until ctx ends. All
// subscribers share one poller, which runs only while someone watches.
// Reports are shared between subscribers: do not modify them.
func (s *Service) Watch(ctx context.Context) (<-chan *Report, error) {
	ch := make(chan *Report, 1)
	s.watchMu.Lock()
	s.watchers[ch] = struct{}{}
	if s.watchStop == nil {
		stop := make(chan struct{})
		s.watchStop = stop
		go s.watchLoop(stop)
	}
	s.watchMu.Unlock()
	go func() {
		<-ctx.Done()
		s.watchMu.Lock()
		defer s.watchMu.Unlock()
		if _, ok := s.watchers[ch]; ok {
			delete(s.watchers, ch)
			close(ch)
		}
		if len(s.watchers) == 0 && s.watchStop != nil {
			close(s.watchStop)
			s.watchStop = nil
		}
	}()
	return ch, nil
}

func (s *Service) watchLoop(stop chan struct{}) {
	t := time.NewTicker(s.opts.WatchInterval)
	defer t.Stop()
	for {
		rep, err := s.Status(context.Background(), "")
		if err != nil {
			s.opts.Logf("watch: %v", err)
		} else {
			s.watchMu.Lock()
			for ch := range s.watchers {
				select { // keep only the newest report for slow readers
				case <-ch:
				default:
				}
				select {
				case ch <- rep:
				default:
				}
			}
			s.watchMu.Unlock()
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (s *Service) stopWatchers() {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for ch := range s.watchers {
		delete(s.watchers, ch)
		close(ch)
	}
	if s.watchStop != nil {
		close(s.watchStop)
		s.watchStop = nil
	}
}
