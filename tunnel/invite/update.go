package invite

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// An update token ("WGP1U-…") tells the peer of an existing link that this
// side's address changed. It is framed like an invite and authenticated
// with a MAC whose key only the two ends of the link can compute: HKDF over
// X25519(our private, their public) and the link's preshared key, bound to
// the direction sender → receiver. docs/invite-format.md ("Update token")
// describes it byte by byte.

// Limits and defaults of an update.
const (
	// DefaultUpdateLifetime is how long NewUpdate makes an update valid:
	// long enough to sit in a chat over a weekend.
	DefaultUpdateLifetime = 7 * 24 * time.Hour
	// MaxUpdateLifetime is the longest validity Encode and Decode accept.
	MaxUpdateLifetime = 30 * 24 * time.Hour
	// MaxUpdateSkew is how far in the future (by the receiver's clock) an
	// update may be dated and still be taken.
	MaxUpdateSkew = 10 * time.Minute
	// ReceiverIDLen is the length of ReceiverID, in bytes.
	ReceiverIDLen = 8
)

const (
	kindUpdate = 'U'
	macLen     = 16
	// updateFixedLen: from, to, issued, lifetime.
	updateFixedLen = 32 + ReceiverIDLen + 8 + 4
	// updateLabel is the KDF's own label: no other key in WG Punch or
	// WireGuard is derived with it.
	updateLabel = "wgpunch update v1"
)

// Optional field types. Types below fieldCritical that a decoder does not
// know are skipped (the MAC still covers them); a type at or above it must
// be understood, so an older decoder refuses the update as "made by a newer
// WG Punch".
const (
	fieldEndpoint4   = 0x01 // public IPv4 endpoint: 4 bytes address, 2 bytes port
	fieldEndpoint6   = 0x02 // public IPv6 endpoint: 16 bytes address, 2 bytes port
	fieldLANEndpoint = 0x03 // LAN endpoint: 4 or 16 bytes address, 2 bytes port
	fieldCritical    = 0x80
)

// Update is what the side whose address changed sends its peer: the new
// endpoints, for one link, from one sender to one receiver, valid from
// Issued until Expires. It carries public data only.
//
// The receiver finds the link by From (its peer's public key) and IsFor
// (its own public key), then calls Verify with that link's keys and the Seq
// of the last update it took from that peer.
type Update struct {
	// From is the sender's public key.
	From wgtypes.Key
	// To is ReceiverID of the receiver's public key.
	To [ReceiverIDLen]byte
	// Endpoint is the sender's new public IPv4 endpoint; Endpoint6 its
	// public IPv6 endpoint and LANEndpoint its LAN one. Zero: not
	// announced. At least one is set; ports are 1..65535.
	Endpoint, Endpoint6, LANEndpoint netip.AddrPort
	// Issued is when the update was made, in whole milliseconds (UTC); it
	// is also the update's sequence number (Seq): a receiver takes only
	// updates issued after the last one it took.
	Issued time.Time
	// Expires is when the update stops being valid: a whole number of
	// seconds after Issued, at most MaxUpdateLifetime.
	Expires time.Time

	// Set by DecodeAny and DecodeUpdate: the payload bytes the MAC covers
	// (including optional fields this version skips) and the MAC.
	signed []byte
	mac    [macLen]byte
}

// ReceiverID is the short identifier of a receiver's public key that an
// update carries: SHA-256("wgpunch update receiver v1" 0x00 || key)[:8].
func ReceiverID(pub wgtypes.Key) [ReceiverIDLen]byte {
	h := sha256.New()
	h.Write([]byte("wgpunch update receiver v1\x00"))
	h.Write(pub[:])
	return [ReceiverIDLen]byte(h.Sum(nil))
}

// NewUpdate returns an update from the key pair whose public key is from,
// to the peer whose public key is to, announcing public (IPv4 into
// Endpoint, IPv6 into Endpoint6), issued at now and valid for
// DefaultUpdateLifetime.
//
// Issued is the sequence number: if the sender remembers the Issued of the
// last update it sent on this link, it should make the next one later
// (a clock set back would otherwise make the peer refuse it as older).
func NewUpdate(from, to wgtypes.Key, public netip.AddrPort, now time.Time) *Update {
	u := &Update{From: from, To: ReceiverID(to)}
	public = netip.AddrPortFrom(public.Addr().Unmap(), public.Port())
	if public.Addr().Is6() {
		u.Endpoint6 = public
	} else {
		u.Endpoint = public
	}
	u.Issued = time.UnixMilli(now.UnixMilli()).UTC()
	u.Expires = u.Issued.Add(DefaultUpdateLifetime)
	return u
}

