// Package conf is WG Punch's stored tunnel model and the wg-quick file format.
//
// It is pure: no OS calls. A tunnel is one wg-quick .conf file; WG Punch's own
// metadata (peer names, the pending invite, shared LANs, NAT verdicts) is kept
// in structured comments ("# wgpunch.Key = value") that wg-quick and wg ignore.
package conf

import (
	"net/netip"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// DefaultKeepalive is the PersistentKeepalive every WG Punch peer gets: both
// NATs see outgoing packets every 5 s, which keeps the punched hole open.
const DefaultKeepalive = 5

// Config is one tunnel: an interface and its peers.
type Config struct {
	// Name is the tunnel (and interface) name. It is the file name without
	// ".conf" and is not stored inside the file.
	Name      string
	Interface Interface
	Peers     []Peer
}

// Interface is the [Interface] section.
type Interface struct {
	PrivateKey wgtypes.Key
	ListenPort uint16 // 0: let the OS pick (WG Punch always sets one)
	Addresses  []netip.Prefix
	DNS        []netip.Addr
	DNSSearch  []string // non-IP entries of DNS =
	MTU        uint16   // 0: default

	Meta InterfaceMeta
}

// InterfaceMeta is WG Punch's own data about the local side of a tunnel.
type InterfaceMeta struct {
	// DisplayName is how this machine introduces itself in invites/replies.
	DisplayName string
	// Subnet is the tunnel subnet (e.g. 10.77.12.0/24).
	Subnet netip.Prefix
	// PendingInviteID is set while an invite we issued awaits its reply.
	PendingInviteID string
	// PendingPeerAddress is the tunnel address the pending invite gives the
	// other side.
	PendingPeerAddress netip.Prefix
	// LANs are this machine's LAN subnets shared with the peers.
	LANs []netip.Prefix
	// NATMapping and NATVerdict are the last NAT check result of this side
	// ("endpoint-independent", "ok", ...); empty if never checked.
	NATMapping string
	NATVerdict string
	// SentInvites are the tokens of the copies of the pending invite this
	// machine sent (a re-issued invite has several), oldest first, at most
	// MaxSentInvites; the safety code is computed over the copy a reply
	// answers. Stored in lower case (Marshal writes them so), which the
	// invite decoder reads like the original.
	SentInvites []string
	// PublicEndpoint is the internet address:port this side last told its
	// peers (in the invite or reply, or in an address update every peer
	// has since taken); the daemon compares what STUN sees now with it. An
	// IP literal; zero when none was announced (a --endpoint name, say).
	PublicEndpoint Endpoint
}

// MaxSentInvites is how many copies of a pending invite a config keeps.
const MaxSentInvites = 8

// Peer is one [Peer] section.
type Peer struct {
	PublicKey           wgtypes.Key
	PresharedKey        *wgtypes.Key // nil: none
	Endpoint            Endpoint     // zero: none
	AllowedIPs          []netip.Prefix
	PersistentKeepalive uint16 // seconds, 0: off

	Meta PeerMeta
}

// PeerMeta is WG Punch's own data about a peer.
type PeerMeta struct {
	Name        string         // display name the peer gave itself
	InviteID    string         // the invite that linked us
	LANEndpoint Endpoint       // the peer's LAN IP:port, for two machines on one LAN
	LANs        []netip.Prefix // LAN subnets the peer shares (in AllowedIPs, or their alias)
	// ReachAs are the peer's LANs (in LANs) that overlap something on this
	// side and are reached here through an alias: AllowedIPs and routes
	// carry the alias, and the peer's gateway translates it to the LAN.
	ReachAs []LANAlias
	// ServeAs are this side's shared LANs (Interface.Meta.LANs) that the
	// peer reaches through an alias: the engine translates packets from
	// the peer to As onto LAN (destination prefix NAT).
	ServeAs    []LANAlias
	NATMapping string // the peer's NAT mapping as it reported it
	NATVerdict string // "ok", "warning", "fail" as the peer reported it
	// SafetyCode is the safety code over the exchange that linked us
	// (invite.ExchangeCode), e.g. "0421 9387 1156 2203", computed once at
	// accept time. Empty: a link made before it existed, or with an older
	// WG Punch; only the key-only code (invite.SafetyCode) applies.
	SafetyCode string
	// UpdateSeq is the sequence number (issue time in Unix ms) of the last
	// address update taken from this peer (invite.Update): an update not
	// newer is refused as replayed or old. 0: none taken yet.
	UpdateSeq uint64
	// Endpoint4 and Endpoint6 are the peer's public IPv4 and IPv6
	// addresses (IP:port), as its invite or reply announced them or a
	// later address update moved them; zero: none known. With LANEndpoint
	// they are the candidates the Linux engine tries (Candidates).
	Endpoint4 Endpoint
	Endpoint6 Endpoint
}

// Endpoint is host:port where host is an IP literal or a DNS name (dynamic DNS).
// The zero value means "no endpoint".
type Endpoint struct {
	Host string // IP literal (no brackets) or hostname
	Port uint16
}
