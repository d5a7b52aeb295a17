package invite

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func mustEncode(t testing.TB, m interface{ Encode() (string, error) }) string {
	t.Helper()
	s, err := m.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return s
}

func decodeKind(t *testing.T, s string) (ErrorKind, string) {
	t.Helper()
	m, err := Decode(s)
	if err == nil {
		t.Fatalf("Decode(%q) = %+v, want an error", s, m)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Decode(%q) error %T %v, want *DecodeError", s, err, err)
	}
	if de.Msg == "" || de.Error() != de.Msg {
		t.Fatalf("Decode(%q) error has no message: %+v", s, de)
	}
	return de.Kind, de.Msg
}

// sealRaw builds a token with a valid checksum around content that the
// validators would refuse, as a buggy or hostile encoder could.
func sealRaw(kind byte, payload []byte) string { return seal(kind, payload) }

func TestDecodeErrors(t *testing.T) {
	inv := mustEncode(t, testInvite())
	rep := mustEncode(t, testReply())
	body := inv[len("WGP1I-"):]
	swap := 50 // two different neighbouring characters
	for inv[swap] == inv[swap+1] {
		swap++
	}

	badInvite := func(modify func(*Invite)) string {
		i := testInvite()
		modify(i)
		return sealRaw(kindInvite, i.marshal())
	}
	badReply := func(modify func(*Reply)) string {
		r := testReply()
		modify(r)
		return sealRaw(kindReply, r.marshal())
	}
	// flip changes the character at position n to another base32 one.
	flip := func(s string, n int) string {
		c := byte('A')
		if s[n] == 'A' {
			c = 'B'
		}
		return s[:n] + string(c) + s[n+1:]
	}

	tests := []struct {
		name    string
		in      string
		want    ErrorKind
		wantMsg string
	}{
		{"empty", "", KindNotInvite, "nothing was pasted"},
		{"spaces", " \n\t", KindNotInvite, "nothing was pasted"},
		{"prose", "hello, how are you?", KindNotInvite, "start with WGP1I- or WGP1R-"},
		{"wg-quick config", "[Interface]\nPrivateKey = " + wgtypes.Key(key(1)).String() + "\n", KindNotInvite, "not a WG Punch invite"},
		{"URL", "https://example.com/wgpunch", KindNotInvite, "not a WG Punch invite"},
		{"bare base32", body, KindNotInvite, "not a WG Punch invite"},
		{"wrong prefix", "WGX1I-" + body, KindNotInvite, "not a WG Punch invite"},
		{"too long", strings.Repeat("A", MaxTokenLen+1), KindNotInvite, "far more than an invite"},

		{"cut to WGP", "WGP", KindTruncated, "cut off"},
		{"cut to WGP1", "WGP1", KindTruncated, "cut off"},
		{"cut to WGP1I", "WGP1I", KindTruncated, "cut off"},
		{"cut to WGP1I-", "WGP1I-", KindTruncated, "cut off"},
		{"cut to WGP1R-", "WGP1R-", KindTruncated, "cut off"},
		{"cut after 1 body char", inv[:7], KindTruncated, "cut off"},
		{"cut after 4 body chars", inv[:10], KindTruncated, "cut off"},
		{"cut in the middle", inv[:len(inv)/2], KindTruncated, "it has 74 of 149 characters"},
		{"last char missing", inv[:len(inv)-1], KindTruncated, "it has 148 of 149 characters"},
		{"last 2 chars missing", inv[:len(inv)-2], KindTruncated, "cut off"},
		{"checksum missing", inv[:len(inv)-7], KindTruncated, "cut off"},
		{"reply cut", rep[:len(rep)-10], KindTruncated, "the reply looks cut off"},
		{"cut with trailing period", inv[:80] + ".", KindTruncated, "cut off"},

		{"one char changed", flip(inv, 40), KindMistyped, "checksum does not match"},
		{"first body char changed", flip(inv, 6), KindMistyped, "damaged"},
		{"last char changed", flip(inv, len(inv)-1), KindMistyped, "mistyped"},
		{"invite relabelled as reply", "WGP1R-" + body, KindMistyped, "the reply is damaged"},
		{"two chars swapped", inv[:swap] + inv[swap+1:swap+2] + inv[swap:swap+1] + inv[swap+2:], KindMistyped, "checksum"},
		{"bad character", inv[:30] + "!" + inv[31:], KindMistyped, `contains "!" at character 31`},
		{"non-ASCII character", inv[:30] + "é" + inv[31:], KindMistyped, `contains "É"`},
		{"dash missing", "WGP1I" + body, KindMistyped, "start of the invite"},
		{"version 0", "WGP0I-" + body, KindMistyped, "start of the invite"},
		{"extra characters", inv + "ABCDEFGH", KindMistyped, "8 characters more"},
		{"one extra character", inv + "A", KindMistyped, "more than it should"},

		{"newer version", "WGP2I-" + body, KindVersion, "newer WG Punch (format 2"},
		{"much newer version", "WGP12R-ABCDEFGH", KindVersion, "update WG Punch"},
		{"unknown message type", "WGP1X-" + body, KindVersion, `type "X" is unknown`},

		{"zero key", badInvite(func(i *Invite) { i.PublicKey = wgtypes.Key{} }), KindInvalid, "public key is all zeros"},
		{"inviter outside subnet", badInvite(func(i *Invite) {
			i.Subnet, i.InviterAddress, i.InviteeAddress = pfx("10.77.12.128/25"), pfx("10.77.12.1/25"), pfx("10.77.12.130/25")
		}), KindInvalid, "arrived intact but its content is invalid: inviter address 10.77.12.1 is outside the tunnel subnet 10.77.12.128/25"},
		{"same addresses", badInvite(func(i *Invite) { i.InviteeAddress = i.InviterAddress }), KindInvalid, "same tunnel address"},
		{"non-canonical subnet", sealRaw(kindInvite, []byte(nil)), KindInvalid, "ends early"},
		{"port 0", badInvite(func(i *Invite) { i.Endpoint.Port = 0 }), KindInvalid, "port must be 1..65535"},
		{"name with control char", badInvite(func(i *Invite) { i.Name = "evil\x1b]0;x\x07" }), KindInvalid, "non-printable"},
		{"name too long", badInvite(func(i *Invite) { i.Name = strings.Repeat("n", 40) }), KindInvalid, "at most 32"},
		{"too many LANs", badReply(func(r *Reply) {
			r.LANs = nil
			for range MaxLANs + 1 {
				r.LANs = append(r.LANs, pfx("10.0.0.0/24"))
			}
		}), KindInvalid, "at most 16 allowed"},
		{"reply zero key", badReply(func(r *Reply) { r.PublicKey = wgtypes.Key{} }), KindInvalid, "the reply arrived intact"},
		{"trailing bytes", sealRaw(kindReply, append(testReply().marshal(), 0)), KindInvalid, "1 unexpected bytes"},
		{"bad endpoint type", sealRaw(kindReply, func() []byte {
			b := testReply().marshal()
			b[40] = 9 // endpoint type after ID and key
			return b
		}()), KindInvalid, "unknown address type 9"},
		{"bad prefix code", sealRaw(kindReply, func() []byte {
			r := testReply()
			r.Endpoint, r.LANEndpoint = ep("", 0), ep("", 0)
			b := r.marshal()
			b[43] = 200 // first LAN's prefix code, after ID, key, 2 empty endpoints, count
			return b
		}()), KindInvalid, "bad prefix length code 200"},
		{"non-canonical prefix bits", sealRaw(kindReply, func() []byte {
			r := testReply()
			r.Endpoint, r.LANEndpoint = ep("", 0), ep("", 0)
			r.LANs = r.LANs[:1]
			b := r.marshal()
			// After ID, key, 2 empty endpoints and the count: the LAN's
			// prefix code (b[43]) and its 3 address bytes 10.0.0.
			b[43] = 20   // now a /20 ...
			b[46] = 0x0f // ... of 10.0.15.0: host bits set
			return b
		}()), KindInvalid, "not canonical"},
		{"IPv6 endpoint that is IPv4", badInvite(func(i *Invite) { i.Endpoint6 = ep("192.0.2.1", 51820) }), KindInvalid, "want IPv6"},
		{"IPv6 endpoint beside an IPv6 one", badInvite(func(i *Invite) {
			i.Endpoint, i.Endpoint6 = ep("2001:db8::1", 51820), ep("2001:db8::2", 51820)
		}), KindInvalid, "two IPv6 endpoints"},
		{"IPv6 endpoint alone", badReply(func(r *Reply) {
			r.Endpoint, r.Endpoint6 = conf.Endpoint{}, ep("2001:db8::2", 51820)
		}), KindInvalid, "make it the public endpoint"},
		{"IPv6 extension with an IPv4 address", sealRaw(kindInvite, append(testInvite().marshal(), extEndpoint6, epIPv4, 192, 0, 2, 1, 0xca, 0x6c)), KindInvalid, "want IPv6"},
		{"IPv6 extension empty", sealRaw(kindInvite, append(testInvite().marshal(), extEndpoint6, epNone)), KindInvalid, "want IPv6"},
		{"reply extensions out of order", sealRaw(kindReply, func() []byte {
			r := dualReply()
			b := r.marshal() // no digest: ends with the IPv6 extension
			d := append([]byte{extInviteDigest}, bytes.Repeat([]byte{7}, DigestLen)...)
			return append(b, d...)
		}()), KindInvalid, "out of order"},
		{"unknown extension", sealRaw(kindInvite, append(testInvite().marshal(), 0x7f, 1, 2)), KindInvalid, "3 unexpected bytes after the content (extension 127"},
		{"unknown NAT code", sealRaw(kindReply, func() []byte {
			b := testReply().marshal()
			b[len(b)-1] = 0x9a
			return b
		}()), KindInvalid, "NAT check result: unknown code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, msg := decodeKind(t, tt.in)
			if kind != tt.want || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Decode error = %v %q, want %v containing %q", kind, msg, tt.want, tt.wantMsg)
			}
		})
	}
}

