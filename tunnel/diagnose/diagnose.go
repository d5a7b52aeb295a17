// Package diagnose answers "why isn't it connected?" for one peer, in words
// for someone who is not a network engineer: a code for programs, a
// message saying what is going on and an action saying what to do. It is
// pure: control gathers the facts (the peer's observed state, what the
// exchange recorded, what the daemon knows about this machine's own
// address) and asks.
package diagnose

import (
	"fmt"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// Codes, in the order they are considered: the first that applies wins.
const (
	// TunnelDown: the link is switched off here.
	TunnelDown = "tunnel-down"
	// OwnAddressChanged: this machine's public address changed since the
	// peer was told it; the peer needs the update shown.
	OwnAddressChanged = "own-address-changed"
	// NoCommonPath: the peer can only be reached over one IP version and
	// this computer has no internet connection of that version.
	NoCommonPath = "no-common-path"
	// UDPBlocked: this network lets no UDP out now (no STUN server answers).
	UDPBlocked = "udp-blocked"
	// RecoveringStuckMapping: a router kept a wrong entry; the daemon is
	// waiting for it to expire.
	RecoveringStuckMapping = "recovering-stuck-mapping"
	// PeerNATCannotPunch: the other side's NAT check said its router picks
	// a new port per destination, and the link never came up.
	PeerNATCannotPunch = "peer-nat-cannot-punch"
	// NeverConnected: no answer since the link was turned on.
	NeverConnected = "never-connected"
	// PeerSilent: connected before, nothing for a while.
	PeerSilent = "peer-silent"
)

// Diagnosis is the answer; status --json carries it per peer that is not
// connected.
type Diagnosis = monitor.Diagnosis

// Facts are what the daemon knows about one peer.
type Facts struct {
	// Peer is the other side's name as the user knows it.
	Peer string
	// Tunnel is the link's name (for commands in actions).
	Tunnel string
	// State is the observed liveness (monitor).
	State monitor.State
	// UpFor is how long the tunnel has been up here (0 if unknown).
	UpFor time.Duration
	// EverConnected: a handshake with the peer completed since the tunnel
	// came up; SinceContact is then how long ago anything last came from
	// it (handshake or data).
	EverConnected bool
	SinceContact  time.Duration
	// PeerVerdict and PeerMapping are the peer's NAT check result carried
	// in the exchange ("ok", "warn", "fail"; "endpoint-dependent", ...).
	PeerVerdict, PeerMapping string
	// OwnAddressChanged: our public endpoint moved since the exchange;
	// OwnAddress is the new one.
	OwnAddressChanged bool
	OwnAddress        string
	// UDPBlocked: the latest check of our own address got no answer from
	// any STUN server.
	UDPBlocked bool
	// RecoveringFor: how much longer the stuck-mapping recovery waits
	// (0: not recovering).
	RecoveringFor time.Duration
	// PeerOnly is the one IP version the peer can be reached over ("ipv4"
	// or "ipv6": all its candidates are of it; LAN addresses count as
	// IPv4), "" when it has both or none is known. NoOwnIPv4 / NoOwnIPv6:
	// this computer has no internet connection of that version (no global
	// IPv6 address; no public IPv4 address found at the exchange). Before
	// UDPBlocked: an IPv6-only network's IPv4 STUN queries get no answer,
	// and "no UDP out" would not be true.
	PeerOnly             string
	NoOwnIPv4, NoOwnIPv6 bool
}

// For returns the diagnosis of a peer that is not connected, nil for one
// that is.
func For(f Facts) *Diagnosis {
	if f.State == monitor.StateConnected {
		return nil
	}
	who := f.Peer
	if who == "" {
		who = "the other computer"
	}
	everConnected := f.EverConnected
	switch {
	case f.State == monitor.StateDown:
		return diag(TunnelDown,
			fmt.Sprintf("This link is switched off on this computer, so nothing reaches %s.", who),
			fmt.Sprintf("Turn it on: Connect in WG Punch, or wgpunch up %s.", f.Tunnel))
	case f.OwnAddressChanged:
		where := ""
		if f.OwnAddress != "" {
			where = " (now " + f.OwnAddress + ")"
		}
		return diag(OwnAddressChanged,
			fmt.Sprintf("This computer's internet address changed%s, and %s still sends to the old one.", where, who),
			fmt.Sprintf("Send %s the update WG Punch shows for this link (a line starting with WGP1U-, or its QR code). They paste it into WG Punch, or run wgpunch accept with their name for this link and the line.", who))
	case !everConnected && f.PeerOnly == "ipv6" && f.NoOwnIPv6:
		return diag(NoCommonPath,
			fmt.Sprintf("%s can only be reached over IPv6 and this computer has no IPv6 internet connection: there is no way for the two to reach each other directly.", capital(who)),
			fmt.Sprintf("Connect this computer to a network with IPv6 (many mobile phone hotspots have it), or ask your internet provider to turn IPv6 on; or ask %s to link from a network with a public IPv4 address (or a forwarded UDP port), then make a new invite.", who))
	case !everConnected && f.PeerOnly == "ipv4" && f.NoOwnIPv4:
		return diag(NoCommonPath,
			fmt.Sprintf("%s can only be reached over IPv4 and this computer has no IPv4 internet connection of its own (only IPv6): there is no way for the two to reach each other directly.", capital(who)),
			fmt.Sprintf("Ask %s to link from a network with IPv6 (many mobile phone hotspots have it), or connect this computer to a network with IPv4, then make a new invite.", who))
	case f.UDPBlocked:
		return diag(UDPBlocked,
			"This network does not let WG Punch's traffic out right now: no address check server answered. Some guest, hotel and company networks block it.",
			"Try another network (a phone hotspot, say), or ask whoever runs this network to allow outgoing UDP.")
	case f.RecoveringFor > 0 && !everConnected:
		// The engine cannot tell a stuck router from a computer that is
		// off: say both, the likelier first.
		return diag(RecoveringStuckMapping,
			fmt.Sprintf("No answer from %s yet. If their computer is on and this link is connected there, a router between you may be holding an old, wrong entry for it: WG Punch pauses now and then so routers forget such entries, then tries again.", who),
			fmt.Sprintf("Check that %s has WG Punch open with this link connected, then leave both computers on: the next try is in about %s.", who, roundUp(f.RecoveringFor)))
	case !everConnected && f.PeerVerdict == "fail":
		what := "its router cannot be reached directly"
		if f.PeerMapping == "endpoint-dependent" {
			what = "its router gives every connection a new port, so a direct link through it cannot be made"
		}
		return diag(PeerNATCannotPunch,
			fmt.Sprintf("%s's own check said %s.", capital(who), what),
			fmt.Sprintf("If %s has IPv6, or another internet connection (a phone hotspot), link from there; otherwise forward a UDP port on %s's router to it and invite again with --endpoint.", who, who))
	case !everConnected:
		since := ""
		if f.UpFor > 0 {
			since = fmt.Sprintf(" in the %s since this link was turned on", roundUp(f.UpFor))
		}
		verdict := ""
		if f.PeerVerdict == "warn" {
			verdict = fmt.Sprintf(" %s's own check warned that its router may not let the link through.", capital(who))
		}
		return diag(NeverConnected,
			fmt.Sprintf("No answer from %s%s. Their computer may be off, WG Punch may not be running there, or they have not finished linking yet.%s", who, since, verdict),
			fmt.Sprintf("Ask %s to open WG Punch and connect this link (and, if they have not, to paste your reply). Keep this computer on; the link comes up by itself once both sides are connected.", who))
	default:
		return diag(PeerSilent,
			fmt.Sprintf("%s was connected, but nothing has come from it for %s. Their computer may be off or asleep, or their internet address changed.", capital(who), roundUp(f.SinceContact)),
			fmt.Sprintf("Ask %s to open WG Punch: if their address changed, it shows them an update to send you.", who))
	}
}

func diag(code, message, action string) *Diagnosis {
	return &Diagnosis{Code: code, Message: message, Action: action}
}

// roundUp says d in whole seconds under two minutes, else whole minutes.
func roundUp(d time.Duration) string {
	if d < 2*time.Minute {
		s := int((d + time.Second - 1) / time.Second)
		if s == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", s)
	}
	if d < 2*time.Hour {
		return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("%d hours", int(d/time.Hour))
}

func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
