package exchange

import (
	"fmt"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

// RouteClash is the accept-time half of "never take over a route": it
// names what on this machine a route to p would take over or be shadowed
// by — a route or subnet of another interface, or a prefix another of our
// tunnels routes (its subnet, addresses or peers' AllowedIPs) — equal,
// containing or contained (netinfo.Clash; routes wider than /8 do not
// count). self is the tunnel being planned, whose own routes are not a
// clash. The engine applies the same rule when a tunnel comes up, and
// skips (with a warning) what clashes then.
func (f *Facts) RouteClash(p netip.Prefix, self string) (what string, bad bool) {
	p = p.Masked()
	tunnels := map[string]bool{}
	for _, c := range f.Configs {
		tunnels[c.Name] = true
		if c.Name == self {
			continue
		}
		var theirs []netinfo.Route
		if c.Interface.Meta.Subnet.IsValid() {
			theirs = append(theirs, netinfo.Route{Prefix: c.Interface.Meta.Subnet.Masked()})
		}
		for _, a := range c.Interface.Addresses {
			theirs = append(theirs, netinfo.Route{Prefix: a.Masked()})
		}
		for _, peer := range c.Peers {
			for _, a := range peer.AllowedIPs {
				theirs = append(theirs, netinfo.Route{Prefix: a.Masked()})
			}
		}
		if r, ok := netinfo.Clash(p, theirs, ""); ok {
			return fmt.Sprintf("%s, which your tunnel %q already routes (%s)", r.Prefix, c.Name, netinfo.Relation(p, r.Prefix)), true
		}
	}
	for _, r := range f.Routes {
		if tunnels[r.Iface] {
			continue // a tunnel's interface: named above by its config
		}
		if _, ok := netinfo.Clash(p, []netinfo.Route{r}, ""); ok {
			return fmt.Sprintf("%s, which this machine already reaches through %s (%s)", r.Prefix, r.Iface, netinfo.Relation(p, r.Prefix)), true
		}
	}
	return "", false
}

// SuggestSubnet is a tunnel subnet free on this machine, for a message
// that asks the other side to invite again with it: a random 10.x.y.0/24,
// else one of 172.16.0.0/12 or 192.168.0.0/16; invalid if every one is
// taken.
func (f *Facts) SuggestSubnet() netip.Prefix {
	used := f.UsedPrefixes()
	if p, err := f.PickSubnet(used); err == nil {
		return p
	}
	for _, base := range [][2]byte{{172, 16}, {192, 168}} {
		n := 16
		if base[0] == 192 {
			n = 1
		}
		for hi := range n {
			for lo := range 256 {
				p := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1] + byte(hi), byte(lo), 0}), 24)
				if _, bad := OverlapsAny(p, used); !bad {
					return p
				}
			}
		}
	}
	return netip.Prefix{}
}

// checkSubnet refuses a tunnel subnet the user chose (invite --subnet):
// IPv4, /16 to /30 (room for peers, FreeHost), private unless allowPublic,
// and free on this machine.
func (f *Facts) checkSubnet(p netip.Prefix, allowPublic bool) error {
	if !p.Addr().Is4() || p.Bits() < 16 || p.Bits() > 30 {
		return invalidf("the tunnel subnet %s cannot be used: it must be an IPv4 subnet from /16 to /30, like 10.42.7.0/24. Nothing was saved", p)
	}
	if p != p.Masked() {
		return invalidf("the tunnel subnet %s has host bits set; did you mean %s? Nothing was saved", p, p.Masked())
	}
	if why := f.NotPrivate(p, allowPublic); why != "" {
		return invalidf("the tunnel subnet %s cannot be used, because %s. Nothing was saved", p, why)
	}
	if what, bad := f.RouteClash(p, ""); bad {
		return invalidf("the tunnel subnet %s overlaps %s; this machine would lose its way there. Nothing was saved. Pick another subnet%s", p, what, f.suggestion())
	}
	return nil
}

// suggestion is ", for example 10.x.y.0/24 (free here)" or "".
func (f *Facts) suggestion() string {
	if s := f.SuggestSubnet(); s.IsValid() {
		return fmt.Sprintf(", for example %s (free here)", s)
	}
	return ""
}

// checkPeerRoutes refuses the first of the other side's LANs that would
// take over a route here; peer names them, self is the tunnel planned,
// and fix says what to do (ends the message).
func (f *Facts) checkPeerRoutes(lans []netip.Prefix, peer, self, fix string) error {
	for _, l := range lans {
		if what, bad := f.RouteClash(l, self); bad {
			return invalidf("%s shares its LAN %s, which overlaps %s. Routing it into the tunnel would take that network away from this machine, so nothing was saved. %s", peer, l.Masked(), what, fix)
		}
	}
	return nil
}

// netinfo.WideBits must equal conf.MinLANBits: each array length is
// negative, and the build fails, if they differ.
var (
	_ [conf.MinLANBits - netinfo.WideBits]struct{}
	_ [netinfo.WideBits - conf.MinLANBits]struct{}
)

// ownLANClash refuses a LAN of the other side that overlaps one we share
// (a LAN behind a router may have no route here for RouteClash to see).
func ownLANClash(theirs, ours []netip.Prefix, peer, fix string) error {
	for _, l := range theirs {
		if q, ok := OverlapsAny(l, ours); ok {
			return invalidf("%s shares its LAN %s, which overlaps %s that this machine shares; the two could not be told apart, so nothing was saved. %s", peer, l.Masked(), q, fix)
		}
	}
	return nil
}
