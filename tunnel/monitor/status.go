// Package monitor polls WireGuard devices through wgctrl and turns their
// counters into per-peer liveness. It has no UI types.
package monitor

import "time"

// State is a peer's liveness.
type State string

const (
	StateConnected  State = "connected"  // handshake within 180 s and bytes arriving
	StateConnecting State = "connecting" // tunnel up, no handshake yet
	StateStale      State = "stale"      // had a handshake, none recently (or rx stopped)
	StateDown       State = "down"       // tunnel not up
)

// Warning is something the user should know about a tunnel, with a fix
// where there is one.
type Warning struct {
	Code    string `json:"code"`               // "port-shared", "nat-fail", "subnet-overlap", ...
	Message string `json:"message"`            // plain words, names machines and ports
	FixPort uint16 `json:"fix_port,omitempty"` // a free port to switch to, when that is the fix
	// Peer and Update: for public-address-changed, the peer to send the
	// update to and the update itself (a WGP1U- line).
	Peer   string `json:"peer,omitempty"`
	Update string `json:"update,omitempty"`
}

// Diagnosis says, for a peer that is not connected, why and what to do
// (package diagnose writes it).
type Diagnosis struct {
	Code    string `json:"code"`    // "never-connected", "peer-silent", ...
	Message string `json:"message"` // what is going on, in plain words
	Action  string `json:"action"`  // what to do about it
}

// PeerStatus is the observed state of one peer.
type PeerStatus struct {
	Name       string   `json:"name"`
	PublicKey  string   `json:"public_key"`
	Address    string   `json:"address"` // peer's tunnel address (first AllowedIP), e.g. 10.77.12.2/32
	Endpoint   string   `json:"endpoint"`
	AllowedIPs []string `json:"allowed_ips"`
	// LANs are the LANs the peer shares, each with the prefix this side
	// reaches it as: its alias (conf.PeerMeta.ReachAs), or the LAN
	// itself. ServeAs are this side's LANs the peer reaches through an
	// alias (Prefix our LAN, ReachAs the alias the peer uses).
	LANs          []LANStatus `json:"lans"`
	ServeAs       []LANStatus `json:"serve_as,omitempty"`
	LastHandshake *time.Time  `json:"last_handshake"` // RFC 3339, null if never
	LastReceive   *time.Time  `json:"last_receive"`   // when rx_bytes last grew, null if never seen
	RxBytes       int64       `json:"rx_bytes"`
	TxBytes       int64       `json:"tx_bytes"`
	State         State       `json:"state"`
	SafetyCode    string      `json:"safety_code,omitempty"`
	// SafetyCodeKeysOnly: SafetyCode covers only the two public keys (a
	// link made with an older WG Punch), not the whole exchange.
	SafetyCodeKeysOnly bool `json:"safety_code_keys_only,omitempty"`
	// Diagnosis: why a peer that is not connected is not, and what to do;
	// nil when connected.
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
	// Path is how the link reaches the peer now: "lan", "ipv6" or
	// "ipv4" (the kind of the endpoint in use, conf.PathOf); empty when
	// not connected.
	Path string `json:"path"`
	// Candidates are the addresses the peer may be reached at, best
	// first (conf.Candidates); the Linux engine tries them in turn.
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one address a peer may be reached at.
type Candidate struct {
	Kind     string `json:"kind"` // "lan", "ipv6", "ipv4"
	Endpoint string `json:"endpoint"`
}

// LANStatus is one shared LAN and the prefix it is reached as: Prefix
// itself, or an alias of the same size when Prefix overlaps a network on
// the reaching side (docs/engine.md, "LAN aliases").
type LANStatus struct {
	Prefix  string `json:"prefix"`
	ReachAs string `json:"reach_as"`
}

// Aliased reports whether the LAN is reached through an alias.
func (l LANStatus) Aliased() bool { return l.ReachAs != l.Prefix }

// TunnelStatus is the observed state of one tunnel.
type TunnelStatus struct {
	Name       string `json:"name"`
	Up         bool   `json:"up"`
	Interface  string `json:"interface"`
	Address    string `json:"address"`
	ListenPort uint16 `json:"listen_port"`
	PublicKey  string `json:"public_key"`
	// LANAddress is this machine's LAN address, the gateway other
	// computers of this office route an alias through; set when a peer's
	// LAN is reached through an alias.
	LANAddress string       `json:"lan_address,omitempty"`
	Peers      []PeerStatus `json:"peers"`
	Warnings   []Warning    `json:"warnings"`
	Error      string       `json:"error,omitempty"` // why the last up failed
	// Starting: the tunnel was brought up but is not running yet (its
	// Windows service is START_PENDING); its peers are connecting.
	Starting bool `json:"starting,omitempty"`
}

// Report is a snapshot of all tunnels; `wgpunch status --json` prints it.
type Report struct {
	Tunnels []TunnelStatus `json:"tunnels"`
}
