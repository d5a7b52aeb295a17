package exchange

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// The private address space a link may route (RFC 1918, RFC 4193), and the
// shared address space of carrier-grade NAT (RFC 6598).
var (
	privateSpace = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("fc00::/7"),
	}
	cgnatSpace = netip.MustParsePrefix("100.64.0.0/10")
)

// MinIPv6LANBits is the shortest prefix an IPv6 LAN or tunnel subnet may
// have: one site (/48) or narrower.
const MinIPv6LANBits = 48

// privateRule is the rule every refusal names.
const privateRule = "WG Punch only routes private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7)"

// localCGNAT says whether this machine has an address or route in
// 100.64.0.0/10 (it sits behind carrier-grade NAT, or on Tailscale and the
// like): a link may then not route that space, or it would take it over.
func (f *Facts) localCGNAT() bool {
	for _, r := range f.Routes {
		if r.Prefix.IsValid() && r.Prefix.Overlaps(cgnatSpace) {
			return true
		}
	}
	for _, c := range f.Configs {
		for _, a := range c.Interface.Addresses {
			if cgnatSpace.Contains(a.Addr()) {
				return true
			}
		}
	}
	return false
}

// NotPrivate is the one home of the private-space rule: every prefix a
// link routes into a tunnel (the tunnel subnet, the other side's LANs) and
// every LAN we share must lie in private space (10/8, 172.16/12,
// 192.168/16, fc00::/7; 100.64/10 only when this machine has no address or
// route there), and an IPv6 one must be /48 or narrower. It returns ""
// when p is fine, else why not (the end of a sentence "..., but ...").
// allowPublic (the user's explicit opt-in on this side; nothing in a token
// can set it) lifts the private-space part, not the IPv6 width.
func (f *Facts) NotPrivate(p netip.Prefix, allowPublic bool) string {
	p = p.Masked()
	if p.Addr().Is6() && p.Bits() < MinIPv6LANBits {
		return fmt.Sprintf("an IPv6 network wider than /%d is more than one site: WG Punch only routes IPv6 networks of /%d or narrower", MinIPv6LANBits, MinIPv6LANBits)
	}
	if allowPublic {
		return ""
	}
	for _, q := range privateSpace {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return ""
		}
	}
	if cgnatSpace.Bits() <= p.Bits() && cgnatSpace.Contains(p.Addr()) {
		if !f.localCGNAT() {
			return ""
		}
		return "that is carrier-grade NAT space (100.64.0.0/10) this machine itself uses: " + privateRule
	}
	return "that is public internet address space: " + privateRule
}

// checkPrivate refuses the first prefix of list that NotPrivate refuses;
// what says whose it is, for the message ("the invite asks to route"), and
// ask what to do about it.
func (f *Facts) checkPrivate(list []netip.Prefix, allowPublic bool, what, ask string) error {
	for _, p := range list {
		if why := f.NotPrivate(p, allowPublic); why != "" {
			return invalidf("%s %s into the tunnel, but %s. Nothing was saved. %s", what, p.Masked(), why, ask)
		}
	}
	return nil
}

// checkOwnLANs refuses our own shared LANs outside private space.
func (f *Facts) checkOwnLANs(in Request) error {
	for _, p := range in.LANs {
		if why := f.NotPrivate(p, in.AllowPublicRoutes); why != "" {
			return invalidf("you asked to share %s, but %s. Nothing was saved. Share only your office LAN (like 192.168.1.0/24), or opt in with --allow-public-routes if you know why", p.Masked(), why)
		}
	}
	return nil
}

// Routing is what a link routes, for the user to see before relying on it:
// the tunnel subnet and the other side's LANs go into the tunnel; the other
// side reaches this machine at Self and our Shared LANs.
type Routing struct {
	Peer     string
	Subnet   netip.Prefix
	PeerLANs []netip.Prefix
	Self     netip.Addr
	Shared   []netip.Prefix
	// Aliases are the other side's LANs reached here through an alias
	// (PeerLANs carries the alias), Served our shared LANs the other side
	// reaches through one.
	Aliases, Served []conf.LANAlias
	// Via is this machine's LAN address, for the route other computers of
	// this office add to reach an alias (invalid: unknown). AliasLines
	// says it all; Summary only names the aliased LANs.
	Via netip.Addr
}

// Routes is everything the link sends into the tunnel: the subnet, then
// the other side's LANs.
func (r Routing) Routes() []string {
	out := []string{r.Subnet.Masked().String()}
	for _, l := range r.PeerLANs {
		out = append(out, l.String())
	}
	return out
}

// SharedLANs is our LANs the other side reaches, as strings.
func (r Routing) SharedLANs() []string {
	out := []string{}
	for _, l := range r.Shared {
		out = append(out, l.String())
	}
	return out
}

// Summary says it in plain words (the CLI and the wizard show the same).
func (r Routing) Summary() string {
	peer := r.Peer
	if peer == "" {
		peer = "the other side"
	}
	s := fmt.Sprintf("This link sends %s (the tunnel)", r.Subnet.Masked())
	if len(r.PeerLANs) > 0 {
		s += fmt.Sprintf(" and %s's %s (its shared LAN%s", peer, joinPrefixes(r.PeerLANs), plural(len(r.PeerLANs)))
		if len(r.Aliases) > 0 {
			s += fmt.Sprintf(", %s under an alias", joinPrefixes(aliasLANs(r.Aliases)))
		}
		s += ")"
	}
	s += " into the tunnel, nothing else. " + peer + " reaches this computer at " + r.Self.String()
	if len(r.Shared) > 0 {
		s += fmt.Sprintf(" and your shared %s.", joinPrefixes(r.Shared))
	} else {
		s += " only (you share no LAN)."
	}
	return s
}

// AliasLines explains the aliases, one sentence each: how this side
// reaches the other side's LANs, with the commands for other computers of
// this office, and how the other side reaches ours.
func (r Routing) AliasLines() []string {
	var out []string
	for _, a := range r.Aliases {
		s := AliasExample(r.Peer, a) + "."
		s += " Other computers in this office reach it through this one: " + strings.Join(RouteCommands(a.As, r.Via), "; ") + "."
		out = append(out, s)
	}
	for _, a := range r.Served {
		out = append(out, ServedExample(r.Peer, a)+".")
	}
	return out
}

func joinPrefixes(ps []netip.Prefix) string {
	s := ""
	for i, p := range ps {
		switch {
		case i == 0:
		case i == len(ps)-1:
			s += " and "
		default:
			s += ", "
		}
		s += p.String()
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
