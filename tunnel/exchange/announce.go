package exchange

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// Addresses are how the other side will reach us: the endpoint to
// announce (IPv4 or a host name, or IPv6 when that is all there is), the
// IPv6 endpoint beside it (zero: none), our LAN endpoint, the NAT check's
// report (nil when the user gave the endpoints) and notes for the user.
type Addresses struct {
	Endpoint, Endpoint6, LAN conf.Endpoint
	NAT                      *natcheck.Report
	Notes                    []string
}

// IPv6 is our IPv6 candidate: Endpoint6, or Endpoint when it is an IPv6
// address itself; zero if none.
func (a *Addresses) IPv6() conf.Endpoint { return ipv6Of(a.Endpoint, a.Endpoint6) }

// ipv6Of is the IPv6 candidate among a side's public endpoints.
func ipv6Of(ep, ep6 conf.Endpoint) conf.Endpoint {
	if !ep6.IsZero() {
		return ep6
	}
	if a, err := netip.ParseAddr(ep.Host); err == nil && a.Is6() && !a.Is4In6() {
		return ep
	}
	return conf.Endpoint{}
}

// ipv4Doubtful reports whether this side's IPv4 can hardly be punched: its
// NAT check saw a per-destination mapping or failed over IPv4, or it
// announces no IPv4 endpoint (only IPv6).
func (a *Addresses) ipv4Doubtful() bool {
	if !ipv6Of(a.Endpoint, conf.Endpoint{}).IsZero() {
		return true
	}
	return a.NAT != nil && (a.NAT.Mapping == natcheck.MappingEndpointDependent || a.NAT.IPv4.Verdict == natcheck.VerdictFail)
}

// natFields are the NAT mapping and verdict to store and announce; "" when
// no check ran. The verdict is the overall one when an IPv6 endpoint is
// announced, else IPv4's: it is about the endpoints the other side gets.
func (a *Addresses) natFields() (mapping, verdict string) {
	if a.NAT == nil {
		return "", ""
	}
	v := a.NAT.IPv4.Verdict
	if v == "" || !a.IPv6().IsZero() { // "": a report from before the IPv6 half
		v = a.NAT.Verdict
	}
	return string(a.NAT.Mapping), string(v)
}

// natMessage is the words for natFields' verdict.
func (a *Addresses) natMessage() string {
	if a.NAT.IPv4.Message != "" && a.IPv6().IsZero() {
		return a.NAT.IPv4.Message
	}
	return a.NAT.Message
}

// watched is the announced endpoint the daemon's address watch compares
// with (conf.InterfaceMeta.PublicEndpoint): the one a NAT check found, an
// IP literal. An endpoint the user gave (--endpoint: a port forward, a
// dynamic-DNS name) is not watched.
func (a *Addresses) watched() conf.Endpoint {
	if a.NAT == nil || a.Endpoint.IsZero() {
		return conf.Endpoint{}
	}
	if ip, err := netip.ParseAddr(a.Endpoint.Host); err != nil || !ip.Is4() {
		return conf.Endpoint{} // the watch follows IPv4's NAT mapping only
	}
	return a.Endpoint
}

// LANEndpoint is our LAN address on port, zero if we have none.
func LANEndpoint(primary netip.Addr, port uint16) conf.Endpoint {
	if !primary.IsValid() {
		return conf.Endpoint{}
	}
	return conf.Endpoint{Host: primary.String(), Port: port}
}

