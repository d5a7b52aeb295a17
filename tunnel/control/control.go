// Package control is the one interface the GUI and the CLI talk to.
//
// Service (service.go) is the in-process implementation: it owns the state
// directory, the engine and the monitor. Its invite exchange
// (exchange.go) loads the facts, lets tunnel/exchange plan and saves the
// plan; the OS reads it needs come from tunnel/netinfo. tunnel/ipc's
// Client speaks to a Service running in the privileged daemon over a Unix
// socket (HTTP+JSON) and its Server is the daemon's side. Both satisfy
// Controller, so the UI and CLI never know which one they hold.
package control

import (
	"context"
	"errors"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

// Status types are the monitor's; re-exported so callers need one import.
type (
	Report       = monitor.Report
	TunnelStatus = monitor.TunnelStatus
	PeerStatus   = monitor.PeerStatus
	LANStatus    = monitor.LANStatus
	Warning      = monitor.Warning
	Diagnosis    = monitor.Diagnosis
	State        = monitor.State
)

// LAN is a local subnet that could be shared through a tunnel.
type LAN = netinfo.LAN

// Errors callers may test with errors.Is. Messages say what to do next.
var (
	ErrNotFound   = errors.New("no such tunnel")
	ErrExists     = errors.New("a tunnel with that name already exists")
	ErrNeedDaemon = errors.New("the WG Punch daemon is not running")
	ErrPermission = errors.New("permission denied")
	// ErrPortInUse is the engine's own (engine.ErrPortInUse): a port found
	// taken only when the engine binds it is the same error, and crosses
	// the socket with its own code, like the Service's checks.
	ErrPortInUse    = engine.ErrPortInUse
	ErrInvalidInput = errors.New("invalid input")
	// ErrBusy: the daemon refused because of a limit (e.g. too many
	// open watch streams); retry after closing some.
	ErrBusy = errors.New("too many requests")
)

// Controller is what the GUI and CLI can do. Every method is safe for
// concurrent use. Configs returned never carry a private key.
type Controller interface {
	// List returns the tunnel names, sorted.
	List(ctx context.Context) ([]string, error)
	// Show returns a tunnel's config with the private key zeroed.
	Show(ctx context.Context, name string) (*conf.Config, error)
	// Export returns a wg-quick file for stock WireGuard. The private key is
	// replaced by a placeholder comment unless withPrivateKey is true.
	Export(ctx context.Context, name string, withPrivateKey bool) ([]byte, error)
	// Invite creates tunnel req.Name if needed and returns a new invite.
	Invite(ctx context.Context, req InviteRequest) (*InviteResult, error)
	// Accept takes an invite (creating tunnel req.Name and returning a reply)
	// or a reply to our own pending invite (adding the peer to req.Name).
	Accept(ctx context.Context, req AcceptRequest) (*AcceptResult, error)
	// PreviewAccept checks req exactly as Accept would (a token Accept
	// refuses is refused here with the same error) and returns what Accept
	// would say: Kind, Tunnel, PeerName, Routes, Shared, RouteSummary,
	// Warnings and, for a reply, SafetyCode. It saves nothing, runs no NAT
	// check and returns no Reply; for an invite SafetyCode is empty (the
	// code covers the reply, which only Accept makes). The CLI and the
	// wizard show it before asking the user to accept.
	PreviewAccept(ctx context.Context, req AcceptRequest) (*AcceptResult, error)
	Remove(ctx context.Context, name string) error
	Rename(ctx context.Context, oldName, newName string) error
	// SetListenPort changes a tunnel's ListenPort (re-applied if it is up).
	SetListenPort(ctx context.Context, name string, port uint16) error
	// FreePort picks a ListenPort free on this machine, unused by our
	// tunnels and not announced by another WG Punch machine on the LAN.
	FreePort(ctx context.Context) (uint16, error)
	// NATCheck runs a STUN check from the given local port.
	NATCheck(ctx context.Context, req NATCheckRequest) (*natcheck.Report, error)
	// LocalLANs lists the IPv4 subnets of this machine that could be
	// shared through a tunnel (netinfo.FilterLANs' rules; our tunnels'
	// interfaces skipped), sorted. Anyone may read them.
	LocalLANs(ctx context.Context) ([]LAN, error)

	Up(ctx context.Context, name string) error
	Down(ctx context.Context, name string) error
	// Status returns all tunnels (name == "") or one.
	Status(ctx context.Context, name string) (*Report, error)
	// Watch sends a fresh Report about once a second until ctx ends.
	Watch(ctx context.Context) (<-chan *Report, error)

	// Settings returns the saved STUN servers (empty: the defaults are in
	// use) and the built-in defaults. Anyone may read them.
	Settings(ctx context.Context) (*Settings, error)
	// SetSettings replaces the STUN servers (empty: use the defaults);
	// DefaultSTUNServers is ignored. Invalid entries give ErrInvalidInput
	// and change nothing. Over the socket it needs the same rights as
	// changing a tunnel (ErrPermission otherwise).
	SetSettings(ctx context.Context, set Settings) error
}

// InviteRequest asks for an invite. Zero fields mean "choose for me".
type InviteRequest struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name,omitempty"` // default: hostname
	Port        uint16   `json:"port,omitempty"`         // default: a free port
	Endpoint    string   `json:"endpoint,omitempty"`     // HOST:PORT, or one per address family comma-separated; default: NAT check
	LANs        []string `json:"lans,omitempty"`         // CIDRs to share
	Subnet      string   `json:"subnet,omitempty"`       // tunnel subnet CIDR of a new tunnel; default: a free 10.x.y.0/24
	STUN        []string `json:"stun,omitempty"`         // STUN servers; default: settings
	// AllowPublicRoutes: share LANs outside private space (the user's
	// explicit opt-in; nothing in a token can set it).
	AllowPublicRoutes bool `json:"allow_public_routes,omitempty"`
}

