package netinfo

import "net/netip"

// WideBits is the shortest prefix length a route may have and still be
// taken over: a route wider than /8 (a default route, or the 0.0.0.0/1
// halves a VPN installs) says where everything else goes, and a tunnel's
// narrower route beside it takes nothing from it. It equals conf.MinLANBits,
// the widest LAN a tunnel may share.
const WideBits = 8

// Clash returns the first of routes, not on interface skip, that a route
// to p would take over or be taken over by: the same prefix, one that
// contains p or one inside p. Routes wider than /WideBits do not count,
// on either side: a p that wide (0.0.0.0/1 in a VPN provider's config)
// takes nothing from the narrower routes inside it, which still win.
func Clash(p netip.Prefix, routes []Route, skip string) (Route, bool) {
	p = p.Masked()
	if p.Bits() < WideBits {
		return Route{}, false
	}
	for _, r := range routes {
		if skip != "" && r.Iface == skip {
			continue
		}
		if !r.Prefix.IsValid() || r.Prefix.Bits() < WideBits || r.Prefix.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		if r.Prefix.Overlaps(p) {
			return r, true
		}
	}
	return Route{}, false
}

// Relation says how route r stands to p, in words: "the same subnet as",
// "a subnet containing" or "a subnet inside".
func Relation(p, r netip.Prefix) string {
	p, r = p.Masked(), r.Masked()
	switch {
	case p == r:
		return "the same subnet"
	case r.Bits() < p.Bits():
		return "a wider subnet that contains it"
	default:
		return "a narrower subnet inside it"
	}
}
