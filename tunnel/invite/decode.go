package invite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ErrorKind says why a pasted token was rejected.
type ErrorKind int

const (
	// KindNotInvite: the text is not a WG Punch invite or reply at all.
	KindNotInvite ErrorKind = iota + 1
	// KindTruncated: the token looks cut off.
	KindTruncated
	// KindMistyped: the checksum does not match, a character is not
	// allowed or there are extra characters: the token was changed.
	KindMistyped
	// KindVersion: the token was made by a newer WG Punch.
	KindVersion
	// KindInvalid: the token arrived intact but its content is invalid.
	KindInvalid
	// KindWrongMessage: an intact token of another kind than the caller
	// takes: an update given to Decode, an invite or reply given to
	// DecodeUpdate.
	KindWrongMessage
)

func (k ErrorKind) String() string {
	switch k {
	case KindNotInvite:
		return "not an invite"
	case KindTruncated:
		return "truncated"
	case KindMistyped:
		return "mistyped"
	case KindVersion:
		return "newer version"
	case KindInvalid:
		return "invalid"
	case KindWrongMessage:
		return "wrong message"
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// DecodeError is the error Decode returns. Msg says what is wrong and what
// to do, in words for the user; it never contains more than a short excerpt
// of the pasted text.
type DecodeError struct {
	Kind ErrorKind
	Msg  string
}

func (e *DecodeError) Error() string { return e.Msg }

func decodeErr(k ErrorKind, format string, args ...any) *DecodeError {
	return &DecodeError{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

const (
	adviceCopy = "copy the whole line again, or scan the QR code instead"
)

// Decode parses a pasted invite or reply token. It tolerates what chat apps
// and mail do to a line: surrounding text and whitespace, line breaks and
// zero-width characters inside, lower case, typographic dashes, wrapping in
// <>, quotes or back-quotes, trailing punctuation. When typed by hand, 0, 1
// and 8 are read as O, I and B.
//
// Errors are *DecodeError; Kind tells apart text that is not a token at all,
// a token cut off, a mistyped one, one from a newer version and one whose
// content is invalid. An intact address update ("WGP1U-") is
// KindWrongMessage: DecodeAny reads those too.
func Decode(s string) (*Message, error) {
	m, err := DecodeAny(s)
	if err != nil {
		return nil, err
	}
	if m.Update != nil {
		return nil, decodeErr(KindWrongMessage, "this is an address update for a link that already exists (it starts with WGP1U-), not an invite or reply; take it on that link (wgpunch accept NAME UPDATE)")
	}
	return m, nil
}

// DecodeAny is Decode for every kind of token: the result has exactly one
// of Invite, Reply and Update set. An Update is only decoded, not verified:
// find its link by Update.From and Update.IsFor, then call Update.Verify.
func DecodeAny(s string) (*Message, error) {
	if len(s) > MaxTokenLen {
		return nil, decodeErr(KindNotInvite, "the pasted text is %d bytes long, far more than an invite; paste only the line that starts with WGP1", len(s))
	}
	up := strings.ToUpper(strings.Map(normalizeRune, s))
	var best *DecodeError
	off := 0
	for range maxStarts {
		i := strings.Index(up[off:], "WGP")
		if i < 0 {
			break
		}
		m, err := decodeFrom(up[off+i:])
		if err == nil {
			return m, nil
		}
		if best == nil || best.Kind == KindNotInvite && err.Kind != KindNotInvite {
			best = err
		}
		off += i + 3
	}
	if best != nil {
		return nil, best
	}
	if strings.TrimSpace(up) == "" {
		return nil, decodeErr(KindNotInvite, "nothing was pasted; paste the invite line that starts with WGP1")
	}
	return nil, decodeErr(KindNotInvite, "this is not a WG Punch invite or reply: those start with WGP1I- or WGP1R-; ask the other side to copy the invite text again")
}

const (
	maxStarts     = 8    // occurrences of "WGP" tried
	maxCuts       = 32   // shorter whitespace cuts tried
	maxTokenChars = 4096 // longer candidates are not tried
)

// decodeFrom decodes the token at the start of t. Line breaks may be
// inserted inside the token, but text may also follow it after a space, so
// it tries the whole rest first, then shorter runs of whitespace-separated
// fields.
func decodeFrom(t string) (*Message, *DecodeError) {
	fields := strings.FieldsFunc(t, unicode.IsSpace)
	full := strings.Join(fields, "")
	m, err := decodeToken(full)
	if err == nil {
		return m, nil
	}
	if err.Kind != KindMistyped && err.Kind != KindInvalid {
		return nil, err
	}
	cut := len(full)
	for n, tries := len(fields)-1, 0; n >= 1 && tries < maxCuts; n-- {
		cut -= len(fields[n])
		if cut > maxTokenChars {
			continue
		}
		tries++
		if m, err2 := decodeToken(full[:cut]); err2 == nil {
			return m, nil
		}
	}
	return nil, err
}

// normalizeRune drops invisible characters chat apps insert and maps
// typographic dashes to '-'.
func normalizeRune(r rune) rune {
	switch r {
	case '\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e':
		return -1
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\ufe58', '\ufe63', '\uff0d':
		return '-'
	}
	return r
}

// trailing characters that quoting, markdown and sentences add.
const trailingJunk = ".,;:!?)]}>\"'`*_~»”’›"

// decodeToken decodes one upper-case token without whitespace that starts
// with "WGP".
func decodeToken(t string) (*Message, *DecodeError) {
	t = strings.TrimRight(t, trailingJunk)
	if len(t) > maxTokenChars {
		return nil, decodeErr(KindMistyped, "the text after WGP is %d characters long, far more than an invite; paste only the invite line", len(t))
	}
	// "WGP" version kind "-"
	i := 3
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	digits := t[3:i]
	if digits == "" || i+1 >= len(t) || t[i+1] != '-' {
		if isPrefixOf(t, tag(kindInvite)+"-") || isPrefixOf(t, tag(kindReply)+"-") {
			return nil, decodeErr(KindTruncated, "the invite is cut off right after its start %q; %s", t, adviceCopy)
		}
		if isPrefixOf(t, tag(kindUpdate)+"-") {
			return nil, decodeErr(KindTruncated, "the update is cut off right after its start %q; %s", t, adviceCopy)
		}
		if digits == "" || i >= len(t) {
			return nil, decodeErr(KindNotInvite, "this is not a WG Punch invite or reply: those start with WGP1I- or WGP1R-; ask the other side to copy the invite text again")
		}
		return nil, decodeErr(KindMistyped, "the start of the invite %q is damaged (expected WGP1I- or WGP1R-); %s", excerpt(t), adviceCopy)
	}
	if v, err := strconv.Atoi(digits); err != nil || v != formatVersion {
		if err != nil || v > formatVersion {
			return nil, decodeErr(KindVersion, "this invite was made by a newer WG Punch (format %s, this one reads format %d); update WG Punch on this computer, or ask the other side for an invite from an older version", digits, formatVersion)
		}
		return nil, decodeErr(KindMistyped, "the start of the invite %q is damaged (expected WGP1I- or WGP1R-); %s", excerpt(t), adviceCopy)
	}
	kind := t[i]
	what := "invite"
	switch kind {
	case kindInvite:
	case kindReply:
		what = "reply"
	case kindUpdate:
		what = "update"
	default:
		return nil, decodeErr(KindVersion, "WG Punch message type %q is unknown to this version (only I for invite, R for reply and U for address update); if the other side runs a newer WG Punch, update this one, otherwise copy the whole line again", string(kind))
	}
	body := []byte(t[i+2:])
	for j, c := range body {
		switch {
		case 'A' <= c && c <= 'Z', '2' <= c && c <= '7':
		case c == '0':
			body[j] = 'O'
		case c == '1':
			body[j] = 'I'
		case c == '8':
			body[j] = 'B'
		default:
			return nil, decodeErr(KindMistyped, "the %s contains %q at character %d, which cannot appear in it; %s", what, excerptRune(t[i+2+j:]), i+2+j+1, adviceCopy)
		}
	}
	// Base32 without padding: a length of 1, 3 or 6 mod 8 cannot occur;
	// drop the dangling characters (a truncated paste shows up below).
	dangling := 0
	for n := len(body) % 8; n == 1 || n == 3 || n == 6; n = len(body) % 8 {
		body = body[:len(body)-1]
		dangling++
	}
	frame := make([]byte, b32.DecodedLen(len(body)))
	n, err := b32.Decode(frame, body)
	if err != nil {
		return nil, decodeErr(KindMistyped, "the %s is damaged (%v); %s", what, err, adviceCopy)
	}
	frame = frame[:n]
	if len(frame) < headerLen {
		return nil, decodeErr(KindTruncated, "the %s is cut off after %d characters; %s", what, len(t), adviceCopy)
	}
	declared := int(binary.BigEndian.Uint16(frame))
	rest := frame[headerLen:]
	intact := len(rest) >= checksumLen &&
		bytes.Equal(checksum(kind, rest[:len(rest)-checksumLen]), rest[len(rest)-checksumLen:])
	wantChars := len(t[:i+2]) + b32.EncodedLen(headerLen+declared+checksumLen)
	switch {
	case intact && declared == len(rest)-checksumLen:
	case intact:
		return nil, decodeErr(KindMistyped, "the start of the %s is damaged (its length field does not match); %s", what, adviceCopy)
	case len(rest) < declared+checksumLen:
		return nil, decodeErr(KindTruncated, "the %s looks cut off: it has %d of %d characters; %s", what, len(t), wantChars, adviceCopy)
	case len(rest) > declared+checksumLen:
		return nil, decodeErr(KindMistyped, "the %s has %d characters more than it should (text pasted after it, or a damaged start); %s", what, len(t)-wantChars, adviceCopy)
	default:
		return nil, decodeErr(KindMistyped, "the %s is damaged: its checksum does not match, so a character was changed or mistyped; copy and paste it instead of retyping, or scan the QR code", what)
	}
	if dangling > 0 {
		return nil, decodeErr(KindMistyped, "the %s has %d characters more than it should (text pasted after it?); %s", what, dangling, adviceCopy)
	}
	if b32.EncodeToString(frame) != string(body) {
		// The last character carries bits beyond the last byte that an
		// encoder leaves zero.
		return nil, decodeErr(KindMistyped, "the last character of the %s is wrong, so it was changed or mistyped; %s", what, adviceCopy)
	}
	payload := rest[:declared]
	switch kind {
	case kindInvite:
		inv, err := unmarshalInvite(payload)
		if err != nil {
			return nil, invalid(what, err)
		}
		return &Message{Invite: inv}, nil
	case kindUpdate:
		u, err := unmarshalUpdate(payload)
		var nf errNewerField
		if errors.As(err, &nf) {
			return nil, decodeErr(KindVersion, "this update was made by a newer WG Punch (%v); update WG Punch on this computer, then take it again", nf)
		}
		if err != nil {
			return nil, invalid(what, err)
		}
		return &Message{Update: u}, nil
	default:
		rp, err := unmarshalReply(payload)
		if err != nil {
			return nil, invalid(what, err)
		}
		return &Message{Reply: rp}, nil
	}
}

func invalid(what string, err error) *DecodeError {
	return decodeErr(KindInvalid, "the %s arrived intact but its content is invalid: %v; ask the other side to make a new %s with an up-to-date WG Punch", what, err, what)
}

func isPrefixOf(s, full string) bool { return len(s) < len(full) && strings.HasPrefix(full, s) }

func excerpt(s string) string {
	if r := []rune(s); len(r) > 12 {
		return string(r[:12]) + "…"
	}
	return s
}

func excerptRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}
