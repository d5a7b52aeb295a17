package invite

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.org/x/crypto/argon2"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// DigestLen is the length of an invite digest (Invite.Digest), in bytes.
const DigestLen = 8

// CodeDigits is the number of digits of an exchange safety code.
const CodeDigits = 16

// Argon2id cost of one exchange code (docs/invite-format.md argues the
// numbers): RFC 9106's second recommended setting with one lane.
const (
	codeTime    = 3
	codeMemKiB  = 64 << 10
	codeThreads = 1
)

var (
	// ErrNotAnswer: the reply quotes another invite ID.
	ErrNotAnswer = errors.New("the reply does not answer this invite")
	// ErrInviteChanged: the invite the invitee answered is not one we sent.
	ErrInviteChanged = errors.New("the invite was changed on its way")
)

// Digest identifies the invite's content: the first DigestLen bytes of
// SHA-256("wgpunch invite digest" 0x00 || payload). The payload is the
// canonical encoding (the one Encode writes), so the invitee's digest of
// the invite it decoded equals the inviter's digest of the invite it sent
// exactly when the content arrived unchanged.
func (i *Invite) Digest() [DigestLen]byte {
	h := sha256.New()
	h.Write([]byte("wgpunch invite digest\x00"))
	h.Write(i.marshal())
	return [DigestLen]byte(h.Sum(nil))
}

// Answer makes r a reply to i: it sets r.InviteID and r.InviteDigest.
// The invitee calls it on the invite it decoded before encoding its reply.
func (r *Reply) Answer(i *Invite) {
	r.InviteID = i.ID
	r.InviteDigest = i.Digest()
}

// Code is the safety code of one link, as this side computed it.
type Code struct {
	// Text is the code to read aloud: CodeDigits digits in groups of four
	// ("0421 9387 1156 2203"), or, when KeysOnly, the 12-digit SafetyCode.
	Text string
	// KeysOnly: the other side runs a WG Punch without the exchange code,
	// so the code covers only the two public keys (SafetyCode). Show it
	// labelled as such, and suggest updating both sides.
	KeysOnly bool
}

// ExchangeCode returns the safety code over the whole exchange of a link:
// every field of the invite and of the reply. The inviter passes the invite
// it sent (FindSent) and the reply it received; the invitee the invite it
// received and the reply it sent (after Answer). Any change to either
// message in transit gives the two sides different codes.
//
// It costs one Argon2id evaluation (64 MiB, about 0.25 s): call it once per
// link, at accept time, and store the result (conf.PeerMeta.SafetyCode).
//
// A reply without InviteDigest comes from an older WG Punch: the result is
// then the key-only SafetyCode with KeysOnly set. Errors: ErrNotAnswer if
// r quotes another invite ID, ErrInviteChanged if r answers another
// version of the invite than i.
func ExchangeCode(i *Invite, r *Reply) (Code, error) {
	if err := i.validate(); err != nil {
		return Code{}, fmt.Errorf("safety code: invalid invite: %w", err)
	}
	if err := r.validate(); err != nil {
		return Code{}, fmt.Errorf("safety code: invalid reply: %w", err)
	}
	if r.InviteID != i.ID {
		return Code{}, fmt.Errorf("%w: the reply answers invite %s, not %s", ErrNotAnswer, r.InviteID, i.ID)
	}
	if r.InviteDigest == ([DigestLen]byte{}) {
		return Code{Text: SafetyCode(i.PublicKey, r.PublicKey), KeysOnly: true}, nil
	}
	if r.InviteDigest != i.Digest() {
		return Code{}, fmt.Errorf("%w: the reply answers a version of invite %s that differs from the one given", ErrInviteChanged, i.ID)
	}
	return Code{Text: codeFrom(transcript(i, r))}, nil
}

