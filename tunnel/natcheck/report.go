// Package natcheck finds this machine's public UDP endpoint with STUN and
// decides whether its NAT can be hole-punched.
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

// Report is the result of one NAT check. Its JSON form is what
// `wgpunch natcheck --json` prints.
type Report struct {
	PublicEndpoint string         `json:"public_endpoint"` // IP:port for the invite, "" if unknown
	LocalPort      uint16         `json:"local_port"`
	Mapping        Mapping        `json:"mapping"`
	PortPreserved  bool           `json:"port_preserved"`
	UDPBlocked     bool           `json:"udp_blocked"`
	CGNAT          bool           `json:"cgnat"` // public address is in 100.64.0.0/10 or otherwise shared
	Servers        []ServerResult `json:"servers"`
	Verdict        Verdict        `json:"verdict"`
	Message        string         `json:"message"` // plain words: what it means and what to do
}
