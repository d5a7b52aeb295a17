package invite

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// The link of the update tests: A (sender, e.g. the inviter) and B
// (receiver) with preshared key P; C is a third machine.
var (
	privA, privB, privC = key(0x11), key(0x22), key(0x33)
	pubA, pubB, pubC    = privA.PublicKey(), privB.PublicKey(), privC.PublicKey()
	testPSK             = key(0x44)
	updateNow           = time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC)
)

var updateCmp = cmp.Options{cmpopts.IgnoreUnexported(Update{}), cmpopts.EquateComparable(netip.AddrPort{})}

func aport(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func testUpdate() *Update {
	return NewUpdate(pubA, pubB, aport("203.0.113.9:51820"), updateNow)
}

func encodeUpdate(t testing.TB, u *Update, psk *wgtypes.Key) string {
	t.Helper()
	tok, err := u.Encode(privA, pubB, psk)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return tok
}

func decodeUpdate(t testing.TB, tok string) *Update {
	t.Helper()
	u, err := DecodeUpdate(tok)
	if err != nil {
		t.Fatalf("DecodeUpdate(%q): %v", tok, err)
	}
	return u
}

// signAs seals signed bytes with the MAC of the link priv → theirPublic,
// as a WG Punch (possibly a newer one) holding priv would.
func signAs(t testing.TB, priv, theirPublic wgtypes.Key, psk *wgtypes.Key, signed []byte) string {
	t.Helper()
	mac, err := updateMAC(priv, theirPublic, psk, priv.PublicKey(), theirPublic, signed)
	if err != nil {
		t.Fatal(err)
	}
	return seal(kindUpdate, append(append([]byte(nil), signed...), mac[:]...))
}

// payloadOf returns the payload (signed bytes + MAC) of a token.
func payloadOf(t testing.TB, tok string) []byte {
	t.Helper()
	frame, err := b32.DecodeString(strings.TrimPrefix(tok, "WGP1U-"))
	if err != nil {
		t.Fatal(err)
	}
	return frame[headerLen : len(frame)-checksumLen]
}

// TestUpdateRoundTrip: what Encode writes, DecodeUpdate reads back field
// for field, Verify accepts on the receiving side, and encoding again gives
// the same token.
func TestUpdateRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Update)
		psk  *wgtypes.Key
	}{
		{"IPv4 endpoint, PSK", nil, &testPSK},
		{"IPv4 endpoint, no PSK", nil, nil},
		{"IPv6 only", func(u *Update) { u.Endpoint, u.Endpoint6 = netip.AddrPort{}, aport("[2001:db8::9]:51820") }, &testPSK},
		{"all three endpoints", func(u *Update) {
			u.Endpoint6, u.LANEndpoint = aport("[2001:db8::9]:51821"), aport("192.168.1.20:51820")
		}, &testPSK},
		{"LAN endpoint only, IPv6", func(u *Update) { u.Endpoint, u.LANEndpoint = netip.AddrPort{}, aport("[fd00::20]:1") }, nil},
		{"longest lifetime", func(u *Update) { u.Expires = u.Issued.Add(MaxUpdateLifetime) }, &testPSK},
		{"one second lifetime", func(u *Update) { u.Expires = u.Issued.Add(time.Second) }, &testPSK},
		{"port 65535", func(u *Update) { u.Endpoint = aport("198.51.100.1:65535") }, &testPSK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := testUpdate()
			if tt.edit != nil {
				tt.edit(want)
			}
			tok := encodeUpdate(t, want, tt.psk)
			if !strings.HasPrefix(tok, "WGP1U-") || strings.Trim(tok[6:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("token %q: want WGP1U- and upper-case base32", tok)
			}
			m, err := DecodeAny(tok)
			if err != nil {
				t.Fatalf("DecodeAny: %v", err)
			}
			if m.Invite != nil || m.Reply != nil || m.Update == nil {
				t.Fatalf("DecodeAny = %+v, want only Update", m)
			}
			got := m.Update
			if diff := cmp.Diff(want, got, updateCmp); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := got.Verify(privB, pubA, tt.psk, 0, updateNow); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if tok2 := encodeUpdate(t, got, tt.psk); tok2 != tok {
				t.Errorf("re-encoded %q, want %q", tok2, tok)
			}
			t.Logf("%d characters: %s", len(tok), tok)
		})
	}
}