// SplitEndpoints splits the endpoints a user gave (--endpoint, repeated
// or comma-separated) into HOST:PORT strings, blanks dropped.
func SplitEndpoints(raw string) []string {
	var out []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// GivenEndpoint is the plan when the user gave the endpoints for a tunnel
// on port: raw is one HOST:PORT, or one per address family separated by
// commas (an IPv4 address or a host name, and an IPv6 address in
// brackets).
func GivenEndpoint(raw string, port uint16, lan conf.Endpoint) (*Addresses, error) {
	a := &Addresses{LAN: lan}
	var six conf.Endpoint
	for _, s := range SplitEndpoints(raw) {
		ep, err := conf.ParseEndpoint(s)
		if err != nil {
			return nil, invalidf("endpoint %q: %v; give HOST:PORT, like 203.0.113.7:%d, myhome.dyndns.org:%d or [2001:db8::7]:%d", s, err, port, port, port)
		}
		slot, family := &a.Endpoint, "IPv4 or host name"
		if ip, err := netip.ParseAddr(ep.Host); err == nil && ip.Is6() && !ip.Is4In6() {
			slot, family = &six, "IPv6"
		}
		if !slot.IsZero() {
			return nil, invalidf("two endpoints for %s (%s and %s): give at most one per address family, an IPv4 address or host name and an IPv6 address", family, *slot, ep)
		}
		*slot = ep
		if ep.Port != port {
			a.Notes = append(a.Notes, fmt.Sprintf("the endpoint %s's port %d differs from the tunnel's port %d: fine only if your router forwards UDP %d to this machine's port %d", ep, ep.Port, port, ep.Port, port))
		}
	}
	switch {
	case a.Endpoint.IsZero() && six.IsZero():
		return nil, invalidf("no endpoint given; give HOST:PORT, like 203.0.113.7:%d or [2001:db8::7]:%d", port, port)
	case a.Endpoint.IsZero():
		a.Endpoint = six // IPv6 only: the public endpoint itself
	default:
		a.Endpoint6 = six
	}
	return a, nil
}

// FoundEndpoint is the plan after a NAT check (rep, err) for tunnel self on
// port, run from checkPort (another one when the running tunnel holds
// port): the public endpoint, else the LAN one with a note.
func FoundEndpoint(self string, port, checkPort uint16, lan conf.Endpoint, rep *natcheck.Report, err error) (*Addresses, error) {
	a := &Addresses{LAN: lan}
	if err == nil && rep != nil {
		a.NAT = rep
	}
	var pub conf.Endpoint
	if err == nil && rep != nil && rep.PublicEndpoint != "" {
		pub, err = conf.ParseEndpoint(rep.PublicEndpoint)
	} else if err == nil {
		err = errors.New("no STUN server answered")
		if rep != nil && rep.Message != "" {
			err = errors.New(rep.Message)
		}
	}
	if err != nil {
		if rep.Reaches6() {
			a.addIPv6(rep, port, checkPort)
			return a, nil
		}
		if lan.IsZero() {
			return nil, fmt.Errorf("no public or LAN address found for this machine (%v); give the address the other side should use: --endpoint HOST:PORT", err)
		}
		a.Endpoint = lan
		a.Notes = append(a.Notes, fmt.Sprintf("no public address found (%v); the invite carries the LAN address %s — fine on one LAN; otherwise pass --endpoint HOST:PORT", err, lan))
		return a, nil
	}
	if checkPort != port {
		if rep.PortPreserved || rep.Mapping == natcheck.MappingNone {
			pub.Port = port
			a.Notes = append(a.Notes, fmt.Sprintf("the tunnel is up, so the NAT check ran from port %d; your NAT keeps port numbers, so the invite announces %s", checkPort, pub))
		} else {
			a.Notes = append(a.Notes, fmt.Sprintf("the tunnel is up, so the NAT check ran from port %d and your NAT changes port numbers: the announced %s may be wrong; take the tunnel down (wgpunch down %s) and invite again", checkPort, pub, self))
		}
	}
	a.Endpoint = pub // the verdict itself is in a.NAT (InviteResult.NAT)
	a.addIPv6(rep, port, checkPort)
	return a, nil
}

// addIPv6 adds the IPv6 endpoint the check found, if it can link
// directly: beside the IPv4 one, or as the endpoint when there is none.
func (a *Addresses) addIPv6(rep *natcheck.Report, port, checkPort uint16) {
	if !rep.Reaches6() {
		return
	}
	ep, err := conf.ParseEndpoint(rep.IPv6.PublicEndpoint)
	if err != nil {
		return
	}
	if checkPort != port && rep.IPv6.Mapping == natcheck.MappingNone {
		ep.Port = port // no NAT over IPv6: the tunnel's port is the port
	}
	if a.Endpoint.IsZero() {
		a.Endpoint = ep
		a.Notes = append(a.Notes, fmt.Sprintf("no public IPv4 address was found; the invite carries the IPv6 address %s, which works with a peer that has IPv6 too", ep))
		return
	}
	a.Endpoint6 = ep
}

// NATFailWarning is the nat-fail warning for a side (who) whose NAT check
// gave verdict and mapping; nil unless the verdict is fail.
func NATFailWarning(who string, verdict, mapping string) *Warning {
	if verdict != string(natcheck.VerdictFail) {
		return nil
	}
	if mapping != string(natcheck.MappingEndpointDependent) {
		// The check failed without seeing a mapping: no STUN server
		// answered (UDP blocked, or the servers are unreachable).
		return &Warning{
			Code: "nat-fail",
			Message: fmt.Sprintf("the other side's network (%s) failed its NAT check: no STUN server answered, so outgoing UDP may be blocked there and a direct tunnel may not connect. Fixes: %s allows outgoing UDP on the tunnel's port, or forwards that port on its router",
				who, who),
		}
	}
	return &Warning{
		Code: "nat-fail",
		Message: fmt.Sprintf("the other side's network (%s) cannot be punched: its NAT mapping is %q (a new public port for every destination: a \"symmetric\" NAT, whether the router or the provider's carrier-grade NAT does it), so a direct tunnel will most likely not connect. Fixes: forward the tunnel's UDP port on %s's router, or use a network with a public address",
			who, mapping, who),
	}
}
