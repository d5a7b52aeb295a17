package exchange

import (
	"fmt"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// LAN aliases (issue 13, docs/engine.md "LAN aliases"): when the other
// side shares a LAN that overlaps a network of this side, this side
// reaches it through an alias, a free private subnet of the same size,
// and the other side's gateway translates. The inviter offers a pool
// (invite.Invite.AliasPool) free on its side; the accepter aliases the
// inviter's clashing LANs itself (free on its side) and offers an alias
// inside the pool for each LAN it shares; the inviter uses the offers it
// needs. Both sides store the result (conf.PeerMeta.ReachAs, ServeAs), so
// re-applies, restarts and re-invites keep it.

// aliasAvoid is everything an alias or alias pool chosen on this machine
// must not overlap: UsedPrefixes (routes, tunnel subnets and addresses,
// every peer's AllowedIPs, so its LANs and aliases), every LAN our
// tunnels share and every alias we serve, and extra.
func (f *Facts) aliasAvoid(extra ...[]netip.Prefix) []netip.Prefix {
	out := f.UsedPrefixes()
	for _, c := range f.Configs {
		out = append(out, c.Interface.Meta.LANs...)
		for _, p := range c.Peers {
			out = append(out, p.Meta.LANs...)
			for _, a := range p.Meta.ServeAs {
				out = append(out, a.As)
			}
		}
	}
	for _, e := range extra {
		out = append(out, e...)
	}
	return out
}

// pickPool returns a random 10.x.0.0/16 overlapping nothing in avoid,
// preferring keep (the pool of an earlier copy of the same invite) when it
// is still free; invalid when none is free (the invite then has no pool,
// and a clash is refused as before aliases).
func (f *Facts) pickPool(keep netip.Prefix, avoid []netip.Prefix) netip.Prefix {
	if keep.IsValid() {
		if _, bad := OverlapsAny(keep, avoid); !bad {
			return keep
		}
	}
	for range 256 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(1 + f.intN(254)), 0, 0}), invite.AliasPoolBits)
		if _, bad := OverlapsAny(p, avoid); !bad {
			return p
		}
	}
	for x := 1; x < 255; x++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(x), 0, 0}), invite.AliasPoolBits)
		if _, bad := OverlapsAny(p, avoid); !bad {
			return p
		}
	}
	return netip.Prefix{}
}

// aliasable says why lan cannot have an alias ("" when it can): only
// IPv4 LANs of /16 or narrower fit an alias pool.
func aliasable(lan netip.Prefix) string {
	switch {
	case !lan.Addr().Is4():
		return "only IPv4 LANs can be reached through an alias"
	case lan.Bits() < invite.AliasPoolBits:
		return fmt.Sprintf("a LAN wider than /%d cannot be reached through an alias", invite.AliasPoolBits)
	}
	return ""
}

// inPool is lan moved into pool: pool's network bits, lan's lower bits
// (192.168.1.0/24 in 10.201.0.0/16 is 10.201.1.0/24), so host numbers
// stay recognisable.
func inPool(lan, pool netip.Prefix) netip.Prefix {
	l, p := lan.Addr().As4(), pool.Addr().As4()
	l[0], l[1] = p[0], p[1]
	return netip.PrefixFrom(netip.AddrFrom4(l), lan.Bits())
}

// offerIn picks an alias for lan inside pool overlapping nothing in
// avoid: lan's own lower bits first, then the first free slot.
func offerIn(lan, pool netip.Prefix, avoid []netip.Prefix) (netip.Prefix, bool) {
	c := inPool(lan, pool)
	if _, bad := OverlapsAny(c, avoid); !bad {
		return c, true
	}
	step := uint32(1) << (32 - lan.Bits())
	base := pool.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16
	for n := uint32(0); n < 1<<(32-invite.AliasPoolBits); n += step {
		v := start + n
		c := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), lan.Bits())
		if _, bad := OverlapsAny(c, avoid); !bad {
			return c, true
		}
	}
	return netip.Prefix{}, false
}