// TestDecodeTruncatedEverywhere cuts a token at every length: all are
// reported as truncated.
func TestDecodeTruncatedEverywhere(t *testing.T) {
	for _, tok := range []string{mustEncode(t, testInvite()), mustEncode(t, testReply()), mustEncode(t, worstInvite())} {
		for n := 3; n < len(tok); n++ {
			if kind, msg := decodeKind(t, tok[:n]); kind != KindTruncated {
				t.Errorf("cut to %d of %d chars: %v %q, want truncated", n, len(tok), kind, msg)
			}
		}
	}
}

// TestDecodeOneCharChanged changes every character of a token to every
// other base32 character: all are reported as mistyped (or, in the prefix,
// as not an invite / newer version), none decodes.
func TestDecodeOneCharChanged(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	for _, tok := range []string{mustEncode(t, testInvite()), mustEncode(t, testReply())} {
		for n := len("WGP1I-"); n < len(tok); n++ {
			for _, c := range alphabet {
				if byte(c) == tok[n] {
					continue
				}
				s := tok[:n] + string(c) + tok[n+1:]
				if kind, msg := decodeKind(t, s); kind != KindMistyped {
					t.Errorf("char %d %c->%c: %v %q, want mistyped", n, tok[n], c, kind, msg)
				}
			}
		}
	}
}