// TestUpdateVector pins the encoding of testUpdate() with testPSK; the
// example in docs/invite-format.md is this token, and
// testdata/update_vector.py (Python, the cryptography package) computes
// the same token from the documented construction on its own.
func TestUpdateVector(t *testing.T) {
	const want = "WGP1U-ABGE2J545YYTLREUJMUNE7OYBGYHXYIMGULA2IATDSVH5BKXKSMNA7FXKK6BCXOS5EAQAAABUI4I5HEAAAETVAABA3FQA4IJZJWBT7HBDY3FNJ4VT37GGM4UPL7FLGN4NKRQ"
	tok := encodeUpdate(t, testUpdate(), &testPSK)
	if tok != want {
		t.Errorf("token\n %s\nwant\n %s", tok, want)
	}
	p := payloadOf(t, tok)
	t.Logf("payload (%d bytes): %x", len(p), p)
	t.Logf("from %x\nto %x\nissued %x lifetime %x\nfields %x\nmac %x", p[:32], p[32:40], p[40:48], p[48:52], p[52:len(p)-macLen], p[len(p)-macLen:])
}

// TestUpdateVerify: the receiver's checks, one table row per reason.
func TestUpdateVerify(t *testing.T) {
	u := decodeUpdate(t, encodeUpdate(t, testUpdate(), &testPSK))
	noPSK := decodeUpdate(t, encodeUpdate(t, testUpdate(), nil))
	seq := u.Seq()
	otherPSK := key(0x55)
	var zeroPSK wgtypes.Key
	tests := []struct {
		name        string
		u           *Update
		ourPriv     wgtypes.Key
		theirPublic wgtypes.Key
		psk         *wgtypes.Key
		last        uint64
		now         time.Time
		want        error // nil: accepted
	}{
		{"taken", u, privB, pubA, &testPSK, 0, updateNow, nil},
		{"newer than the last taken", u, privB, pubA, &testPSK, seq - 1, updateNow, nil},
		{"replayed", u, privB, pubA, &testPSK, seq, updateNow, ErrUpdateReplayed},
		{"older than the last taken", u, privB, pubA, &testPSK, seq + 1, updateNow, ErrUpdateOld},
		{"a millisecond before it expires", u, privB, pubA, &testPSK, 0, u.Expires.Add(-time.Millisecond), nil},
		{"when it expires", u, privB, pubA, &testPSK, 0, u.Expires, ErrUpdateExpired},
		{"a year after it expired", u, privB, pubA, &testPSK, 0, u.Expires.AddDate(1, 0, 0), ErrUpdateExpired},
		{"receiver clock behind by the allowed skew", u, privB, pubA, &testPSK, 0, updateNow.Add(-MaxUpdateSkew), nil},
		{"dated beyond the skew", u, privB, pubA, &testPSK, 0, updateNow.Add(-MaxUpdateSkew - time.Millisecond), ErrUpdateFuture},
		{"dated a day ahead", u, privB, pubA, &testPSK, 0, updateNow.Add(-24 * time.Hour), ErrUpdateFuture},
		{"taken by a third machine", u, privC, pubA, &testPSK, 0, updateNow, ErrUpdateWrongLink},
		{"checked against another peer", u, privB, pubC, &testPSK, 0, updateNow, ErrUpdateWrongSender},
		{"reflected to its sender", u, privA, pubB, &testPSK, 0, updateNow, ErrUpdateReflected},
		{"PSK mismatch", u, privB, pubA, &otherPSK, 0, updateNow, ErrUpdateForged},
		{"PSK missing on the receiver", u, privB, pubA, nil, 0, updateNow, ErrUpdateForged},
		{"no PSK on either side", noPSK, privB, pubA, nil, 0, updateNow, nil},
		{"no PSK is the all-zero PSK", noPSK, privB, pubA, &zeroPSK, 0, updateNow, nil},
		{"PSK only on the receiver", noPSK, privB, pubA, &testPSK, 0, updateNow, ErrUpdateForged},
		// A forged update is refused as forged before its dates are
		// looked at: mangled content never yields "expired".
		{"forged and expired", forgeEndpoint(t, u), privB, pubA, &testPSK, 0, u.Expires, ErrUpdateForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.u.Verify(tt.ourPriv, tt.theirPublic, tt.psk, tt.last, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want accepted", err)
				}
				return
			}
			var ue *UpdateError
			if !errors.Is(err, tt.want) || !errors.As(err, &ue) {
				t.Fatalf("Verify = %#v, want *UpdateError wrapping %v", err, tt.want)
			}
		})
	}
}

// forgeEndpoint changes u's endpoint and reseals it with a valid checksum
// but the old MAC, as someone without the keys can.
func forgeEndpoint(t *testing.T, u *Update) *Update {
	t.Helper()
	f := *u
	f.Endpoint = aport("192.0.2.66:51820")
	return decodeUpdate(t, seal(kindUpdate, append(f.marshal(), u.mac[:]...)))
}

