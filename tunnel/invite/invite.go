// Package invite is how two WG Punch users introduce their machines to each
// other: the inviter sends an invite, the invitee answers with a reply.
//
// Each message is one line of text such as
//
//	WGP1I-AAVQ7…
//
// that survives chat apps and e-mail: no spaces, a recognisable prefix with a
// format version, a compact binary payload in upper-case base32 (which also
// fits the QR code alphanumeric mode) and a checksum, so a truncated or
// mistyped paste is caught and named as such. docs/invite-format.md documents
// the format byte by byte.
//
// Messages carry public keys only: the types have no field for a private key.
package invite

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"strings"
	"unicode"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Limits of the content of a message. Encode and Decode reject more.
const (
	MaxNameRunes    = 32  // display name, in runes (and at most 4 bytes each)
	MaxLANs         = 16  // shared LAN subnets (and at most as many aliases each way)
	MaxHostLen      = 100 // host name of an endpoint (dynamic DNS), in bytes
	MaxNATStringLen = 32  // NAT mapping/verdict strings that have no short code
	MaxTokenLen     = 16 << 10
	// MinLANBits is conf.MinLANBits, the shortest prefix a shared LAN
	// may have.
	MinLANBits = conf.MinLANBits
)

// IDLen is the length of an invite ID as made by NewID: 16 lower-case hex
// digits (64 random bits).
const IDLen = 16

// Invite is what the inviter sends: who it is, where to reach it and the
// tunnel addressing it proposes.
type Invite struct {
	// ID is a random identifier (NewID) that the reply quotes back.
	ID string
	// Name is the inviter's display name: at most MaxNameRunes printable
	// runes, may be empty.
	Name      string
	PublicKey wgtypes.Key
	// Endpoint is the inviter's public IP:port (zero: unknown): IPv4, a
	// host name, or IPv6 when that is all it has; LANEndpoint its LAN
	// IP:port (zero: none), used when both machines are on one LAN.
	Endpoint, LANEndpoint conf.Endpoint
	// Endpoint6 is the inviter's public IPv6 [IP]:port beside an Endpoint
	// that is not IPv6 (zero: none). It is encoded in an extension, so an
	// invite without it is byte for byte what older versions write.
	Endpoint6 conf.Endpoint
	// Subnet is the proposed tunnel subnet, e.g. 10.77.12.0/24.
	// InviterAddress is the inviter's own tunnel address and
	// InviteeAddress the one it gives the other side, e.g. 10.77.12.1/24
	// and 10.77.12.2/24; both lie inside Subnet and differ.
	Subnet, InviterAddress, InviteeAddress netip.Prefix
	// LANs are the inviter's LAN subnets it shares (at most MaxLANs).
	LANs []netip.Prefix
	// NATMapping and NATVerdict are the inviter's last NAT check result
	// (natcheck.Mapping and natcheck.Verdict values); empty: not checked.
	NATMapping, NATVerdict string
	// AliasPool is a private IPv4 /16 free on the inviter's side, inside
	// which the invitee offers aliases for its shared LANs (Reply.Offers)
	// when they overlap a network of the inviter. Zero: none (an invite
	// from a WG Punch without LAN aliases). Encoded in an extension.
	AliasPool netip.Prefix
}

// Reply is what the invitee sends back.
type Reply struct {
	// InviteID is the ID of the invite this reply answers.
	InviteID string
	// Name is the invitee's display name (see Invite.Name).
	Name      string
	PublicKey wgtypes.Key
	// Endpoint, LANEndpoint and Endpoint6 are as in Invite.
	Endpoint, LANEndpoint conf.Endpoint
	Endpoint6             conf.Endpoint
	// LANs are the invitee's LAN subnets it shares.
	LANs []netip.Prefix
	// NATMapping and NATVerdict are as in Invite.
	NATMapping, NATVerdict string
	// InviteDigest is the Digest of the invite this reply answers, as the
	// invitee received it (set it with Answer). It tells the inviter which
	// copy of a re-issued invite was answered, and that the invitee
	// computes the exchange safety code (ExchangeCode). Zero: a reply from
	// a WG Punch without it; the link then only has the key-only code.
	InviteDigest [DigestLen]byte
	// Offers are aliases inside the invite's AliasPool for the invitee's
	// shared LANs (each LAN one of LANs): the inviter reaches LAN as As
	// when LAN overlaps a network of its own, and the invitee's gateway
	// translates. Encoded in an extension; empty: none.
	Offers []conf.LANAlias
	// ReachAs are the inviter's shared LANs (of Invite.LANs) that
	// overlap a network of the invitee, with the alias the invitee
	// reaches each as: the inviter's gateway translates. Encoded in an
	// extension; empty: none.
	ReachAs []conf.LANAlias
}

// Message is a decoded token: exactly one of Invite and Reply is set, or,
// from DecodeAny only, Update.
type Message struct {
	Invite *Invite
	Reply  *Reply
	Update *Update
}

// NewID returns a fresh random invite ID: 16 lower-case hex digits.
func NewID() string {
	var b [IDLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("invite: crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Encode validates the invite and returns its one-line token ("WGP1I-…").
// The error says which field is wrong.
func (i *Invite) Encode() (string, error) {
	if err := i.validate(); err != nil {
		return "", err
	}
	return seal(kindInvite, i.marshal()), nil
}

// Encode validates the reply and returns its one-line token ("WGP1R-…").
// The error says which field is wrong.
func (r *Reply) Encode() (string, error) {
	if err := r.validate(); err != nil {
		return "", err
	}
	return seal(kindReply, r.marshal()), nil
}

// CleanName turns any string (a host name, user input) into a valid display
// name: non-printable characters become spaces, runs of spaces collapse,
// leading and trailing spaces go, and it is cut to MaxNameRunes runes.
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, " ")
	var b strings.Builder
	n, space := 0, false
	for _, c := range s {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) {
			space = n > 0
			continue
		}
		if n == MaxNameRunes {
			break
		}
		if space {
			if n+1 == MaxNameRunes {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}