// Seq is the update's sequence number: Issued in Unix milliseconds.
func (u *Update) Seq() uint64 { return uint64(u.Issued.UnixMilli()) }

// IsFor reports whether the update is addressed to the key pair whose
// public key is ours. Use it with From to find the link an update belongs
// to; Verify checks it again.
func (u *Update) IsFor(ours wgtypes.Key) bool { return u.To == ReceiverID(ours) }

// Encode validates the update and returns its one-line token ("WGP1U-…"),
// authenticated for the link between ourPrivate (whose public key must be
// From) and theirPublic (whose ReceiverID must be To). psk is the link's
// preshared key; nil, like an all-zero key, means none. The token holds no
// private or preshared key.
func (u *Update) Encode(ourPrivate, theirPublic wgtypes.Key, psk *wgtypes.Key) (string, error) {
	if err := u.validate(); err != nil {
		return "", err
	}
	if ourPrivate.PublicKey() != u.From {
		return "", errors.New("the private key given does not belong to the update's sender (From)")
	}
	if !u.IsFor(theirPublic) {
		return "", errors.New("the receiver's public key given does not match the update's receiver (To)")
	}
	signed := u.marshal()
	mac, err := updateMAC(ourPrivate, theirPublic, psk, u.From, theirPublic, signed)
	if err != nil {
		return "", err
	}
	return seal(kindUpdate, append(signed, mac[:]...)), nil
}

// Verify checks a decoded update on the receiving side of a link: it must
// come from theirPublic, be addressed to the key pair of ourPrivate, carry
// a MAC made with this link's keys (psk as in Encode), be newer than last
// (the Seq of the last update taken from this peer; 0: none yet), not have
// expired at now and not be dated more than MaxUpdateSkew after now.
//
// Errors are *UpdateError; errors.Is tells the reasons apart (ErrUpdate…).
// Whatever the error, nothing in the update may be applied. The MAC covers
// the bytes as received: an update whose fields were changed after
// decoding is refused as forged. (An update that was never decoded is a
// programming error, reported as a plain error.)
func (u *Update) Verify(ourPrivate, theirPublic wgtypes.Key, psk *wgtypes.Key, last uint64, now time.Time) error {
	if u.signed == nil {
		return errors.New("invite: Verify needs an update from DecodeAny or DecodeUpdate")
	}
	ours := ourPrivate.PublicKey()
	fail := func(err error, at time.Time) error {
		return &UpdateError{Err: err, At: at.In(now.Location()), Now: now}
	}
	switch {
	case u.From == ours:
		return fail(ErrUpdateReflected, time.Time{})
	case u.From != theirPublic:
		return fail(ErrUpdateWrongSender, time.Time{})
	case !u.IsFor(ours):
		return fail(ErrUpdateWrongLink, time.Time{})
	}
	mac, err := updateMAC(ourPrivate, theirPublic, psk, theirPublic, ours, u.signed)
	if err != nil || !hmac.Equal(mac[:], u.mac[:]) || !u.asSigned() {
		return fail(ErrUpdateForged, time.Time{})
	}
	switch seq := u.Seq(); {
	case seq == last:
		return fail(ErrUpdateReplayed, u.Issued)
	case seq < last:
		return fail(ErrUpdateOld, u.Issued)
	case !now.Before(u.Expires):
		return fail(ErrUpdateExpired, u.Expires)
	case u.Issued.Sub(now) > MaxUpdateSkew:
		return fail(ErrUpdateFuture, u.Issued)
	}
	return nil
}