// TestUpdateForgeries rewrites a genuine A → B update the way an attacker
// without the keys can (any field, a valid checksum, the MAC kept or
// replaced), or makes one with the wrong keys: all are refused, none by the
// dates.
func TestUpdateForgeries(t *testing.T) {
	genuine := testUpdate()
	tok := encodeUpdate(t, genuine, &testPSK)
	mac := payloadOf(t, tok)[len(payloadOf(t, tok))-macLen:]
	rewrite := func(edit func(*Update)) string {
		u := testUpdate()
		edit(u)
		return seal(kindUpdate, append(u.marshal(), mac...))
	}
	signed := genuine.marshal()
	tests := []struct {
		name        string
		tok         string
		ourPriv     wgtypes.Key
		theirPublic wgtypes.Key
		want        error
	}{
		{"endpoint changed", rewrite(func(u *Update) { u.Endpoint = aport("192.0.2.66:51820") }), privB, pubA, ErrUpdateForged},
		{"port changed", rewrite(func(u *Update) { u.Endpoint = aport("203.0.113.9:51821") }), privB, pubA, ErrUpdateForged},
		{"IPv6 endpoint added", rewrite(func(u *Update) { u.Endpoint6 = aport("[2001:db8::66]:1") }), privB, pubA, ErrUpdateForged},
		{"LAN endpoint added", rewrite(func(u *Update) { u.LANEndpoint = aport("10.0.0.66:1") }), privB, pubA, ErrUpdateForged},
		{"issue time moved forward (to win over a newer update)", rewrite(func(u *Update) { u.Issued = u.Issued.Add(time.Hour); u.Expires = u.Expires.Add(time.Hour) }), privB, pubA, ErrUpdateForged},
		{"lifetime extended", rewrite(func(u *Update) { u.Expires = u.Issued.Add(MaxUpdateLifetime) }), privB, pubA, ErrUpdateForged},
		{"redirected to a third machine", rewrite(func(u *Update) { u.To = ReceiverID(pubC) }), privC, pubA, ErrUpdateForged},
		{"sender claimed to be a third machine", rewrite(func(u *Update) { u.From = pubC }), privB, pubC, ErrUpdateForged},
		{"reflected with sender and receiver swapped", rewrite(func(u *Update) { u.From, u.To = pubB, ReceiverID(pubA) }), privA, pubB, ErrUpdateForged},
		{"MAC zeroed", seal(kindUpdate, append(append([]byte(nil), signed...), make([]byte, macLen)...)), privB, pubA, ErrUpdateForged},
		{"unknown field appended", seal(kindUpdate, append(append(append([]byte(nil), signed...), 0x40, 1, 0), mac...)), privB, pubA, ErrUpdateForged},
		{"made by a third machine claiming to be A", signAs(t, privC, pubB, &testPSK, signed), privB, pubA, ErrUpdateForged},
		{"made with the right keys but no PSK", signAs(t, privA, pubB, nil, signed), privB, pubA, ErrUpdateForged},
		{"made by A for C, shown to B", encodeFor(t, pubC), privB, pubA, ErrUpdateWrongLink},
		{"made by C for B, checked as A's", encodeAs(t, privC), privB, pubA, ErrUpdateWrongSender},
		{"genuine, pasted back on A", tok, privA, pubB, ErrUpdateReflected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := DecodeUpdate(tt.tok)
			if err != nil {
				t.Fatalf("DecodeUpdate: %v (the forgery must reach Verify)", err)
			}
			err = u.Verify(tt.ourPriv, tt.theirPublic, &testPSK, 0, updateNow)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func encodeFor(t *testing.T, to wgtypes.Key) string {
	t.Helper()
	u := NewUpdate(pubA, to, aport("203.0.113.9:51820"), updateNow)
	tok, err := u.Encode(privA, to, &testPSK)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func encodeAs(t *testing.T, priv wgtypes.Key) string {
	t.Helper()
	u := NewUpdate(priv.PublicKey(), pubB, aport("203.0.113.9:51820"), updateNow)
	tok, err := u.Encode(priv, pubB, &testPSK)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestUpdateChangedAfterDecode: Verify refuses an update whose fields a
// caller changed after decoding, since the MAC covers the bytes received,
// not the fields it would then apply.
func TestUpdateChangedAfterDecode(t *testing.T) {
	tok := encodeUpdate(t, testUpdate(), &testPSK)
	for name, edit := range map[string]func(*Update){
		"endpoint":      func(u *Update) { u.Endpoint = aport("192.0.2.66:51820") },
		"IPv6 endpoint": func(u *Update) { u.Endpoint6 = aport("[2001:db8::66]:1") },
		"LAN endpoint":  func(u *Update) { u.LANEndpoint = aport("10.0.0.66:1") },
		"issue time":    func(u *Update) { u.Issued = u.Issued.Add(time.Hour) },
		"expiry":        func(u *Update) { u.Expires = u.Expires.Add(time.Hour) },
	} {
		u := decodeUpdate(t, tok)
		edit(u)
		if err := u.Verify(privB, pubA, &testPSK, 0, updateNow); !errors.Is(err, ErrUpdateForged) {
			t.Errorf("%s changed after decoding: Verify = %v, want forged", name, err)
		}
	}
}

// TestUpdateReflectionNeedsDirection: both ends derive the same X25519
// secret, so only the direction in the KDF keeps A's own update from
// carrying a valid MAC for the link B → A. The MAC check alone (without
// Verify's From check) refuses the reflected token.
func TestUpdateReflectionNeedsDirection(t *testing.T) {
	u := decodeUpdate(t, encodeUpdate(t, testUpdate(), &testPSK))
	if !u.macOK(privB, pubA, &testPSK) {
		t.Fatal("the receiver's MAC check refuses a genuine update")
	}
	if u.macOK(privA, pubB, &testPSK) {
		t.Fatal("the MAC of A → B is also valid for B → A: a token could be reflected")
	}
}

// TestUpdateBitFlips flips every bit of a token. In the frame as sent, the
// checksum or length catches each flip (mistyped or truncated). Resealed
// with a valid checksum, each flip is refused as invalid content or, if it
// decodes, by the MAC.
func TestUpdateBitFlips(t *testing.T) {
	for _, u := range []*Update{testUpdate(), func() *Update {
		u := testUpdate()
		u.Endpoint6, u.LANEndpoint = aport("[2001:db8::9]:51821"), aport("192.168.1.20:51820")
		return u
	}()} {
		tok := encodeUpdate(t, u, &testPSK)
		frame, err := b32.DecodeString(tok[len("WGP1U-"):])
		if err != nil {
			t.Fatal(err)
		}
		for bit := range len(frame) * 8 {
			f := append([]byte(nil), frame...)
			f[bit/8] ^= 0x80 >> (bit % 8)
			_, err := DecodeAny("WGP1U-" + b32.EncodeToString(f))
			var de *DecodeError
			if !errors.As(err, &de) || de.Kind != KindMistyped && de.Kind != KindTruncated {
				t.Errorf("frame bit %d flipped: %v, want mistyped or truncated", bit, err)
			}
		}
		payload := payloadOf(t, tok)
		byMAC := 0
		for bit := range len(payload) * 8 {
			p := append([]byte(nil), payload...)
			p[bit/8] ^= 0x80 >> (bit % 8)
			m, err := DecodeAny(seal(kindUpdate, p))
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.Kind != KindInvalid && de.Kind != KindVersion {
					t.Errorf("payload bit %d flipped, resealed: %v, want invalid or newer version", bit, err)
				}
				continue
			}
			if err := m.Update.Verify(privB, pubA, &testPSK, 0, updateNow); err == nil {
				t.Errorf("payload bit %d flipped, resealed: Verify accepts %v", bit, m.Update)
			}
			if m.Update.macOK(privB, pubA, &testPSK) {
				t.Errorf("payload bit %d flipped, resealed: the MAC still matches", bit)
			}
			byMAC++
		}
		if byMAC < len(payload)*8/2 {
			t.Errorf("only %d of %d flips reached the MAC check; the test no longer tests it", byMAC, len(payload)*8)
		}
		t.Logf("%d-byte payload: %d of %d flips decode and are refused by the MAC, the rest by the decoder", len(payload), byMAC, len(payload)*8)
	}
}

// TestUpdateDecodeErrors: damaged, cut and invalid updates, and tokens of
// the wrong kind, each with its kind and words.
func TestUpdateDecodeErrors(t *testing.T) {
	tok := encodeUpdate(t, testUpdate(), &testPSK)
	signed := testUpdate().marshal()
	withField := func(typ byte, v ...byte) []byte {
		return append(append(append([]byte(nil), signed...), typ, byte(len(v))), v...)
	}
	sign := func(b []byte) string { return signAs(t, privA, pubB, &testPSK, b) }
	edit := func(f func(*Update)) string {
		u := testUpdate()
		f(u)
		return sign(u.marshal())
	}
	fixed := func(f func(b []byte)) string {
		b := append([]byte(nil), signed...)
		f(b)
		return sign(b)
	}
	// The LAN endpoint (0x03) before the IPv4 one (0x01).
	outOfOrder := append(append([]byte(nil), signed[:updateFixedLen]...), fieldLANEndpoint, 6, 10, 0, 0, 1, 0, 1)
	outOfOrder = append(outOfOrder, signed[updateFixedLen:]...)
	tests := []struct {
		name    string
		decode  func(string) error
		in      string
		want    ErrorKind
		wantMsg string
	}{
		{"cut to WGP1U", decodeAnyErr, "WGP1U", KindTruncated, "the update is cut off"},
		{"cut in the middle", decodeAnyErr, tok[:len(tok)/2], KindTruncated, "the update looks cut off"},
		{"one character changed", decodeAnyErr, flipChar(tok, 40), KindMistyped, "the update is damaged: its checksum does not match"},
		{"relabelled as an invite", decodeAnyErr, "WGP1I-" + tok[6:], KindMistyped, "the invite is damaged"},
		{"an update given to Decode", decodeErrOnly, tok, KindWrongMessage, "address update for a link that already exists"},
		{"an invite given to DecodeUpdate", decodeUpdateErr, mustEncode(t, testInvite()), KindWrongMessage, "this is an invite (WGP1I-), not an address update"},
		{"a reply given to DecodeUpdate", decodeUpdateErr, mustEncode(t, testReply()), KindWrongMessage, "this is a reply (WGP1R-)"},
		{"newer format", decodeAnyErr, "WGP2U-" + tok[6:], KindVersion, "newer WG Punch"},
		{"critical field from a newer version", decodeAnyErr, sign(withField(0x80, 1, 2)), KindVersion, "made by a newer WG Punch (it has field 0x80"},
		{"empty payload", decodeAnyErr, seal(kindUpdate, nil), KindInvalid, "content ends early"},
		{"only the MAC", decodeAnyErr, seal(kindUpdate, make([]byte, macLen)), KindInvalid, "content ends early"},
		{"field cut off", decodeAnyErr, sign(append(append([]byte(nil), signed...), 0x40, 3, 0)), KindInvalid, "content ends early"},
		{"field repeated", decodeAnyErr, sign(withField(fieldEndpoint4, 1, 2, 3, 4, 0, 1)), KindInvalid, "out of order or repeated"},
		{"fields out of order", decodeAnyErr, sign(outOfOrder), KindInvalid, "field 0x01 follows field 0x03"},
		{"field type 0", decodeAnyErr, sign(append(append(append([]byte(nil), signed[:updateFixedLen]...), 0, 0), signed[updateFixedLen:]...)), KindInvalid, "type 0 is reserved"},
		{"IPv4 field of 5 bytes", decodeAnyErr, fixed(func(b []byte) { b[len(b)-7] = 5 }), KindInvalid, "public IPv4 endpoint is 5 bytes long, want 6"},
		{"zero sender key", decodeAnyErr, edit(func(u *Update) { u.From = wgtypes.Key{} }), KindInvalid, "sender public key is all zeros"},
		{"no endpoint", decodeAnyErr, sign(signed[:updateFixedLen]), KindInvalid, "announces no endpoint"},
		{"port 0", decodeAnyErr, fixed(func(b []byte) { b[len(b)-1], b[len(b)-2] = 0, 0 }), KindInvalid, "port must be 1..65535"},
		{"unspecified address", decodeAnyErr, edit(func(u *Update) { u.Endpoint = aport("0.0.0.0:1") }), KindInvalid, "not a unicast address"},
		{"multicast address", decodeAnyErr, edit(func(u *Update) { u.Endpoint = aport("224.0.0.1:1") }), KindInvalid, "not a unicast address"},
		{"IPv4-mapped IPv6 endpoint", decodeAnyErr, edit(func(u *Update) { u.Endpoint6 = aport("[::ffff:192.0.2.1]:1") }), KindInvalid, "use the plain IPv4 form"},
		{"issue time 0", decodeAnyErr, fixed(func(b []byte) { clear(b[40:48]) }), KindInvalid, "issue time 0 is out of range"},
		{"issue time beyond int64", decodeAnyErr, fixed(func(b []byte) { b[40] = 0x80 }), KindInvalid, "out of range"},
		{"lifetime 0", decodeAnyErr, fixed(func(b []byte) { clear(b[48:52]) }), KindInvalid, "expires before or when it is issued"},
		{"lifetime too long", decodeAnyErr, fixed(func(b []byte) {
			binary.BigEndian.PutUint32(b[48:52], uint32(MaxUpdateLifetime/time.Second)+1)
		}), KindInvalid, "at most 2592000 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.in)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v, want *DecodeError", err, err)
			}
			if de.Kind != tt.want || !strings.Contains(de.Msg, tt.wantMsg) {
				t.Errorf("error = %v %q, want %v containing %q", de.Kind, de.Msg, tt.want, tt.wantMsg)
			}
		})
	}
}

func decodeAnyErr(s string) error {
	m, err := DecodeAny(s)
	if err == nil {
		return fmt.Errorf("decoded %+v", m)
	}
	return err
}

func decodeErrOnly(s string) error {
	m, err := Decode(s)
	if err == nil {
		return fmt.Errorf("decoded %+v", m)
	}
	return err
}

func decodeUpdateErr(s string) error {
	u, err := DecodeUpdate(s)
	if err == nil {
		return fmt.Errorf("decoded %v", u)
	}
	return err
}

// flipChar changes the base32 character at n to another one.
func flipChar(s string, n int) string {
	c := byte('A')
	if s[n] == 'A' {
		c = 'B'
	}
	return s[:n] + string(c) + s[n+1:]
}

// TestUpdateCutAndMistyped: an update cut at any length is truncated, and
// any single character changed is mistyped, as for invites. The exception
// is shared with invites: characters 7-10 carry the length field, and one
// that raises the length while changing a payload bit (character 10 holds
// both) cannot be told from a cut-off token, so it may read as truncated.
func TestUpdateCutAndMistyped(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	tok := encodeUpdate(t, testUpdate(), &testPSK)
	for n := 3; n < len(tok); n++ {
		if _, err := DecodeAny(tok[:n]); kindOf(err) != KindTruncated {
			t.Errorf("cut to %d of %d: %v, want truncated", n, len(tok), err)
		}
	}
	for n := len("WGP1U-"); n < len(tok); n++ {
		for _, c := range alphabet {
			if byte(c) == tok[n] {
				continue
			}
			_, err := DecodeAny(tok[:n] + string(c) + tok[n+1:])
			if k := kindOf(err); k != KindMistyped && !(k == KindTruncated && n < len("WGP1U-")+4) {
				t.Errorf("char %d %c->%c: %v, want mistyped", n, tok[n], c, err)
			}
		}
	}
}

func kindOf(err error) ErrorKind {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Kind
	}
	return 0
}

