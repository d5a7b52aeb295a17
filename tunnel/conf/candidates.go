package conf

import (
	"fmt"
	"net/netip"
)

// PathKind is how a link reaches a peer: over the shared LAN, over IPv6, or
// over (punched) IPv4.
type PathKind string

const (
	PathLAN  PathKind = "lan"
	PathIPv6 PathKind = "ipv6"
	PathIPv4 PathKind = "ipv4"
)

// Words names the path for the user ("direct over IPv6").
func (k PathKind) Words() string {
	switch k {
	case PathLAN:
		return "direct over the local network"
	case PathIPv6:
		return "direct over IPv6"
	case PathIPv4:
		return "direct over IPv4"
	}
	return ""
}

// rank orders the kinds by preference: LAN, then IPv6, then IPv4.
func (k PathKind) rank() int {
	switch k {
	case PathLAN:
		return 0
	case PathIPv6:
		return 1
	}
	return 2
}

// Better reports whether k is preferred over other.
func (k PathKind) Better(other PathKind) bool { return k.rank() < other.rank() }

// Candidate is one address a peer may be reached at.
type Candidate struct {
	Kind PathKind
	Addr netip.AddrPort
}

// Candidates lists where peer p of tunnel c may be reached, best first:
// its LAN address when both sides sit behind the same public IPv4 address
// (one NAT: no hairpin needed; known when the exchange chose the LAN
// address, or when the peer's public IPv4 equals the one this side
// announced), then its public IPv6, then its public IPv4. The peer's
// Endpoint, when it is an IP literal none of those names (a --endpoint
// given by hand, an older config), comes in its place by family. A
// hostname Endpoint gives no candidates: dynamic DNS decides its address.
func Candidates(c *Config, p *Peer) []Candidate {
	if c == nil || p == nil {
		return nil
	}
	if !p.Endpoint.IsZero() {
		if _, ok := p.Endpoint.AddrPort(); !ok {
			return nil
		}
	}
	ap := func(e Endpoint) netip.AddrPort {
		a, ok := e.AddrPort()
		if !ok {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	ep, lan, v4, v6 := ap(p.Endpoint), ap(p.Meta.LANEndpoint), ap(p.Meta.Endpoint4), ap(p.Meta.Endpoint6)
	if ep.IsValid() && ep != lan && ep != v4 && ep != v6 {
		if ep.Addr().Is6() {
			v6 = ep
		} else {
			v4 = ep
		}
	}
	var out []Candidate
	own := ap(c.Interface.Meta.PublicEndpoint)
	sameNAT := lan.IsValid() && (ep == lan || v4.IsValid() && own.IsValid() && own.Addr().Is4() && own.Addr() == v4.Addr())
	if sameNAT {
		out = append(out, Candidate{PathLAN, lan})
	}
	if v6.IsValid() {
		out = append(out, Candidate{PathIPv6, v6})
	}
	if v4.IsValid() && v4 != lan || v4.IsValid() && !sameNAT {
		out = append(out, Candidate{PathIPv4, v4})
	}
	return out
}

// PathOf names the path an endpoint in use (WireGuard's, which follows the
// peer's packets) belongs to: the kind of the candidate it is; otherwise
// IPv6 for an IPv6 address, LAN for the LAN candidate's address on another
// port, IPv4 for the rest (a NAT may show another port than announced).
// Empty for no endpoint.
func PathOf(cands []Candidate, ep netip.AddrPort) PathKind {
	if !ep.IsValid() {
		return ""
	}
	ep = netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())
	for _, c := range cands {
		if c.Addr == ep {
			return c.Kind
		}
	}
	if ep.Addr().Is6() {
		return PathIPv6
	}
	for _, c := range cands {
		if c.Kind == PathLAN && c.Addr.Addr() == ep.Addr() {
			return PathLAN
		}
	}
	return PathIPv4
}

// parseCandidate reads a public candidate: an IP literal of the given
// family (4 or 6) with a port.
func parseCandidate(v string, family int) (Endpoint, error) {
	e, err := ParseEndpoint(v)
	if err != nil {
		return Endpoint{}, err
	}
	a, ok := e.AddrPort()
	if !ok {
		return Endpoint{}, fmt.Errorf("%q is a name, not an IPv%d address: write the address the other side announced, like %s, or remove the line", v, family, example(family))
	}
	if is4 := a.Addr().Unmap().Is4(); is4 != (family == 4) {
		return Endpoint{}, fmt.Errorf("%q is not an IPv%d address: write one like %s, or remove the line", v, family, example(family))
	}
	return e, nil
}

func example(family int) string {
	if family == 4 {
		return "203.0.113.7:51820"
	}
	return "[2001:db8::7]:51820"
}