// updateMAC is the first macLen bytes of HMAC-SHA256(K, signed), where
//
//	dh  = X25519(ourPrivate, theirPublic)       (refused if all zero)
//	K   = HKDF-SHA256(secret = dh || psk, salt = updateLabel,
//	                  info = updateLabel " mac" 0x00 || sender || receiver, 32 bytes)
//
// psk is 32 zero bytes when the link has none. Both ends compute the same
// dh; sender and receiver give the direction, so a token cannot be
// reflected back to the side that made it.
func updateMAC(ourPrivate, theirPublic wgtypes.Key, psk *wgtypes.Key, sender, receiver wgtypes.Key, signed []byte) ([macLen]byte, error) {
	var mac [macLen]byte
	priv, err := ecdh.X25519().NewPrivateKey(ourPrivate[:])
	if err != nil {
		return mac, errors.New("the private key is not usable")
	}
	pub, err := ecdh.X25519().NewPublicKey(theirPublic[:])
	if err != nil {
		return mac, errors.New("the other side's public key is not usable")
	}
	dh, err := priv.ECDH(pub)
	if err != nil {
		return mac, errors.New("the other side's public key is not usable (a weak key)")
	}
	secret := make([]byte, 0, 64)
	secret = append(secret, dh...)
	clear(dh)
	if psk != nil {
		secret = append(secret, psk[:]...)
	} else {
		secret = append(secret, make([]byte, wgtypes.KeyLen)...)
	}
	info := updateLabel + " mac\x00" + string(sender[:]) + string(receiver[:])
	k, err := hkdf.Key(sha256.New, secret, []byte(updateLabel), info, 32)
	clear(secret)
	if err != nil {
		return mac, err
	}
	h := hmac.New(sha256.New, k)
	clear(k)
	h.Write(signed)
	copy(mac[:], h.Sum(nil))
	return mac, nil
}

// asSigned reports whether u's fields are still those of the bytes it was
// decoded from.
func (u *Update) asSigned() bool {
	d, err := unmarshalUpdate(append(u.signed[:len(u.signed):len(u.signed)], u.mac[:]...))
	return err == nil && d.From == u.From && d.To == u.To &&
		d.Endpoint == u.Endpoint && d.Endpoint6 == u.Endpoint6 && d.LANEndpoint == u.LANEndpoint &&
		d.Issued.Equal(u.Issued) && d.Expires.Equal(u.Expires)
}

// macOK reports whether the update's MAC is right for the receiving side
// of the link (tests use it to tell MAC refusals from earlier checks).
func (u *Update) macOK(ourPrivate, theirPublic wgtypes.Key, psk *wgtypes.Key) bool {
	mac, err := updateMAC(ourPrivate, theirPublic, psk, theirPublic, ourPrivate.PublicKey(), u.signed)
	return err == nil && hmac.Equal(mac[:], u.mac[:])
}

// Reasons Verify refuses an update; the *UpdateError it returns wraps one.
var (
	ErrUpdateReflected   = errors.New("the update was made by this computer")
	ErrUpdateWrongSender = errors.New("the update comes from another computer")
	ErrUpdateWrongLink   = errors.New("the update was made for a different link")
	ErrUpdateForged      = errors.New("the update's signature does not match")
	ErrUpdateReplayed    = errors.New("the update was already taken")
	ErrUpdateOld         = errors.New("the update is older than one already taken")
	ErrUpdateExpired     = errors.New("the update has expired")
	ErrUpdateFuture      = errors.New("the update is dated in the future")
)

// UpdateError is why Verify refused an update. Error and Explain say it in
// words for the user (nothing was changed, what to do); errors.Is(err,
// ErrUpdate…) tells the reasons apart.
type UpdateError struct {
	Err error     // one of the ErrUpdate… reasons
	At  time.Time // ErrUpdateExpired: Expires; ErrUpdateOld, ErrUpdateReplayed, ErrUpdateFuture: Issued
	Now time.Time // the receiver's clock when it verified
}

func (e *UpdateError) Unwrap() error { return e.Err }

func (e *UpdateError) Error() string { return e.Explain("") }