// TestUpdateUnknownFields: a newer WG Punch may add optional fields below
// 0x80; this version skips them, the MAC still covers them, and the rest
// of the update is read as usual.
func TestUpdateUnknownFields(t *testing.T) {
	want := testUpdate()
	want.LANEndpoint = aport("192.168.1.20:51820")
	signed := append(want.marshal(), 0x04, 0, 0x40, 3, 'n', 'e', 'w', 0x7f, 1, 0xff)
	tok := signAs(t, privA, pubB, &testPSK, signed)
	got := decodeUpdate(t, tok)
	if diff := cmp.Diff(want, got, updateCmp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := got.Verify(privB, pubA, &testPSK, 0, updateNow); err != nil {
		t.Errorf("Verify: %v", err)
	}
	// Dropping the unknown fields breaks the MAC: they are covered.
	stripped := decodeUpdate(t, seal(kindUpdate, append(want.marshal(), got.mac[:]...)))
	if err := stripped.Verify(privB, pubA, &testPSK, 0, updateNow); !errors.Is(err, ErrUpdateForged) {
		t.Errorf("Verify(unknown fields stripped) = %v, want forged", err)
	}
}

// TestUpdateEncodeErrors: Encode refuses what Decode would refuse, and keys
// that do not belong to the update.
func TestUpdateEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Update)
		priv    wgtypes.Key
		their   wgtypes.Key
		wantMsg string
	}{
		{"private key of another machine", nil, privC, pubB, "does not belong to the update's sender"},
		{"receiver key of another machine", nil, privA, pubC, "does not match the update's receiver"},
		{"no endpoint", func(u *Update) { u.Endpoint = netip.AddrPort{} }, privA, pubB, "announces no endpoint"},
		{"IPv6 in the IPv4 endpoint", func(u *Update) { u.Endpoint = aport("[2001:db8::1]:1") }, privA, pubB, "not an IPv4 address"},
		{"IPv4 in the IPv6 endpoint", func(u *Update) { u.Endpoint6 = aport("192.0.2.1:1") }, privA, pubB, "not an IPv6 address"},
		{"zone", func(u *Update) { u.LANEndpoint = aport("[fe80::1%eth0]:1") }, privA, pubB, "zone"},
		{"port 0", func(u *Update) { u.Endpoint = aport("192.0.2.1:0") }, privA, pubB, "port must be"},
		{"no issue time", func(u *Update) { u.Issued = time.Time{} }, privA, pubB, "issue time is missing"},
		{"issue time not whole ms", func(u *Update) { u.Issued = u.Issued.Add(time.Microsecond) }, privA, pubB, "whole milliseconds"},
		{"expires before issued", func(u *Update) { u.Expires = u.Issued.Add(-time.Second) }, privA, pubB, "expires before"},
		{"valid too long", func(u *Update) { u.Expires = u.Issued.Add(MaxUpdateLifetime + time.Second) }, privA, pubB, "at most 720h0m0s"},
		{"lifetime not whole seconds", func(u *Update) { u.Expires = u.Expires.Add(time.Millisecond) }, privA, pubB, "whole seconds"},
		{"zero sender", func(u *Update) { u.From = wgtypes.Key{} }, privA, pubB, "all zeros"},
		{"weak receiver key", func(u *Update) { u.To = ReceiverID(wgtypes.Key{}) }, privA, wgtypes.Key{}, "not usable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := testUpdate()
			if tt.edit != nil {
				tt.edit(u)
			}
			tok, err := u.Encode(tt.priv, tt.their, &testPSK)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Encode = %q, %v; want an error containing %q", tok, err, tt.wantMsg)
			}
		})
	}
}

