package natcheck

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// cgnatPrefix is the shared address space of carrier-grade NAT (RFC 6598).
var cgnatPrefix = netip.MustParsePrefix("100.64.0.0/10")

// noPunch is the advice when this side cannot be hole-punched.
const noPunch = "This network cannot be punched; use the other side as the listener, forward a port, or use a relay."

// judge fills the IPv4 mapping, flags, verdict and message of r from the
// IPv4 answers (in server order) and this machine's own addresses.
// combine later moves the verdict to r.IPv4.
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
	// A public server seeing a private or shared source means another NAT
	// upstream that rewrote the packet but not the STUN message.
	doubleNAT := r.Mapping != MappingNone && (pub.IsPrivate() || cgnatPrefix.Contains(pub)) && !slices.Contains(locals, pub) && isPublic(srv)

	switch {
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
		r.Message = fmt.Sprintf("The STUN server saw the non-public address %s, so there is a second NAT between this network "+
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

// global6 are this machine's global IPv6 addresses (not link-local, not
// unique-local fc00::/7, not IPv4-mapped).
func global6(locals []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range locals {
		if a.Is6() && !a.Is4In6() && a.IsGlobalUnicast() && !a.IsPrivate() {
			out = append(out, a)
		}
	}
	return out
}

// judge6 fills r.IPv6 from the IPv6 answers, this machine's addresses,
// the IPv6 socket's port (localPort: the tunnel's, but Options.Conn6 may
// differ), whether any server was asked over IPv6 and why not (sockErr),
// and the operating system (for the firewall advice).
func judge6(r *Report, answers []answer, locals []netip.Addr, localPort uint16, asked bool, sockErr error, goos string) {
	v := &r.IPv6
	v.Mapping = MappingUnknown
	globals := global6(locals)
	if len(globals) > 0 {
		v.GlobalAddress = globals[0].String()
	}
	if len(answers) == 0 {
		var tried []string
		for _, s := range v.Servers {
			if s.Address != "" {
				tried = append(tried, s.Server)
			}
		}
		switch {
		case errors.Is(sockErr, errNot6):
			v.Verdict = VerdictWarning
			v.Message = "IPv6 was not checked."
		case len(globals) == 0:
			v.Verdict = VerdictFail
			v.Message = "This machine has no global IPv6 address, so it cannot link over IPv6. " +
				"If your provider offers IPv6, turn it on in the router."
		case sockErr != nil:
			v.Verdict = VerdictWarning
			v.Message = fmt.Sprintf("This machine has the global IPv6 address %s, but IPv6 could not be checked: %v.", v.GlobalAddress, sockErr)
		case !asked:
			v.Verdict = VerdictWarning
			v.Message = fmt.Sprintf("This machine has the global IPv6 address %s, but none of the STUN servers (%s) has an IPv6 address, so IPv6 could not be checked. "+
				"Add one that has, such as stun.l.google.com:19302 (Settings in the WG Punch window, or wgpunch settings --stun).",
				v.GlobalAddress, strings.Join(serverNames(v.Servers), ", "))
		default:
			v.Verdict = VerdictWarning
			v.Message = fmt.Sprintf("This machine has the global IPv6 address %s, but no STUN server answered over IPv6 (asked %s): "+
				"outgoing IPv6 UDP may be blocked by a firewall on this network. %s",
				v.GlobalAddress, strings.Join(tried, ", "), firewallAdvice(goos, localPort))
		}
		return
	}

	first := answers[0]
	v.PublicEndpoint = first.mapped.String()
	allSame := true
	serverIPs := map[netip.Addr]bool{}
	for _, a := range answers {
		serverIPs[a.server.Addr()] = true
		if a.mapped != first.mapped {
			allSame = false
		}
	}
	local := slices.Contains(locals, first.mapped.Addr())
	switch {
	case allSame && local && first.mapped.Port() == localPort:
		v.Mapping = MappingNone
		v.Verdict = VerdictOK
		v.Message = fmt.Sprintf("This network can link directly over IPv6: this machine has the address %s itself, with no NAT in between, "+
			"and peers can reach it at %s. A router's IPv6 firewall lets the link through because both sides send first and keep sending. %s",
			first.mapped.Addr(), v.PublicEndpoint, firewallAdvice(goos, localPort))
	case !allSame:
		v.Mapping = MappingEndpointDependent
		v.Verdict = VerdictFail
		var saw []string
		for _, a := range answers {
			saw = append(saw, fmt.Sprintf("%s saw %s", v.Servers[a.index].Server, a.mapped))
		}
		v.Message = fmt.Sprintf("IPv6 passes an address translator that uses a different address or port for every destination (%s), "+
			"so a direct link over IPv6 will fail.", strings.Join(saw, ", "))
	case len(serverIPs) >= 2:
		v.Mapping = MappingEndpointIndependent
		v.Verdict = VerdictOK
		v.Message = fmt.Sprintf("This network can link directly over IPv6: an address translator (NAT66) on the way keeps the same public endpoint %s "+
			"for every destination, and the invite carries it. %s", v.PublicEndpoint, firewallAdvice(goos, localPort))
	default:
		v.Verdict = VerdictWarning
		v.Message = fmt.Sprintf("Only %s answered over IPv6, and it saw %s, which is not an address of this machine: there is an address translator on the way, "+
			"and whether it keeps the same port for every destination could not be checked. Configure at least two STUN servers with IPv6 addresses.",
			v.Servers[first.index].Server, v.PublicEndpoint)
	}
}

// firewallAdvice says what to do if this computer's own firewall drops
// the peer's packets.
func firewallAdvice(goos string, port uint16) string {
	switch goos {
	case "windows":
		return fmt.Sprintf("If Windows Firewall asks, allow WG Punch; if the other side still cannot get through, allow incoming UDP port %d: "+
			"netsh advfirewall firewall add rule name=\"WG Punch\" dir=in action=allow protocol=UDP localport=%d", port, port)
	case "linux":
		return fmt.Sprintf("If a firewall on this computer (nftables or ufw) drops incoming UDP, allow port %d: "+
			"sudo ufw allow %d/udp, or sudo nft add rule inet filter input udp dport %d accept (the table and chain names depend on your rules).", port, port, port)
	}
	return fmt.Sprintf("If a firewall on this computer drops incoming UDP, allow port %d.", port)
}

// explainCarrier sets r.CGNAT and adds an explanation to the IPv4 message
// when a carrier-grade NAT is in sight: the default gateway is in
// 100.64.0.0/10, or a public STUN server saw such an address. It never
// changes the verdict: what decides is the measured mapping. (An address
// in 100.64.0.0/10 on this machine alone proves nothing: Tailscale uses
// that range too.)
func explainCarrier(r *Report, answers []answer, locals, gateways []netip.Addr) {
	var why string
	for _, g := range gateways {
		if g.Is4() && cgnatPrefix.Contains(g) {
			why = fmt.Sprintf("this machine's gateway %s is in the shared range 100.64.0.0/10", g)
			break
		}
	}
	if why == "" && len(answers) > 0 {
		a := answers[0]
		for _, b := range answers {
			if !slices.Contains(locals, b.mapped.Addr()) {
				a = b
				break
			}
		}
		if cgnatPrefix.Contains(a.mapped.Addr()) && !cgnatPrefix.Contains(a.server.Addr()) && !slices.Contains(locals, a.mapped.Addr()) {
			why = fmt.Sprintf("the STUN server saw %s, an address in the shared range 100.64.0.0/10", a.mapped.Addr())
		}
	}
	if why == "" {
		return
	}
	r.CGNAT = true
	r.Message += fmt.Sprintf(" Your provider seems to use carrier-grade NAT (%s). That alone does not decide anything: "+
		"carrier NATs that keep one public port for every destination (as RFC 6888 asks of them) can be punched, and the verdict above follows the mapping measured.", why)
}

// combine moves the IPv4 verdict into r.IPv4 and sets the overall verdict:
// IPv4's when it is ok; ok over IPv6 when IPv4 cannot or may not link but
// IPv6 can; otherwise IPv4's, with the IPv6 words added.
func combine(r *Report) {
	r.IPv4 = Family{Verdict: r.Verdict, Message: r.Message}
	six := r.IPv6
	switch {
	case r.IPv4.Verdict == VerdictOK:
		if six.Verdict == VerdictOK {
			r.Message += " It can link directly over IPv6 as well (" + six.PublicEndpoint + ")."
		}
	case six.Verdict == VerdictOK:
		r.Verdict = VerdictOK
		r.Message = "This network can link directly over IPv6 (" + six.PublicEndpoint + "), with any peer that has IPv6 as well. " +
			six.Message + " Over IPv4: " + r.IPv4.Message
	default:
		if six.Message != "" {
			r.Message += " Over IPv6: " + six.Message
		}
	}
}