// TestDecodeTolerant feeds what chat apps and mail do to a token.
func TestDecodeTolerant(t *testing.T) {
	want := testInvite()
	inv := mustEncode(t, want)
	wrap := func(s string, every int, sep string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += every {
			b.WriteString(s[i:min(i+every, len(s))])
			if i+every < len(s) {
				b.WriteString(sep)
			}
		}
		return b.String()
	}
	// typed by hand: O read as 0 etc. The test token must contain them.
	typed := inv[:6] + strings.NewReplacer("O", "0", "I", "1", "B", "8").Replace(inv[6:])
	if typed == inv {
		t.Fatalf("test token %q has no O, I or B", inv)
	}
	tests := map[string]string{
		"as is":                  inv,
		"lower case":             strings.ToLower(inv),
		"surrounding whitespace": "\n\t  " + inv + "  \r\n",
		"angle brackets":         "<" + inv + ">",
		"double quotes":          `"` + inv + `"`,
		"typographic quotes":     "“" + inv + "”",
		"single quotes":          "'" + inv + "'",
		"backticks":              "```\n" + inv + "\n```",
		"markdown bold":          "**" + inv + "**",
		"trailing period":        inv + ".",
		"parenthesised":          "(" + inv + ").",
		"sentence around":        "Here is my WG Punch invite: " + inv + " - see you!",
		"wgpunch mentioned":      "wgpunch invite: " + inv,
		"email 76-col wrap":      wrap(inv, 76, "\r\n"),
		"wrapped every 10":       wrap(inv, 10, "\n") + "\nthanks",
		"zero-width spaces":      wrap(inv, 7, "\u200b"),
		"soft hyphens":           wrap(inv, 13, "\u00ad"),
		"word joiners and BOM":   "\ufeff" + wrap(inv, 20, "\u2060"),
		"en dash":                strings.Replace(inv, "-", "–", 1),
		"non-breaking hyphen":    strings.Replace(inv, "-", "\u2011", 1),
		"nbsp inserted":          wrap(inv, 30, "\u00a0"),
		"typed by hand":          typed,
		"two WGP strings":        "WGP? no: " + inv,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := Decode(in)
			if err != nil {
				t.Fatalf("Decode(%q): %v", in, err)
			}
			if diff := cmp.Diff(want, m.Invite, cmpOpts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeReplyKind(t *testing.T) {
	m, err := Decode(mustEncode(t, testReply()))
	if err != nil {
		t.Fatal(err)
	}
	if m.Invite != nil || m.Reply == nil {
		t.Fatalf("Decode(reply) = %+v, want only Reply set", m)
	}
}

func TestErrorKindString(t *testing.T) {
	for k := KindNotInvite; k <= KindWrongMessage; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "ErrorKind(") {
			t.Errorf("ErrorKind(%d).String() = %q", k, s)
		}
	}
}

// Encode refuses an IPv6 endpoint that is none, or one too many, in words.
func TestEncodeEndpoint6Errors(t *testing.T) {
	for _, tt := range []struct {
		ep, ep6 conf.Endpoint
		want    string
	}{
		{ep("203.0.113.7", 51820), ep("192.0.2.1", 51820), "IPv6 endpoint 192.0.2.1:51820 is not an IPv6 address"},
		{ep("203.0.113.7", 51820), ep("alice.duckdns.org", 51820), "is not an IPv6 address"},
		{ep("203.0.113.7", 51820), ep("2001:db8::1", 0), "port must be"},
		{ep("2001:db8::1", 51820), ep("2001:db8::2", 51820), "two IPv6 endpoints"},
		{conf.Endpoint{}, ep("2001:db8::2", 51820), "make it the public endpoint"},
	} {
		i := testInvite()
		i.Endpoint, i.Endpoint6 = tt.ep, tt.ep6
		if _, err := i.Encode(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Encode with %v and %v: err = %v, want it to contain %q", tt.ep, tt.ep6, err, tt.want)
		}
		r := testReply()
		r.Endpoint, r.Endpoint6 = tt.ep, tt.ep6
		if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("reply Encode with %v and %v: err = %v, want it to contain %q", tt.ep, tt.ep6, err, tt.want)
		}
	}
}