// TestUpdateNoSecrets: no private key, preshared key or derived secret
// appears in a token, its bytes, an error or the printed Update.
func TestUpdateNoSecrets(t *testing.T) {
	for f := range reflect.TypeOf(Update{}).Fields() {
		n := strings.ToLower(f.Name)
		if strings.Contains(n, "priv") || strings.Contains(n, "psk") || strings.Contains(n, "preshared") || strings.Contains(n, "secret") {
			t.Errorf("Update has field %s", f.Name)
		}
	}
	forms := func(k []byte) []string {
		return []string{string(k), base64.StdEncoding.EncodeToString(k), hex.EncodeToString(k), b32.EncodeToString(k),
			strings.ToUpper(hex.EncodeToString(k)), fmt.Sprint(k), fmt.Sprintf("%#v", k)}
	}
	secrets := map[string][]byte{"A's private key": privA[:], "B's private key": privB[:], "the PSK": testPSK[:]}
	u := testUpdate()
	u.Endpoint6, u.LANEndpoint = aport("[2001:db8::9]:51821"), aport("192.168.1.20:51820")
	tok := encodeUpdate(t, u, &testPSK)
	d := decodeUpdate(t, tok)
	var outputs []string
	outputs = append(outputs, tok, string(payloadOf(t, tok)), d.String(), d.GoString(),
		fmt.Sprintf("%v", d), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d), fmt.Sprintf("%v", *d), fmt.Sprintf("%+v", *d))
	for _, c := range []struct {
		priv, their wgtypes.Key
		psk         *wgtypes.Key
		last        uint64
		now         time.Time
	}{
		{privA, pubB, &testPSK, 0, updateNow}, {privC, pubA, &testPSK, 0, updateNow}, {privB, pubC, &testPSK, 0, updateNow},
		{privB, pubA, &privA, 0, updateNow}, {privB, pubA, &testPSK, d.Seq(), updateNow}, {privB, pubA, &testPSK, d.Seq() + 1, updateNow},
		{privB, pubA, &testPSK, 0, d.Expires}, {privB, pubA, &testPSK, 0, updateNow.Add(-time.Hour)},
	} {
		err := d.Verify(c.priv, c.their, c.psk, c.last, c.now)
		if err == nil {
			t.Fatalf("Verify(%v) accepted", c)
		}
		var ue *UpdateError
		errors.As(err, &ue)
		outputs = append(outputs, err.Error(), ue.Explain("Bob"), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", ue))
	}
	for _, c := range []struct{ priv, their wgtypes.Key }{{privB, pubB}, {privA, pubC}, {privA, wgtypes.Key{}}} {
		if _, err := d.Encode(c.priv, c.their, &testPSK); err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%#v", err))
		}
	}
	for _, out := range outputs {
		for what, k := range secrets {
			for _, form := range forms(k) {
				if strings.Contains(out, form) {
					t.Errorf("%s appears in %q", what, out)
				}
			}
		}
	}
}

