package control

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/ports"
)

// checkPort says whether tunnel self may use port: not another of our
// tunnels' port, and free on this machine unless self already holds it.
// The note warns when another WG Punch machine on the LAN announces it.
func (s *Service) checkPort(port uint16, self string, cfgs []*conf.Config) (note string, err error) {
	if port == 0 {
		return "", invalidf("port 0 is not allowed: WG Punch needs a fixed port (1-65535)")
	}
	for _, c := range cfgs {
		if c.Name != self && c.Interface.ListenPort == port {
			return "", portErrf("port %d already belongs to tunnel %q on this machine; choose another port, or leave the port out and WG Punch picks a free one", port, c.Name)
		}
	}
	held := false
	if _, up := s.ifaceOf(self); up {
		for _, c := range cfgs {
			if c.Name == self && c.Interface.ListenPort == port {
				held = true
			}
		}
	}
	if !held && !s.opts.PortFree(port) {
		sugg := ""
		if p, err := s.pickPort(cfgs); err == nil {
			sugg = fmt.Sprintf(" (%d is free)", p)
		}
		return "", portErrf("UDP port %d is in use by another program on this machine; choose another port%s, or leave the port out and WG Punch picks a free one", port, sugg)
	}
	for _, a := range s.lanPeers() {
		if a.Port == port {
			return fmt.Sprintf("%s on this LAN (%s) uses UDP port %d for WireGuard too; two machines behind one NAT should not share a port — consider another port", a.Host, a.Addr, port), nil
		}
	}
	return "", nil
}

// pickPort chooses a free port not used by our tunnels or announced on the LAN.
func (s *Service) pickPort(cfgs []*conf.Config) (uint16, error) {
	taken := map[uint16]bool{}
	for _, c := range cfgs {
		taken[c.Interface.ListenPort] = true
	}
	for _, a := range s.lanPeers() {
		taken[a.Port] = true
	}
	p, err := ports.Pick(func(p uint16) bool { return taken[p] || !s.opts.PortFree(p) })
	if err != nil {
		return 0, portErrf("no free UDP port found: %v", err)
	}
	return p, nil
}

// usedPrefixes is every prefix a new tunnel subnet must not overlap: local
// interface subnets and routes, and everything our tunnels use or route.
func (s *Service) usedPrefixes(cfgs []*conf.Config) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range s.net.Routes() {
		if r.Prefix.Bits() >= 8 {
			out = append(out, r.Prefix)
		}
	}
	for _, c := range cfgs {
		if c.Interface.Meta.Subnet.IsValid() {
			out = append(out, c.Interface.Meta.Subnet)
		}
		for _, a := range c.Interface.Addresses {
			out = append(out, a.Masked())
		}
		for _, p := range c.Peers {
			for _, a := range p.AllowedIPs {
				if a.Bits() >= 8 {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

func overlapsAny(p netip.Prefix, list []netip.Prefix) (netip.Prefix, bool) {
	for _, q := range list {
		if q.IsValid() && p.Overlaps(q) {
			return q, true
		}
	}
	return netip.Prefix{}, false
}

// pickSubnet returns a random 10.x.y.0/24 overlapping nothing in avoid.
func pickSubnet(avoid []netip.Prefix) (netip.Prefix, error) {
	for range 512 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(1 + rand.IntN(254)), byte(rand.IntN(256)), 0}), 24)
		if _, bad := overlapsAny(p, avoid); !bad {
			return p, nil
		}
	}
	return netip.Prefix{}, errors.New("no free 10.x.y.0/24 subnet for the tunnel: every one overlaps a local network or route")
}

// hostAddr is host number n of subnet, as an interface address with the
// subnet's length (10.x.y.n/24).
func hostAddr(subnet netip.Prefix, n int) netip.Prefix {
	a := subnet.Masked().Addr().As4()
	a[3] += byte(n)
	return netip.PrefixFrom(netip.AddrFrom4(a), subnet.Bits())
}

// freeHost picks an unused host address in cfg's subnet for another peer.
func freeHost(cfg *conf.Config) (netip.Prefix, error) {
	sub := cfg.Interface.Meta.Subnet
	if !sub.IsValid() || !sub.Addr().Is4() || sub.Bits() < 16 || sub.Bits() > 30 {
		if len(cfg.Interface.Addresses) == 0 {
			return netip.Prefix{}, errors.New("the tunnel has no subnet to give the new peer an address from")
		}
		sub = cfg.Interface.Addresses[0].Masked()
		if !sub.Addr().Is4() || sub.Bits() < 16 || sub.Bits() > 30 {
			return netip.Prefix{}, fmt.Errorf("the tunnel's address %s leaves no room for another peer", cfg.Interface.Addresses[0])
		}
	}
	used := map[netip.Addr]bool{}
	for _, a := range cfg.Interface.Addresses {
		used[a.Addr()] = true
	}
	for _, p := range cfg.Peers {
		for _, a := range p.AllowedIPs {
			used[a.Addr()] = true
		}
	}
	size := 1 << (32 - sub.Bits())
	for n := 2; n < size-1 && n < 255; n++ {
		h := hostAddr(sub, n)
		if !used[h.Addr()] {
			return h, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free address left in the tunnel subnet %s", sub)
}

// parseLANs parses --lan CIDRs.
func parseLANs(in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range in {
		for _, f := range strings.Split(raw, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, invalidf("LAN %q is not a network in CIDR form; write it like 192.168.1.0/24", f)
			}
			if p.Bits() == 0 {
				return nil, invalidf("LAN %q would send all traffic through the tunnel; share only your LAN, like 192.168.1.0/24", f)
			}
			if p.Bits() < invite.MinLANBits {
				return nil, invalidf("LAN %q is too wide for a local network (shorter than /%d) and would route much of the internet through the tunnel; share only your LAN, like 192.168.1.0/24", f, invite.MinLANBits)
			}
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

func ourPublicKeys(cfgs []*conf.Config) map[string]string {
	m := map[string]string{}
	for _, c := range cfgs {
		m[c.Interface.PrivateKey.PublicKey().String()] = c.Name
	}
	return m
}

// tunnelClash says whether lan, shared by a new peer of cfg, overlaps the
// tunnel's own subnet or addresses, or the AllowedIPs of cfg's other peers.
// Inside one tunnel WireGuard routes by AllowedIPs, so such a LAN would take
// over traffic meant for the tunnel or for another peer: it is refused, not
// just warned about. what describes the overlapped part for the error.
func tunnelClash(lan netip.Prefix, cfg *conf.Config) (what string, bad bool) {
	var own []netip.Prefix
	if cfg.Interface.Meta.Subnet.IsValid() {
		own = append(own, cfg.Interface.Meta.Subnet.Masked())
	}
	for _, a := range cfg.Interface.Addresses {
		own = append(own, a.Masked())
	}
	if q, ok := overlapsAny(lan, own); ok {
		return fmt.Sprintf("the tunnel subnet %s", q), true
	}
	for _, p := range cfg.Peers {
		if q, ok := overlapsAny(lan, p.AllowedIPs); ok {
			name := p.Meta.Name
			if name == "" {
				name = p.PublicKey.String()
			}
			return fmt.Sprintf("%s, already routed to peer %s in tunnel %s", q, name, cfg.Name), true
		}
	}
	return "", false
}
