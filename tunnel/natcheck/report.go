// Package natcheck finds this machine's public UDP endpoints with STUN,
// over IPv4 and IPv6, and decides whether its network can be hole-punched.
package natcheck

// Mapping is how the NAT maps one local UDP port to public ports.
type Mapping string

const (
	MappingNone                Mapping = "none"                 // no NAT: the public address is local
	MappingEndpointIndependent Mapping = "endpoint-independent" // same public IP:port to every server: punchable
	MappingEndpointDependent   Mapping = "endpoint-dependent"   // new port per destination ("symmetric")
	MappingUnknown             Mapping = "unknown"
)

// Verdict is the overall answer for the user.
type Verdict string

const (
	VerdictOK      Verdict = "ok"
	VerdictWarning Verdict = "warning"
	VerdictFail    Verdict = "fail"
)

// ServerResult is what one STUN server answered.
type ServerResult struct {
	Server   string `json:"server"`            // host:port as configured
	Address  string `json:"address,omitempty"` // resolved IP:port we sent to
	Mapped   string `json:"mapped,omitempty"`  // XOR-MAPPED-ADDRESS it saw, IP:port
	RTTMilli int64  `json:"rtt_ms,omitempty"`  // round trip
	Error    string `json:"error,omitempty"`   // why there is no answer
}

// Family is the verdict for one address family.
type Family struct {
	Verdict Verdict `json:"verdict"`
	Message string  `json:"message"` // plain words: what it means and what to do
}

// IPv6Report is the IPv6 half of a check. IPv6 normally has no NAT, only
// stateful firewalls that let a link through once both sides send, so
// the answer is mostly whether this machine has a global IPv6 address
// that STUN servers see.
type IPv6Report struct {
	PublicEndpoint string         `json:"public_endpoint"`          // [IP]:port for the invite, "" if unknown
	GlobalAddress  string         `json:"global_address,omitempty"` // a global IPv6 address of this machine, "" if none
	Mapping        Mapping        `json:"mapping"`
	Servers        []ServerResult `json:"servers"` // the IPv6 probes, in server order
	Verdict        Verdict        `json:"verdict"`
	Message        string         `json:"message"`
}

// Report is the result of one NAT check. Its JSON form is what
// `wgpunch natcheck --json` prints.
//
// The top-level PublicEndpoint, Mapping, PortPreserved, UDPBlocked and
// Servers describe IPv4; IPv4 holds the IPv4 verdict; IPv6 the IPv6 half.
// Verdict and Message are the overall answer: ok when either family can
// link directly.
type Report struct {
	PublicEndpoint string  `json:"public_endpoint"` // IPv4 IP:port for the invite, "" if unknown
	LocalPort      uint16  `json:"local_port"`
	Mapping        Mapping `json:"mapping"`
	PortPreserved  bool    `json:"port_preserved"`
	UDPBlocked     bool    `json:"udp_blocked"`
	// CGNAT is true when a carrier-grade NAT was seen: an address in
	// 100.64.0.0/10 on this machine, as its default gateway, or as seen
	// by a STUN server. It only explains; the verdict follows the mapping.
	CGNAT   bool           `json:"cgnat"`
	Servers []ServerResult `json:"servers"`
	IPv4    Family         `json:"ipv4"`
	IPv6    IPv6Report     `json:"ipv6"`
	Verdict Verdict        `json:"verdict"`
	Message string         `json:"message"` // plain words: what it means and what to do
}

// Reaches6 reports whether the IPv6 half found an endpoint that can link
// directly.
func (r *Report) Reaches6() bool {
	return r != nil && r.IPv6.Verdict == VerdictOK && r.IPv6.PublicEndpoint != ""
}