// pickAlias picks an alias free on this machine for lan, a LAN of the
// other side: a random 10.x pool with lan's lower bits, else any free
// slot; free means overlapping nothing in avoid and no route (RouteClash).
func (f *Facts) pickAlias(lan netip.Prefix, avoid []netip.Prefix, self string) (netip.Prefix, bool) {
	free := func(c netip.Prefix) bool {
		if _, bad := OverlapsAny(c, avoid); bad {
			return false
		}
		_, bad := f.RouteClash(c, self)
		return !bad
	}
	for range 256 {
		pool := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(1 + f.intN(254)), 0, 0}), invite.AliasPoolBits)
		if c := inPool(lan, pool); free(c) {
			return c, true
		}
	}
	for x := 1; x < 255; x++ {
		pool := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(x), 0, 0}), invite.AliasPoolBits)
		if _, bad := OverlapsAny(pool, avoid); bad {
			continue
		}
		if c, ok := offerIn(lan, pool, avoid); ok && free(c) {
			return c, true
		}
	}
	return netip.Prefix{}, false
}

// lanClash names what lan, a LAN the other side shares, overlaps on this
// machine (bad true): inside the tunnel cfg (its subnet and addresses,
// its other peers' LANs and aliases), a route here or another tunnel
// (RouteClash; self is cfg's name once it exists), or a LAN this machine
// shares (ours).
func (f *Facts) lanClash(lan netip.Prefix, cfg *conf.Config, self string, ours []netip.Prefix) (what string, bad bool) {
	if what, bad := TunnelClash(lan, cfg); bad {
		return what, true
	}
	if what, bad := f.RouteClash(lan, self); bad {
		return what, true
	}
	if q, ok := OverlapsAny(lan, ours); ok {
		return fmt.Sprintf("%s that this machine shares", q), true
	}
	return "", false
}

// reachedPrefixes is lans with each aliased one replaced by its alias:
// what the peer's AllowedIPs carry.
func reachedPrefixes(lans []netip.Prefix, reach []conf.LANAlias) []netip.Prefix {
	m := conf.PeerMeta{ReachAs: reach}
	out := make([]netip.Prefix, len(lans))
	for i, l := range lans {
		out[i] = m.ReachedAs(l)
	}
	return out
}

// AliasExample is the sentence that explains an alias to the user:
// "Office B's 192.168.1.0/24 is reached here as 10.201.1.0/24: a device
// at 192.168.1.50 there is 10.201.1.50 here". The example host is .50
// when the LAN is that large, else its first host.
func AliasExample(peer string, a conf.LANAlias) string {
	if peer == "" {
		peer = "the other side"
	}
	host := a.LAN.Addr().Next()
	if a.LAN.Addr().Is4() && a.LAN.Bits() <= 25 {
		b := a.LAN.Addr().As4()
		b[3] += 50
		host = netip.AddrFrom4(b)
	}
	return fmt.Sprintf("%s's %s is reached here as %s: a device at %s there is %s here", peer, a.LAN, a.As, host, a.Translate(host))
}

// ServedExample says the other direction: "Office B reaches your
// 192.168.1.0/24 as 10.57.1.0/24 (your 192.168.1.50 is 10.57.1.50 there)".
func ServedExample(peer string, a conf.LANAlias) string {
	if peer == "" {
		peer = "the other side"
	}
	host := a.LAN.Addr().Next()
	if a.LAN.Addr().Is4() && a.LAN.Bits() <= 25 {
		b := a.LAN.Addr().As4()
		b[3] += 50
		host = netip.AddrFrom4(b)
	}
	return fmt.Sprintf("%s reaches your %s as %s (your %s is %s there)", peer, a.LAN, a.As, host, a.Translate(host))
}

// RouteCommands are the ways other computers of this office reach alias
// through this machine (via, its LAN address): a Linux command, a Windows
// command, and a router's static route.
func RouteCommands(alias netip.Prefix, via netip.Addr) []string {
	gw := "THIS-COMPUTER'S-LAN-ADDRESS"
	if via.IsValid() {
		gw = via.String()
	}
	out := []string{fmt.Sprintf("Linux: sudo ip route add %s via %s", alias, gw)}
	if alias.Addr().Is4() {
		m := net4Mask(alias.Bits())
		out = append(out, fmt.Sprintf("Windows: route -p add %s mask %s %s", alias.Addr(), m, gw))
	}
	return append(out, fmt.Sprintf("on your router: a static route to %s via %s", alias, gw))
}

func net4Mask(bits int) netip.Addr {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// aliasLANs returns the LANs of as.
func aliasLANs(as []conf.LANAlias) []netip.Prefix {
	out := make([]netip.Prefix, len(as))
	for i, a := range as {
		out[i] = a.LAN
	}
	return out
}

func aliasAs(as []conf.LANAlias) []netip.Prefix {
	out := make([]netip.Prefix, len(as))
	for i, a := range as {
		out[i] = a.As
	}
	return out
}