// Explain says why the update was refused, naming the peer by its display
// name (empty: "the other computer").
func (e *UpdateError) Explain(name string) string {
	if name == "" {
		name = "the other computer"
	}
	const when = "2 Jan 2006 15:04 MST"
	fresh := "ask " + name + " to send a fresh one from WG Punch"
	switch e.Err {
	case ErrUpdateReflected:
		return "this is an update this computer made; nothing was changed; send it to " + name + " instead of taking it here"
	case ErrUpdateWrongSender:
		return "this update comes from a computer other than " + name + "; nothing was changed; take it on the link to the computer that sent it"
	case ErrUpdateWrongLink:
		return "this update was made for a different link; nothing was changed; take it on the computer it was sent to"
	case ErrUpdateForged:
		return "this update was not made by " + name + "'s WG Punch for this link, or it was changed on its way; nothing was changed; " + fresh
	case ErrUpdateReplayed:
		return "this update was already taken; nothing was changed"
	case ErrUpdateOld:
		return fmt.Sprintf("this update (made %s) is older than one already taken; nothing was changed; if %s's address changed again, %s", e.At.Format(when), name, fresh)
	case ErrUpdateExpired:
		return fmt.Sprintf("this update expired on %s; nothing was changed; %s", e.At.Format(when), fresh)
	case ErrUpdateFuture:
		return fmt.Sprintf("this update is dated %s, %s ahead of this computer's clock; nothing was changed; check the date, time and time zone here and on %s's computer, then %s",
			e.At.Format(when), e.At.Sub(e.Now).Round(time.Minute), name, fresh)
	}
	return "the update was refused: " + e.Err.Error()
}

// String describes the update (public data only).
func (u *Update) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "update from %s for receiver %x:", u.From, u.To)
	for _, f := range []struct {
		what string
		ap   netip.AddrPort
	}{{"endpoint", u.Endpoint}, {"IPv6 endpoint", u.Endpoint6}, {"LAN endpoint", u.LANEndpoint}} {
		if f.ap.IsValid() {
			fmt.Fprintf(&b, " %s %s,", f.what, f.ap)
		}
	}
	fmt.Fprintf(&b, " issued %s, expires %s", u.Issued.UTC().Format(time.RFC3339Nano), u.Expires.UTC().Format(time.RFC3339))
	return b.String()
}

// GoString is String: %#v shows the same public fields.
func (u *Update) GoString() string { return "invite.Update(" + u.String() + ")" }

func (u *Update) validate() error {
	if u.From == (wgtypes.Key{}) {
		return errors.New("sender public key is all zeros")
	}
	if !u.Endpoint.IsValid() && !u.Endpoint6.IsValid() && !u.LANEndpoint.IsValid() {
		return errors.New("the update announces no endpoint")
	}
	for _, f := range []struct {
		what   string
		ap     netip.AddrPort
		family int // 4, 6 or 0 (either)
	}{{"public IPv4 endpoint", u.Endpoint, 4}, {"public IPv6 endpoint", u.Endpoint6, 6}, {"LAN endpoint", u.LANEndpoint, 0}} {
		if err := validateAddrPort(f.what, f.ap, f.family); err != nil {
			return err
		}
	}
	ms := u.Issued.UnixMilli()
	switch {
	case u.Issued.IsZero() || ms <= 0:
		return errors.New("issue time is missing or before 1970")
	case !u.Issued.Equal(time.UnixMilli(ms)):
		return errors.New("issue time must be whole milliseconds (see NewUpdate)")
	}
	life := u.Expires.Sub(u.Issued)
	switch {
	case life <= 0:
		return errors.New("the update expires before or when it is issued")
	case life > MaxUpdateLifetime:
		return fmt.Errorf("the update is valid for %s, at most %s allowed", life, MaxUpdateLifetime)
	case life%time.Second != 0:
		return errors.New("the update's lifetime must be whole seconds")
	}
	return nil
}

func validateAddrPort(what string, ap netip.AddrPort, family int) error {
	if ap == (netip.AddrPort{}) {
		return nil
	}
	a := ap.Addr()
	switch {
	case !ap.IsValid():
		return fmt.Errorf("%s is invalid", what)
	case family == 4 && !a.Is4(), family == 6 && !a.Is6():
		return fmt.Errorf("%s %s is not an IPv%d address", what, a, family)
	case a.Is4In6():
		return fmt.Errorf("%s %s: use the plain IPv4 form", what, a)
	case a.Zone() != "":
		return fmt.Errorf("%s %s: an IPv6 zone means nothing to the other machine", what, a)
	case a.IsUnspecified(), a.IsMulticast():
		return fmt.Errorf("%s %s: not a unicast address", what, a)
	case ap.Port() == 0:
		return fmt.Errorf("%s %s: port must be 1..65535", what, a)
	}
	return nil
}