// TestUpdateExplain: every refusal says why in words, names the peer and
// (where it helps) the date, and says nothing was changed.
func TestUpdateExplain(t *testing.T) {
	at := time.Date(2026, 12, 9, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		err  error
		want []string
	}{
		{ErrUpdateReflected, []string{"this computer made", "send it to Bob"}},
		{ErrUpdateWrongSender, []string{"other than Bob"}},
		{ErrUpdateWrongLink, []string{"made for a different link"}},
		{ErrUpdateForged, []string{"not made by Bob's WG Punch", "changed on its way", "ask Bob to send a fresh one from WG Punch"}},
		{ErrUpdateReplayed, []string{"already taken"}},
		{ErrUpdateOld, []string{"older than one already taken", "9 Dec 2026 21:00 UTC", "ask Bob to send a fresh one"}},
		{ErrUpdateExpired, []string{"expired on 9 Dec 2026 21:00 UTC", "ask Bob to send a fresh one from WG Punch"}},
		{ErrUpdateFuture, []string{"dated 9 Dec 2026 21:00 UTC", "168h0m0s ahead", "clock", "Bob's computer"}},
	}
	for _, tt := range tests {
		e := &UpdateError{Err: tt.err, At: at, Now: at.Add(-7 * 24 * time.Hour)}
		msg := e.Explain("Bob")
		for _, w := range append(tt.want, "nothing was changed") {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q does not contain %q", tt.err, msg, w)
			}
		}
		if !errors.Is(e, tt.err) {
			t.Errorf("errors.Is(%v) false", tt.err)
		}
		if e.Error() == "" || strings.Contains(e.Error(), "Bob") {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}

// TestUpdateLookup: the receiver finds the link of an update before
// verifying, by the sender's key and its own, among links that share one
// of the two.
func TestUpdateLookup(t *testing.T) {
	type link struct {
		name       string
		ours, peer wgtypes.Key // our private key, the peer's public key
	}
	links := []link{{"home-a", privB, pubA}, {"office-c", privB, pubC}, {"second", privC, pubA}}
	u := decodeUpdate(t, encodeUpdate(t, testUpdate(), &testPSK))
	var found []string
	for _, l := range links {
		if u.From == l.peer && u.IsFor(l.ours.PublicKey()) {
			found = append(found, l.name)
		}
	}
	if diff := cmp.Diff([]string{"home-a"}, found); diff != "" {
		t.Fatalf("links found (-want +got):\n%s", diff)
	}
	if err := u.Verify(privB, pubA, &testPSK, 0, updateNow); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeAnyTolerant: an update survives what chat apps do, like an
// invite, and DecodeAny still reads invites and replies.
func TestDecodeAnyTolerant(t *testing.T) {
	tok := encodeUpdate(t, testUpdate(), &testPSK)
	for name, in := range map[string]string{
		"lower case":      strings.ToLower(tok),
		"sentence around": "My new address: " + tok + " - thanks!",
		"wrapped":         tok[:50] + "\r\n" + tok[50:100] + "\n" + tok[100:],
		"zero-width":      tok[:30] + "\u200b" + tok[30:],
		"en dash":         strings.Replace(tok, "-", "–", 1),
		"angle brackets":  "<" + tok + ">.",
	} {
		u, err := DecodeUpdate(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := u.Verify(privB, pubA, &testPSK, 0, updateNow); err != nil {
			t.Errorf("%s: Verify: %v", name, err)
		}
	}
	for _, m := range []interface{ Encode() (string, error) }{testInvite(), testReply()} {
		got, err := DecodeAny(mustEncode(t, m))
		if err != nil || got.Update != nil || (got.Invite == nil) == (got.Reply == nil) {
			t.Errorf("DecodeAny(%T) = %+v, %v", m, got, err)
		}
	}
}

// TestNewUpdate: NewUpdate files the endpoint by family, rounds the clock
// to milliseconds and sets the default lifetime.
func TestNewUpdate(t *testing.T) {
	now := updateNow.Add(1234567 * time.Nanosecond).In(time.FixedZone("CET", 3600))
	u := NewUpdate(pubA, pubB, aport("[::ffff:203.0.113.9]:51820"), now)
	if u.Endpoint != aport("203.0.113.9:51820") || u.Endpoint6.IsValid() {
		t.Errorf("IPv4-mapped endpoint: Endpoint %v, Endpoint6 %v", u.Endpoint, u.Endpoint6)
	}
	if want := updateNow.Add(time.Millisecond); !u.Issued.Equal(want) || u.Issued.Location() != time.UTC {
		t.Errorf("Issued = %v, want %v UTC", u.Issued, want)
	}
	if u.Expires.Sub(u.Issued) != DefaultUpdateLifetime || u.Seq() != uint64(updateNow.UnixMilli()+1) {
		t.Errorf("Expires %v, Seq %d", u.Expires, u.Seq())
	}
	if v6 := NewUpdate(pubA, pubB, aport("[2001:db8::1]:1"), now); v6.Endpoint.IsValid() || v6.Endpoint6 != aport("[2001:db8::1]:1") {
		t.Errorf("IPv6: %v", v6)
	}
	if !u.IsFor(pubB) || u.IsFor(pubA) || u.From != pubA {
		t.Errorf("From/To wrong: %v", u)
	}
	if err := u.Verify(privB, pubA, nil, 0, updateNow); err == nil {
		t.Error("Verify accepted an update that was never encoded")
	}
}

// TestUpdateQR: an update travels as a QR code like any token, and stays
// small (it logs its size: IPv4 only, and with all three endpoints).
func TestUpdateQR(t *testing.T) {
	all := testUpdate()
	all.Endpoint6, all.LANEndpoint = aport("[2001:db8:1234:5678::9]:51821"), aport("192.168.1.20:51820")
	for name, u := range map[string]*Update{"IPv4 endpoint": testUpdate(), "all three endpoints": all} {
		tok := encodeUpdate(t, u, &testPSK)
		v, err := qrVersion(tok)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("update, %-20s %4d chars  QR version %2d (%dx%d modules, medium EC)", name, len(tok), v, 17+4*v, 17+4*v)
		if v > 8 {
			t.Errorf("%s: QR version %d, want <= 8", name, v)
		}
		p, err := QRPNG(tok, 0)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		text, err := DecodeQRImage(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeUpdate(t, text).Verify(privB, pubA, &testPSK, 0, updateNow); err != nil {
			t.Errorf("%s: scanned update: %v", name, err)
		}
	}
}