// InviteResult is the invite to hand to the other side.
type InviteResult struct {
	Token      string           `json:"token"`  // the one-line invite text
	QRPNG      []byte           `json:"qr_png"` // the same as a QR code
	Tunnel     string           `json:"tunnel"`
	ListenPort uint16           `json:"listen_port"`
	Endpoint   string           `json:"endpoint"`            // what the invite announces
	Endpoint6  string           `json:"endpoint6,omitempty"` // its IPv6 endpoint beside it, if any
	NAT        *natcheck.Report `json:"nat,omitempty"`       // nil when --endpoint was given
	Notes      []string         `json:"notes,omitempty"`     // things to tell the user
}

// AcceptRequest answers an invite or takes a reply.
type AcceptRequest struct {
	Name        string   `json:"name"`
	Token       string   `json:"token"`
	DisplayName string   `json:"display_name,omitempty"`
	Port        uint16   `json:"port,omitempty"`
	Endpoint    string   `json:"endpoint,omitempty"`
	LANs        []string `json:"lans,omitempty"`
	STUN        []string `json:"stun,omitempty"`
	// AllowPublicRoutes: route and share prefixes outside private space
	// (the user's explicit opt-in on this side; nothing in a token can set
	// it). Without it such a subnet or LAN is refused and nothing is saved.
	AllowPublicRoutes bool `json:"allow_public_routes,omitempty"`
}

// AcceptResult says what Accept did.
type AcceptResult struct {
	Kind       string `json:"kind"` // "invite" (we made a reply), "reply" (peer added) or "update" (a peer's new address taken)
	Tunnel     string `json:"tunnel"`
	PeerName   string `json:"peer_name"`
	SafetyCode string `json:"safety_code"`
	// SafetyCodeKeysOnly: the code covers only the two public keys (the
	// other side runs an older WG Punch); Notes say to update both sides.
	SafetyCodeKeysOnly bool             `json:"safety_code_keys_only,omitempty"`
	Reply              string           `json:"reply,omitempty"` // the reply line, when Kind == "invite"
	ReplyQRPNG         []byte           `json:"reply_qr_png,omitempty"`
	NAT                *natcheck.Report `json:"nat,omitempty"`
	Warnings           []Warning        `json:"warnings,omitempty"` // e.g. the peer's NAT cannot be punched
	Notes              []string         `json:"notes,omitempty"`
	// Routes is what the link sends into the tunnel (the tunnel subnet,
	// then the other side's LANs); Shared is our LANs the other side
	// reaches; RouteSummary says both in plain words. The planner computes
	// them; the CLI and the wizard show RouteSummary.
	Routes       []string `json:"routes"`
	Shared       []string `json:"shared"`
	RouteSummary string   `json:"route_summary,omitempty"`
	// Aliases explain, one sentence each, the other side's LANs reached
	// here through an alias (with the commands other computers of this
	// office use to reach them through this one) and our LANs the other
	// side reaches through one; empty when no LAN overlaps.
	Aliases []string `json:"aliases,omitempty"`
}

// NATCheckRequest asks for a NAT check.
type NATCheckRequest struct {
	Port uint16   `json:"port,omitempty"` // 0: a free port
	STUN []string `json:"stun,omitempty"` // default: settings
}

// Peer states, re-exported from monitor.
const (
	StateConnected  = monitor.StateConnected
	StateConnecting = monitor.StateConnecting
	StateStale      = monitor.StateStale
	StateDown       = monitor.StateDown
)