// marshal writes the signed part of the payload: everything but the MAC.
func (u *Update) marshal() []byte {
	var w writer
	w.bytes(u.From[:])
	w.bytes(u.To[:])
	w.b = binary.BigEndian.AppendUint64(w.b, uint64(u.Issued.UnixMilli()))
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(u.Expires.Sub(u.Issued)/time.Second))
	for _, f := range []struct {
		typ byte
		ap  netip.AddrPort
	}{{fieldEndpoint4, u.Endpoint}, {fieldEndpoint6, u.Endpoint6}, {fieldLANEndpoint, u.LANEndpoint}} {
		if !f.ap.IsValid() {
			continue
		}
		a := f.ap.Addr().AsSlice()
		w.byte(f.typ)
		w.byte(byte(len(a) + 2))
		w.bytes(a)
		w.b = binary.BigEndian.AppendUint16(w.b, f.ap.Port())
	}
	return w.b
}

// errNewerField: a critical optional field this version does not know.
type errNewerField byte

func (e errNewerField) Error() string {
	return fmt.Sprintf("it has field %#02x, which this version does not know", byte(e))
}

func unmarshalUpdate(b []byte) (*Update, error) {
	if len(b) < updateFixedLen+macLen {
		return nil, errShort
	}
	n := len(b) - macLen
	u := &Update{signed: b[:n:n]}
	copy(u.mac[:], b[n:])
	r := reader{b: u.signed}
	u.From = r.key()
	copy(u.To[:], r.next(ReceiverIDLen))
	ms := binary.BigEndian.Uint64(r.next(8)) // the length check above covers the fixed part
	life := binary.BigEndian.Uint32(r.next(4))
	if ms == 0 || ms > math.MaxInt64 {
		r.fail("issue time %d is out of range", ms)
	}
	u.Issued = time.UnixMilli(int64(ms)).UTC()
	u.Expires = u.Issued.Add(time.Duration(life) * time.Second)
	if time.Duration(life)*time.Second > MaxUpdateLifetime {
		r.fail("the update is valid for %d seconds, at most %d allowed", life, int(MaxUpdateLifetime/time.Second))
	}
	prev := -1
	for len(r.b) > 0 && r.err == nil {
		typ := r.byte()
		v := r.next(int(r.byte()))
		if r.err != nil {
			break
		}
		if int(typ) <= prev {
			r.fail("optional field %#02x follows field %#02x: out of order or repeated", typ, prev)
			break
		}
		prev = int(typ)
		switch typ {
		case fieldEndpoint4:
			u.Endpoint = r.addrPort("public IPv4 endpoint", v, 4)
		case fieldEndpoint6:
			u.Endpoint6 = r.addrPort("public IPv6 endpoint", v, 16)
		case fieldLANEndpoint:
			u.LANEndpoint = r.addrPort("LAN endpoint", v, 0)
		case 0:
			r.fail("optional field type 0 is reserved")
		default:
			if typ >= fieldCritical {
				return nil, errNewerField(typ)
			}
			// A field from a newer WG Punch that this version may
			// ignore: the MAC covers it, nothing reads it.
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return u, u.validate()
}

// addrPort reads an optional field's address and port; n is the address
// length (4 or 16, 0: either).
func (r *reader) addrPort(what string, v []byte, n int) netip.AddrPort {
	if n == 0 && (len(v) == 4+2 || len(v) == 16+2) {
		n = len(v) - 2
	}
	if len(v) != n+2 {
		r.fail("%s is %d bytes long, want %d", what, len(v), n+2)
		return netip.AddrPort{}
	}
	a, _ := netip.AddrFromSlice(v[:n])
	return netip.AddrPortFrom(a, binary.BigEndian.Uint16(v[n:]))
}

// DecodeUpdate decodes a pasted update token ("WGP1U-…"), tolerating what
// chat apps do to it as Decode does. It checks the framing and the content,
// not who made it: call Verify before using anything in it. Errors are
// *DecodeError; an intact invite or reply is KindWrongMessage.
func DecodeUpdate(s string) (*Update, error) {
	m, err := DecodeAny(s)
	if err != nil {
		return nil, err
	}
	if m.Update == nil {
		what := "an invite (WGP1I-)"
		if m.Reply != nil {
			what = "a reply (WGP1R-)"
		}
		return nil, decodeErr(KindWrongMessage, "this is %s, not an address update; it is used to make a new link, not to change one", what)
	}
	return m.Update, nil
}