// transcript is what the exchange code covers: a label, then the invite's
// and the reply's payloads (the canonical encodings, with the reply's
// invite digest), each preceded by its length.
func transcript(i *Invite, r *Reply) []byte {
	ip, rp := i.marshal(), r.marshal()
	t := make([]byte, 0, len(transcriptLabel)+4+len(ip)+len(rp))
	t = append(t, transcriptLabel...)
	t = binary.BigEndian.AppendUint16(t, uint16(len(ip)))
	t = append(t, ip...)
	t = binary.BigEndian.AppendUint16(t, uint16(len(rp)))
	return append(t, rp...)
}

const (
	transcriptLabel = "wgpunch exchange code v2\x00"
	codeSalt        = "wgpunch safety code salt v2"
)

// codeFrom turns a transcript into the digits: Argon2id(transcript, fixed
// salt), first 8 bytes big-endian modulo 10^16, grouped by four.
func codeFrom(t []byte) string {
	k := argon2.IDKey(t, []byte(codeSalt), codeTime, codeMemKiB, codeThreads, 32)
	n := binary.BigEndian.Uint64(k) % 1e16
	s := fmt.Sprintf("%016d", n)
	return s[0:4] + " " + s[4:8] + " " + s[8:12] + " " + s[12:16]
}

// FindSent returns the invite among sent (the tokens of the copies of the
// pending invite this machine sent, e.g. conf.InterfaceMeta.SentInvites)
// that reply r answers: the one whose Digest r quotes, or, for a reply
// without a digest (an older WG Punch), the newest copy with r's invite
// ID. Pass the result to ExchangeCode.
//
// Errors: ErrNotAnswer if no copy has r's invite ID (nothing was stored, or
// another invite); ErrInviteChanged if r answers a version of the invite
// none of the copies is: someone changed the invite on its way (or it is
// a copy older than the ones kept). Nothing should be saved then.
func FindSent(sent []string, r *Reply) (*Invite, error) {
	var match *Invite
	seen := false
	for _, tok := range sent {
		m, err := Decode(tok)
		if err != nil || m.Invite == nil || m.Invite.ID != r.InviteID {
			continue
		}
		seen = true
		if r.InviteDigest == ([DigestLen]byte{}) || m.Invite.Digest() == r.InviteDigest {
			match = m.Invite // sent is oldest first: the newest match wins
		}
	}
	switch {
	case match != nil:
		return match, nil
	case seen:
		return nil, fmt.Errorf("%w: the reply answers a version of invite %s this machine never sent; someone may have changed the invite before the other side accepted it. Nothing was saved: send a new invite, and compare the safety codes by phone", ErrInviteChanged, r.InviteID)
	}
	return nil, fmt.Errorf("%w: no stored copy of invite %s", ErrNotAnswer, r.InviteID)
}

// StoreToken is the form of a token to keep in a config file: lower case,
// which Decode reads back, so the config parser does not take the long
// upper-case run for a leaked key.
func StoreToken(tok string) string { return strings.ToLower(tok) }

// RememberSent returns sent (the stored copies of the pending invite,
// oldest first) with token added: copies of other invites are dropped
// (a new invite ID starts afresh), and only the newest
// conf.MaxSentInvites are kept. Store the result in
// conf.InterfaceMeta.SentInvites with the config that records the invite.
func RememberSent(sent []string, token string) []string {
	m, err := Decode(token)
	if err != nil || m.Invite == nil {
		return sent
	}
	var out []string
	for _, tok := range sent {
		if o, err := Decode(tok); err == nil && o.Invite != nil && o.Invite.ID == m.Invite.ID {
			out = append(out, tok)
		}
	}
	out = append(out, StoreToken(token))
	if n := len(out) - conf.MaxSentInvites; n > 0 {
		out = out[n:]
	}
	return out
}

// StoredCode is the code to show for a peer: the exchange code stored at
// accept time (conf.PeerMeta.SafetyCode), or, for links made before it
// existed, the key-only SafetyCode of our and the peer's public key,
// marked KeysOnly.
func StoredCode(stored string, ours, peer wgtypes.Key) Code {
	if stored != "" {
		return Code{Text: stored}
	}
	return Code{Text: SafetyCode(ours, peer), KeysOnly: true}
}
