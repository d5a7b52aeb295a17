package invite

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecode feeds arbitrary text to Decode: it must not panic, every error
// must be a *DecodeError with a known kind and a message, and whatever
// decodes must re-encode to a token that decodes to the same message and
// encodes to the same token again.
func FuzzDecode(f *testing.F) {
	inv := mustEncode(f, testInvite())
	rep := mustEncode(f, testReply())
	for _, s := range []string{
		inv, rep, mustEncode(f, worstInvite()),
		strings.ToLower(inv), "<" + inv + ">.", inv[:40] + "\n" + inv[40:] + " thanks",
		inv[:len(inv)/2], inv + "AAAA", "WGP1I-", "WGP2R-AAAA", "WGP1X-ABCD", "",
		"hello", "WGP", "wgp1i-0o1l8b", "WGP1R-" + inv[6:],
		encodeUpdate(f, testUpdate(), &testPSK), "WGP1U-", "WGP1U-" + inv[6:],
	} {
		f.Add(s)
	}
	f.Fuzz(checkDecode)
}

// FuzzPayload seals arbitrary payloads with a valid checksum, so the
// fuzzer reaches the content parser and validators that random text
// almost never gets past the checksum to.
func FuzzPayload(f *testing.F) {
	f.Add(true, testInvite().marshal())
	f.Add(false, testReply().marshal())
	answered := testReply()
	answered.Answer(testInvite())
	f.Add(false, answered.marshal())
	f.Add(true, worstInvite().marshal())
	f.Add(true, dualInvite().marshal())
	dual := dualReply()
	dual.Answer(dualInvite())
	f.Add(false, dual.marshal())
	f.Add(false, []byte{})
	f.Fuzz(func(t *testing.T, invite bool, payload []byte) {
		if len(payload) > 0xffff {
			return
		}
		kind := byte(kindReply)
		if invite {
			kind = kindInvite
		}
		checkDecode(t, seal(kind, payload))
	})
}

func checkDecode(t *testing.T, s string) {
	{
		m, err := Decode(s)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Kind < KindNotInvite || de.Kind > KindWrongMessage || de.Msg == "" {
				t.Fatalf("Decode(%q) error %#v", s, err)
			}
			if m != nil {
				t.Fatalf("Decode(%q) returned a message and an error", s)
			}
			return
		}
		if (m.Invite == nil) == (m.Reply == nil) {
			t.Fatalf("Decode(%q) = %+v, want exactly one of Invite and Reply", s, m)
		}
		var enc interface{ Encode() (string, error) } = m.Reply
		if m.Invite != nil {
			enc = m.Invite
		}
		tok, err := enc.Encode()
		if err != nil {
			t.Fatalf("Decode(%q) accepted a message Encode rejects: %v", s, err)
		}
		m2, err := Decode(tok)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = %v", s, err)
		}
		if diff := cmp.Diff(m, m2, cmpOpts); diff != "" {
			t.Fatalf("decode(encode(x)) changed (-first +second):\n%s", diff)
		}
		var enc2 interface{ Encode() (string, error) } = m2.Reply
		if m2.Invite != nil {
			enc2 = m2.Invite
		}
		if tok2, _ := enc2.Encode(); tok2 != tok {
			t.Fatalf("encoding not stable: %q then %q", tok, tok2)
		}
	}
}

// FuzzCleanName: CleanName always yields a name Encode accepts.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"", "alice", " a\x00b\u202e ", strings.Repeat("😀 ", 40), "a\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := validateName(CleanName(s)); err != nil {
			t.Fatalf("CleanName(%q) = %q: %v", s, CleanName(s), err)
		}
	})
}

// FuzzUpdate seals arbitrary update payloads with a valid checksum, so the
// fuzzer reaches the update parser, the validators and Verify. DecodeAny
// must not panic and fails only with a *DecodeError; whatever decodes
// re-marshals to the same fields; and Verify accepts nothing but the
// seeds that were signed with the link's keys, byte for byte.
func FuzzUpdate(f *testing.F) {
	genuine := map[string]bool{}
	add := func(tok string) {
		p := payloadOf(f, tok)
		genuine[string(p)] = true
		f.Add(p)
	}
	add(encodeUpdate(f, testUpdate(), &testPSK))
	all := testUpdate()
	all.Endpoint6, all.LANEndpoint = aport("[2001:db8::9]:51821"), aport("192.168.1.20:51820")
	add(encodeUpdate(f, all, &testPSK))
	add(signAs(f, privA, pubB, &testPSK, append(testUpdate().marshal(), 0x40, 2, 'h', 'i')))
	f.Add([]byte{})
	f.Add(make([]byte, updateFixedLen+macLen))
	f.Add(append(testUpdate().marshal(), 0x80, 0))
	f.Fuzz(func(t *testing.T, payload []byte) {
		// Longer payloads make tokens above maxTokenChars, refused
		// before the content is looked at (TestDecodeErrors).
		if b32.EncodedLen(headerLen+len(payload)+checksumLen) > maxTokenChars-len("WGP1U-") {
			return
		}
		m, err := DecodeAny(seal(kindUpdate, payload))
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Kind != KindInvalid && de.Kind != KindVersion || de.Msg == "" || m != nil {
				t.Fatalf("DecodeAny(payload %x) = %v, %#v", payload, m, err)
			}
			return
		}
		u := m.Update
		if u == nil || m.Invite != nil || m.Reply != nil {
			t.Fatalf("DecodeAny(update) = %+v, want only Update", m)
		}
		if err := u.validate(); err != nil {
			t.Fatalf("decoded an update validate refuses: %v", err)
		}
		again, err := unmarshalUpdate(append(u.marshal(), u.mac[:]...))
		if err != nil {
			t.Fatalf("re-marshalled update does not decode: %v", err)
		}
		if diff := cmp.Diff(u, again, updateCmp); diff != "" {
			t.Fatalf("decode(marshal(x)) changed (-first +second):\n%s", diff)
		}
		if err := u.Verify(privB, pubA, &testPSK, 0, updateNow); err == nil && !genuine[string(payload)] {
			t.Fatalf("Verify accepts payload %x, which was never signed", payload)
		}
	})
}
