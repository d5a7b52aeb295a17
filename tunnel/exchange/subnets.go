package exchange

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// UsedPrefixes is every prefix a new tunnel subnet must not overlap: local
// interface subnets and routes, and everything our tunnels use or route.
// Prefixes wider than a LAN (conf.MinLANBits) are not counted.
func (f *Facts) UsedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range f.Routes {
		if r.Prefix.Bits() >= conf.MinLANBits {
			out = append(out, r.Prefix)
		}
	}
	for _, c := range f.Configs {
		if c.Interface.Meta.Subnet.IsValid() {
			out = append(out, c.Interface.Meta.Subnet)
		}
		for _, a := range c.Interface.Addresses {
			out = append(out, a.Masked())
		}
		for _, p := range c.Peers {
			for _, a := range p.AllowedIPs {
				if a.Bits() >= conf.MinLANBits {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// OverlapsAny returns the first prefix of list that overlaps p.
func OverlapsAny(p netip.Prefix, list []netip.Prefix) (netip.Prefix, bool) {
	for _, q := range list {
		if q.IsValid() && p.Overlaps(q) {
			return q, true
		}
	}
	return netip.Prefix{}, false
}

// PickSubnet returns a random 10.x.y.0/24 overlapping nothing in avoid.
func (f *Facts) PickSubnet(avoid []netip.Prefix) (netip.Prefix, error) {
	for range 512 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(1 + f.intN(254)), byte(f.intN(256)), 0}), 24)
		if _, bad := OverlapsAny(p, avoid); !bad {
			return p, nil
		}
	}
	return netip.Prefix{}, errors.New("no free 10.x.y.0/24 subnet for the tunnel: every one overlaps a local network or route")
}

// HostAddr is host number n of subnet, as an interface address with the
// subnet's length (10.x.y.n/24).
func HostAddr(subnet netip.Prefix, n int) netip.Prefix {
	a := subnet.Masked().Addr().As4()
	a[3] += byte(n)
	return netip.PrefixFrom(netip.AddrFrom4(a), subnet.Bits())
}

// FreeHost picks an unused host address in cfg's subnet for another peer.
func FreeHost(cfg *conf.Config) (netip.Prefix, error) {
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
		h := HostAddr(sub, n)
		if !used[h.Addr()] {
			return h, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free address left in the tunnel subnet %s", sub)
}

// ParseLANs parses --lan CIDRs (each entry may hold several, comma
// separated). A LAN wider than conf.MinLANBits is refused.
func ParseLANs(in []string) ([]netip.Prefix, error) {
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
			if p.Bits() < conf.MinLANBits {
				return nil, invalidf("LAN %q is too wide for a local network (shorter than /%d) and would route much of the internet through the tunnel; share only your LAN, like 192.168.1.0/24", f, conf.MinLANBits)
			}
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

// ourPublicKeys maps our tunnels' public keys to their names.
func (f *Facts) ourPublicKeys() map[string]string {
	m := map[string]string{}
	for _, c := range f.Configs {
		m[c.Interface.PrivateKey.PublicKey().String()] = c.Name
	}
	return m
}

// TunnelClash says whether lan, shared by a new peer of cfg, overlaps the
// tunnel's own subnet or addresses, or the AllowedIPs of cfg's other peers.
// Inside one tunnel WireGuard routes by AllowedIPs, so such a LAN would take
// over traffic meant for the tunnel or for another peer: it is refused, not
// just warned about. what describes the overlapped part for the error.
func TunnelClash(lan netip.Prefix, cfg *conf.Config) (what string, bad bool) {
	var own []netip.Prefix
	if cfg.Interface.Meta.Subnet.IsValid() {
		own = append(own, cfg.Interface.Meta.Subnet.Masked())
	}
	for _, a := range cfg.Interface.Addresses {
		own = append(own, a.Masked())
	}
	if q, ok := OverlapsAny(lan, own); ok {
		return fmt.Sprintf("the tunnel subnet %s", q), true
	}
	for _, p := range cfg.Peers {
		if q, ok := OverlapsAny(lan, p.AllowedIPs); ok {
			name := p.Meta.Name
			if name == "" {
				name = p.PublicKey.String()
			}
			return fmt.Sprintf("%s, already routed to peer %s in tunnel %s", q, name, cfg.Name), true
		}
	}
	return "", false
}

// SuggestName turns a display name into a tunnel name suggestion.
func SuggestName(display string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(display) {
		if b.Len() >= 15 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "peer"
	}
	return b.String()
}
