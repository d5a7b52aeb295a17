package exchange

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// Addresses are how the other side will reach us: the endpoint to
// announce, our LAN endpoint, the NAT check's report (nil when the user
// gave the endpoint) and notes for the user.
type Addresses struct {
	Endpoint, LAN conf.Endpoint
	NAT           *natcheck.Report
	Notes         []string
}

// natFields are the NAT mapping and verdict to store and announce; "" when
// no check ran. Both are IPv4's: the endpoint announced is IPv4's.
func (a *Addresses) natFields() (mapping, verdict string) {
	if a.NAT == nil {
		return "", ""
	}
	v := a.NAT.IPv4.Verdict
	if v == "" { // a report from before the IPv6 half
		v = a.NAT.Verdict
	}
	return string(a.NAT.Mapping), string(v)
}

// natMessage is the words for natFields' verdict.
func (a *Addresses) natMessage() string {
	if a.NAT.IPv4.Message != "" {
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
	if _, err := netip.ParseAddr(a.Endpoint.Host); err != nil {
		return conf.Endpoint{}
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

// GivenEndpoint is the plan when the user gave the endpoint (HOST:PORT)
// for a tunnel on port.
func GivenEndpoint(raw string, port uint16, lan conf.Endpoint) (*Addresses, error) {
	ep, err := conf.ParseEndpoint(raw)
	if err != nil {
		return nil, invalidf("endpoint %q: %v; give HOST:PORT, like 203.0.113.7:%d or myhome.dyndns.org:%d", raw, err, port, port)
	}
	a := &Addresses{Endpoint: ep, LAN: lan}
	if ep.Port != port {
		a.Notes = append(a.Notes, fmt.Sprintf("the endpoint's port %d differs from the tunnel's port %d: fine only if your router forwards UDP %d to this machine's port %d", ep.Port, port, ep.Port, port))
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
	return a, nil
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
		Message: fmt.Sprintf("the other side's network (%s) cannot be punched: its NAT mapping is %q (a new public port for every destination, typical of symmetric NAT or carrier-grade NAT), so a direct tunnel will most likely not connect. Fixes: forward the tunnel's UDP port on %s's router, or use a network with a public address",
			who, mapping, who),
	}
}
