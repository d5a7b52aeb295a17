package natcheck

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// cgnatPrefix is the shared address space of carrier-grade NAT (RFC 6598).
var cgnatPrefix = netip.MustParsePrefix("100.64.0.0/10")

// noPunch is the advice when this side cannot be hole-punched.
const noPunch = "This network cannot be punched; use the other side as the listener, forward a port, or use a relay."

// judge fills the mapping, flags, verdict and message of r from the
// answers (in server order) and this machine's own addresses.
func judge(r *Report, answers []answer, locals []netip.Addr) {
	r.Mapping = MappingUnknown
	if len(answers) == 0 {
		var asked []string
		for _, s := range r.Servers {
			if s.Address != "" {
				asked = append(asked, s.Server)
			}
		}
		r.Verdict = VerdictFail
		if len(asked) == 0 {
			r.Message = fmt.Sprintf("None of the STUN servers (%s) could be looked up, so the public address is unknown. "+
				"Check the internet connection and DNS, or enter STUN servers by IP address (Settings in the WG Punch window, or wgpunch settings --stun).",
				strings.Join(serverNames(r.Servers), ", "))
			return
		}
		r.UDPBlocked = true
		r.Message = fmt.Sprintf("No STUN server answered on UDP port %d (asked %s). "+
			"Outgoing UDP seems to be blocked by a firewall on this network, or the servers are down. "+
			"Allow outgoing UDP, try other STUN servers (Settings in the WG Punch window, or wgpunch settings --stun), or use another network.",
			r.LocalPort, strings.Join(asked, ", "))
		return
	}

	answers = beyondNAT(answers, locals)
	first := answers[0]
	r.PublicEndpoint = first.mapped.String()
	r.PortPreserved = first.mapped.Port() == r.LocalPort
	serverIPs := map[netip.Addr]bool{}
	allSame := true
	for _, a := range answers {
		serverIPs[a.server.Addr()] = true
		if a.mapped != first.mapped {
			allSame = false
			r.PortPreserved = false
		}
	}
	switch {
	case allSame && slices.Contains(locals, first.mapped.Addr()) && r.PortPreserved:
		r.Mapping = MappingNone
	case !allSame:
		// Even two ports of one server seeing different mappings prove it.
		r.Mapping = MappingEndpointDependent
	case len(serverIPs) >= 2:
		r.Mapping = MappingEndpointIndependent
	default:
		r.Mapping = MappingUnknown
	}

	pub := first.mapped.Addr()
	srv := first.server.Addr()
	if r.Mapping != MappingNone && cgnatPrefix.Contains(pub) && !cgnatPrefix.Contains(srv) {
		r.CGNAT = true
	}
	// A public server seeing a private source means a second NAT upstream.
	doubleNAT := r.Mapping != MappingNone && pub.IsPrivate() && !slices.Contains(locals, pub) && isPublic(srv)

	switch {
	case r.CGNAT:
		r.Verdict = VerdictFail
		r.Message = fmt.Sprintf("Your internet provider puts this network behind carrier-grade NAT: "+
			"the STUN server saw %s, an address in the shared range 100.64.0.0/10, not a public one. "+
			"Other machines cannot reach you through it. %s", r.PublicEndpoint, noPunch)
	case r.Mapping == MappingEndpointDependent:
		r.Verdict = VerdictFail
		var saw []string
		for _, a := range answers {
			saw = append(saw, fmt.Sprintf("%s saw %s", r.Servers[a.index].Server, a.mapped))
		}
		r.Message = fmt.Sprintf("Your NAT uses a different public port for every destination (%s). "+
			"This is a \"symmetric\" NAT: hole punching through it will fail. %s",
			strings.Join(saw, ", "), noPunch)
	case doubleNAT:
		r.Verdict = VerdictWarning
		r.Message = fmt.Sprintf("The STUN server saw the private address %s, so there is a second NAT between this network "+
			"and the internet (double NAT). Hole punching may fail; if it does, use the other side as the listener "+
			"or forward UDP port %d on both routers.", r.PublicEndpoint, r.LocalPort)
	case r.Mapping == MappingNone:
		r.Verdict = VerdictOK
		r.Message = fmt.Sprintf("No NAT: this machine has the public address %s itself. "+
			"Peers can reach it at %s as long as its firewall lets UDP port %d in.",
			pub, r.PublicEndpoint, r.LocalPort)
	case r.Mapping == MappingEndpointIndependent && r.PortPreserved:
		r.Verdict = VerdictOK
		r.Message = fmt.Sprintf("Your NAT keeps the same public address %s for every destination, "+
			"so hole punching will work.", r.PublicEndpoint)
	case r.Mapping == MappingEndpointIndependent:
		r.Verdict = VerdictOK
		r.Message = fmt.Sprintf("Your NAT maps local port %d to public port %d, and keeps it the same for every destination, "+
			"so hole punching will work. Peers need the public endpoint %s; the invite carries it.",
			r.LocalPort, first.mapped.Port(), r.PublicEndpoint)
	default: // unknown: only one server address answered
		r.Verdict = VerdictWarning
		r.Message = fmt.Sprintf("Only %s answered, so it could not be checked whether your NAT keeps the same public port "+
			"for every destination. Your public endpoint seems to be %s. Hole punching may work; to be sure, "+
			"configure at least two STUN servers on different addresses (Settings in the WG Punch window, or wgpunch settings --stun).",
			r.Servers[first.index].Server, r.PublicEndpoint)
	}
}

// beyondNAT drops the answers of servers that saw one of this machine's own
// addresses when other servers saw something else. Such a server sits on
// this side of the NAT (on the LAN, or this machine): its answer says
// nothing about the NAT, and taking it as the public endpoint would put a
// LAN address into the invite, and its difference from the other answers
// would look like a symmetric NAT. If every server saw a local address
// there is no NAT and all answers are kept.
func beyondNAT(answers []answer, locals []netip.Addr) []answer {
	var out []answer
	for _, a := range answers {
		if !slices.Contains(locals, a.mapped.Addr()) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return answers
	}
	return out
}

// isPublic reports whether a is a global unicast address outside the
// private, shared (CGNAT) and loopback ranges.
func isPublic(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnatPrefix.Contains(a)
}

func serverNames(rs []ServerResult) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Server
	}
	return out
}
