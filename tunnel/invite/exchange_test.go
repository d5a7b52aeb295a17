package invite

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgpunch/wgpunch/tunnel/conf"
)

var codeFormat = regexp.MustCompile(`^[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}$`)

// exchange runs both sides of a link honestly, through the tokens, and
// returns what each side holds: the inviter the invite it sent (as a token)
// and the reply it got, the invitee the invite it got and the reply it sent.
type exchange struct {
	sentInvite string // inviter: the token it sent
	gotInvite  *Invite
	sentReply  *Reply
	replyToken string
}

func runExchange(t *testing.T, inv *Invite, rep *Reply) exchange {
	t.Helper()
	tok := mustEncode(t, inv)
	m, err := Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	rep.Answer(m.Invite)
	return exchange{sentInvite: tok, gotInvite: m.Invite, sentReply: rep, replyToken: mustEncode(t, rep)}
}

// inviterCode is what the inviter computes for a reply token it received.
func inviterCode(t *testing.T, sent []string, replyToken string) (Code, error) {
	t.Helper()
	m, err := Decode(replyToken)
	if err != nil {
		t.Fatalf("the inviter cannot decode the reply: %v", err)
	}
	inv, err := FindSent(sent, m.Reply)
	if err != nil {
		return Code{}, err
	}
	return ExchangeCode(inv, m.Reply)
}

func mustCode(t *testing.T, i *Invite, r *Reply) Code {
	t.Helper()
	c, err := ExchangeCode(i, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExchangeCodeAgrees(t *testing.T) {
	for name, inv := range map[string]*Invite{"typical": testInvite(), "worst case": worstInvite(), "every candidate": dualInvite()} {
		t.Run(name, func(t *testing.T) {
			x := runExchange(t, inv, dualReply())
			invitee := mustCode(t, x.gotInvite, x.sentReply)
			inviter, err := inviterCode(t, []string{StoreToken(x.sentInvite)}, x.replyToken)
			if err != nil {
				t.Fatal(err)
			}
			if invitee != inviter {
				t.Fatalf("invitee %+v, inviter %+v: want the same code", invitee, inviter)
			}
			if invitee.KeysOnly || !codeFormat.MatchString(invitee.Text) {
				t.Fatalf("code %+v: want %d digits in groups of four, not key-only", invitee, CodeDigits)
			}
		})
	}
}

// TestExchangeCodeVector pins the derivation documented in
// docs/invite-format.md: both sides of a link may run different builds.
func TestExchangeCodeVector(t *testing.T) {
	r := testReply()
	r.Answer(testInvite())
	if got := hex.EncodeToString(r.InviteDigest[:]); got != digestVector {
		t.Errorf("testInvite().Digest() = %s, want %s", got, digestVector)
	}
	c := mustCode(t, testInvite(), r)
	if c.Text != exchangeVector {
		t.Errorf("ExchangeCode(testInvite, testReply) = %q, want %q", c.Text, exchangeVector)
	}
}

// digestVector was checked in Python: SHA-256(b"wgpunch invite digest\0" +
// payload)[:8] of the example token in docs/invite-format.md.
// exchangeVector is pinned from this implementation (no independent
// Argon2id was at hand).
const (
	digestVector   = "933f671e625a1a8d"
	exchangeVector = "6860 9205 5058 1893"
)

// An attacker on the path decodes a message, changes one field and
// re-encodes it, so the checksum is valid again. inviteFields and
// replyFields change every field; TestTamperCoversEveryField checks no
// field is missing.
var inviteFields = map[string]func(*Invite){
	"ID":          func(i *Invite) { i.ID = "fedcba9876543210" },
	"Name":        func(i *Invite) { i.Name = "Alice's laptop." },
	"PublicKey":   func(i *Invite) { i.PublicKey = key(200) },
	"Endpoint":    func(i *Invite) { i.Endpoint.Port++ },
	"LANEndpoint": func(i *Invite) { i.LANEndpoint = ep("192.168.1.21", 51820) },
	"Subnet": func(i *Invite) {
		i.Subnet, i.InviterAddress, i.InviteeAddress = pfx("10.77.13.0/24"), pfx("10.77.13.1/24"), pfx("10.77.13.2/24")
	},
	"InviterAddress": func(i *Invite) { i.InviterAddress = pfx("10.77.12.3/24") },
	"InviteeAddress": func(i *Invite) { i.InviteeAddress = pfx("10.77.12.4/24") },
	"LANs":           func(i *Invite) { i.LANs = append(i.LANs, pfx("192.168.2.0/24")) },
	"NATMapping":     func(i *Invite) { i.NATMapping = "none" },
	"NATVerdict":     func(i *Invite) { i.NATVerdict = "warning" },
	// An attacker adding a candidate of its own (testInvite has none).
	"Endpoint6": func(i *Invite) { i.Endpoint6 = ep("2001:db8:bad::1", 51820) },
	// An attacker giving the invitee a pool of its choosing.
	"AliasPool": func(i *Invite) { i.AliasPool = pfx("10.99.0.0/16") },
}

var replyFields = map[string]func(*Reply){
	"InviteID":     func(r *Reply) { r.InviteID = "fedcba9876543210" },
	"Name":         func(r *Reply) { r.Name = "Bob2" },
	"PublicKey":    func(r *Reply) { r.PublicKey = key(201) },
	"Endpoint":     func(r *Reply) { r.Endpoint = ep("198.51.100.10", 51821) },
	"LANEndpoint":  func(r *Reply) { r.LANEndpoint = conf.Endpoint{} },
	"LANs":         func(r *Reply) { r.LANs = r.LANs[:1] },
	"NATMapping":   func(r *Reply) { r.NATMapping = "endpoint-dependent" },
	"NATVerdict":   func(r *Reply) { r.NATVerdict = "fail" },
	"InviteDigest": func(r *Reply) { r.InviteDigest[0] ^= 1 },
	"Endpoint6":    func(r *Reply) { r.Endpoint6 = ep("2001:db8:bad::2", 51821) },
	"Offers": func(r *Reply) {
		r.Offers = append(slices.Clone(r.Offers), conf.LANAlias{LAN: pfx("10.0.0.0/24"), As: pfx("10.99.0.0/24")})
	},
	"ReachAs": func(r *Reply) {
		r.ReachAs = append(slices.Clone(r.ReachAs), conf.LANAlias{LAN: pfx("192.168.1.0/24"), As: pfx("10.98.1.0/24")})
	},
}

// dualInvite and dualReply carry all three candidates: public IPv4,
// public IPv6 and LAN.
func dualInvite() *Invite {
	i := testInvite()
	i.Endpoint6 = ep("2001:db8:1::7", 51820)
	return i
}

func dualReply() *Reply {
	r := testReply()
	r.Endpoint6 = ep("2001:db8:2::9", 51821)
	return r
}

// Changing the IPv6 candidate of a message that has one changes the code
// too, on both sides of the exchange.
func TestTamperedEndpoint6ChangesCode(t *testing.T) {
	x := runExchange(t, dualInvite(), dualReply())
	honest := mustCode(t, x.gotInvite, x.sentReply)
	for name, change := range map[string]func(*Invite, *Reply){
		"invite's IPv6 port":    func(i *Invite, _ *Reply) { i.Endpoint6.Port++ },
		"invite's IPv6 address": func(i *Invite, _ *Reply) { i.Endpoint6.Host = "2001:db8:bad::1" },
		"invite's IPv6 dropped": func(i *Invite, _ *Reply) { i.Endpoint6 = conf.Endpoint{} },
		"reply's IPv6 address":  func(_ *Invite, r *Reply) { r.Endpoint6.Host = "2001:db8:bad::2" },
		"reply's IPv6 dropped":  func(_ *Invite, r *Reply) { r.Endpoint6 = conf.Endpoint{} },
	} {
		t.Run(name, func(t *testing.T) {
			inv, rep := *x.gotInvite, *x.sentReply
			change(&inv, &rep)
			// The attacker keeps the reply quoting the invite it changed,
			// so only the transcript can tell.
			rep.Answer(&inv)
			if c := mustCode(t, &inv, &rep); c == honest {
				t.Errorf("code %s unchanged after changing the %s", c.Text, name)
			}
		})
	}
}

func TestTamperCoversEveryField(t *testing.T) {
	for typ, fields := range map[reflect.Type]map[string]bool{
		reflect.TypeFor[Invite](): keysOf(inviteFields),
		reflect.TypeFor[Reply]():  keysOf(replyFields),
	} {
		for f := range typ.Fields() {
			if !fields[f.Name] {
				t.Errorf("%s.%s: no tampering case; add one to the tamper tables", typ.Name(), f.Name)
			}
		}
	}
}

func keysOf[F any](m map[string]F) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// TestTamperedInviteChangesCode: whatever field of the invite an attacker
// changes, the inviter refuses the reply (it answers an invite it never
// sent), or, when the attacker also rewrites the reply to quote the
// original, the two sides get different codes.
func TestTamperedInviteChangesCode(t *testing.T) {
	for name, change := range inviteFields {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sent := mustEncode(t, testInvite())
			forged := testInvite()
			change(forged)
			x := runExchange(t, forged, testReply()) // the invitee got the forgery
			// A plain relay of the reply: the inviter notices.
			_, err := inviterCode(t, []string{sent}, x.replyToken)
			if !errors.Is(err, ErrInviteChanged) && !errors.Is(err, ErrNotAnswer) {
				t.Fatalf("inviter took a reply to a forged invite: %v", err)
			}
			// The attacker rewrites the reply to answer the original.
			r := *x.sentReply
			r.Answer(testInvite())
			inviter, err := inviterCode(t, []string{sent}, mustEncode(t, &r))
			if err != nil {
				t.Fatal(err)
			}
			invitee := mustCode(t, x.gotInvite, x.sentReply)
			if inviter == invitee {
				t.Fatalf("both sides show %q after the invite's %s was changed", inviter.Text, name)
			}
		})
	}
}

// TestTamperedReplyChangesCode: whatever field of the reply an attacker
// changes, the two sides get different codes (or the inviter refuses it).
func TestTamperedReplyChangesCode(t *testing.T) {
	x := runExchange(t, testInvite(), testReply())
	invitee := mustCode(t, x.gotInvite, x.sentReply)
	for name, change := range replyFields {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := *x.sentReply
			r.LANs = slices.Clone(r.LANs)
			change(&r)
			inviter, err := inviterCode(t, []string{x.sentInvite}, mustEncode(t, &r))
			if err != nil {
				if !errors.Is(err, ErrInviteChanged) && !errors.Is(err, ErrNotAnswer) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if inviter == invitee {
				t.Fatalf("both sides show %q after the reply's %s was changed", inviter.Text, name)
			}
		})
	}
}

// TestStrippedDigestIsNoDowngrade: an attacker who strips the digest makes
// the inviter fall back to the key-only code, but the invitee still shows
// the full one, so the codes cannot match.
func TestStrippedDigestIsNoDowngrade(t *testing.T) {
	x := runExchange(t, testInvite(), testReply())
	r := *x.sentReply
	r.InviteDigest = [DigestLen]byte{}
	inviter, err := inviterCode(t, []string{x.sentInvite}, mustEncode(t, &r))
	if err != nil {
		t.Fatal(err)
	}
	if !inviter.KeysOnly {
		t.Fatalf("a reply without digest gave %+v, want the key-only code", inviter)
	}
	if invitee := mustCode(t, x.gotInvite, x.sentReply); invitee.Text == inviter.Text || invitee.KeysOnly {
		t.Fatalf("invitee %+v, inviter %+v: want different codes", invitee, inviter)
	}
}

// TestOldReplyKeepsWorking: a reply from today's WG Punch (format 1, no
// digest) is accepted; the code is the key-only one both versions show.
func TestOldReplyKeepsWorking(t *testing.T) {
	sent := mustEncode(t, testInvite())
	old := testReply() // no Answer: encodes exactly as before
	c, err := inviterCode(t, []string{sent}, mustEncode(t, old))
	if err != nil {
		t.Fatal(err)
	}
	if want := SafetyCode(key(1), key(100)); !c.KeysOnly || c.Text != want {
		t.Fatalf("code %+v, want key-only %q", c, want)
	}
}

// TestFindSentReissued: a re-issued invite (same ID, fresh endpoints) has
// several copies; the reply's digest picks the one the invitee answered.
func TestFindSentReissued(t *testing.T) {
	first := testInvite()
	second := testInvite()
	second.Endpoint = ep("203.0.113.8", 51820)
	sent := []string{StoreToken(mustEncode(t, first)), StoreToken(mustEncode(t, second))}
	for name, answered := range map[string]*Invite{"first": first, "second": second} {
		r := testReply()
		r.Answer(answered)
		got, err := FindSent(sent, r)
		if err != nil {
			t.Fatalf("%s copy: %v", name, err)
		}
		if diff := cmp.Diff(answered, got, cmpOpts); diff != "" {
			t.Errorf("%s copy: FindSent picked another (-want +got):\n%s", name, diff)
		}
	}
	r := testReply() // no digest: the newest copy
	if got, err := FindSent(sent, r); err != nil || got.Endpoint != second.Endpoint {
		t.Errorf("reply without digest: FindSent = %+v, %v; want the newest copy", got, err)
	}
	r.InviteID = "0000000000000000"
	if _, err := FindSent(sent, r); !errors.Is(err, ErrNotAnswer) {
		t.Errorf("reply to another invite: %v, want ErrNotAnswer", err)
	}
	if _, err := FindSent(nil, testReply()); !errors.Is(err, ErrNotAnswer) {
		t.Errorf("nothing stored: %v, want ErrNotAnswer", err)
	}
}

// TestPayloadByteTamper flips every bit of every payload byte of both
// messages and re-seals with a valid checksum, as an attacker would. Each
// change that still decodes to different content must change what the code
// covers (the transcript). The code is a function of the transcript alone,
// so this holds for the code too, with all but a 10^-16 chance; the field
// tables above check real codes.
func TestPayloadByteTamper(t *testing.T) {
	t.Run("plain", func(t *testing.T) { payloadByteTamper(t, testInvite(), testReply()) })
	t.Run("two offices with aliases", func(t *testing.T) { payloadByteTamper(t, officeInvite(), officeReply()) })
}

func payloadByteTamper(t *testing.T, inv *Invite, rep *Reply) {
	rep.Answer(inv)
	base := transcript(inv, rep)
	check := func(kind byte, payload []byte) {
		for j := range payload {
			for bit := range 8 {
				p := slices.Clone(payload)
				p[j] ^= 1 << bit
				m, err := Decode(seal(kind, p))
				if err != nil {
					continue // refused: fine
				}
				i2, r2 := inv, rep
				if m.Invite != nil {
					i2 = m.Invite
				} else {
					r2 = m.Reply
				}
				same := cmp.Equal(i2, inv, cmpOpts) && cmp.Equal(r2, rep, cmpOpts)
				if !same && bytes.Equal(transcript(i2, r2), base) {
					t.Errorf("%c byte %d bit %d: content changed, transcript did not", kind, j, bit)
				}
			}
		}
	}
	check(kindInvite, inv.marshal())
	check(kindReply, rep.marshal())
}

func TestReplyDigestWire(t *testing.T) {
	r := testReply()
	old := r.marshal()
	r.Answer(testInvite())
	b := r.marshal()
	if !bytes.Equal(b[:len(old)], old) || len(b) != len(old)+1+DigestLen {
		t.Fatalf("reply with digest = %x, want the old payload %x + tag + %d bytes", b, old, DigestLen)
	}
	m, err := Decode(mustEncode(t, r))
	if err != nil || m.Reply.InviteDigest != r.InviteDigest {
		t.Fatalf("digest did not survive: %+v, %v", m, err)
	}
	zero := append(slices.Clone(old), extInviteDigest)
	zero = append(zero, make([]byte, DigestLen)...)
	if k, msg := decodeKind(t, seal(kindReply, zero)); k != KindInvalid {
		t.Errorf("all-zero digest: %v %q, want invalid", k, msg)
	}
	if k, msg := decodeKind(t, seal(kindReply, b[:len(b)-1])); k != KindInvalid {
		t.Errorf("short digest: %v %q, want invalid", k, msg)
	}
}

// FuzzExchangeTamper: any pair of payloads that decode to content other
// than the honest exchange's gives another transcript.
func FuzzExchangeTamper(f *testing.F) {
	inv, rep := testInvite(), testReply()
	rep.Answer(inv)
	f.Add(inv.marshal(), rep.marshal())
	f.Add(worstInvite().marshal(), testReply().marshal())
	base := transcript(inv, rep)
	f.Fuzz(func(t *testing.T, ip, rp []byte) {
		if len(ip) > 0xffff || len(rp) > 0xffff {
			return
		}
		mi, err1 := Decode(seal(kindInvite, ip))
		mr, err2 := Decode(seal(kindReply, rp))
		if err1 != nil || err2 != nil {
			return
		}
		same := cmp.Equal(mi.Invite, inv, cmpOpts) && cmp.Equal(mr.Reply, rep, cmpOpts)
		if !same && bytes.Equal(transcript(mi.Invite, mr.Reply), base) {
			t.Fatalf("different content, same transcript")
		}
	})
}

func TestRememberSent(t *testing.T) {
	var sent []string
	for n := range conf.MaxSentInvites + 2 {
		i := testInvite()
		i.Endpoint.Port = uint16(1000 + n)
		sent = RememberSent(sent, mustEncode(t, i))
	}
	if len(sent) != conf.MaxSentInvites {
		t.Fatalf("%d copies kept, want %d", len(sent), conf.MaxSentInvites)
	}
	if m, err := Decode(sent[len(sent)-1]); err != nil || m.Invite.Endpoint.Port != 1000+conf.MaxSentInvites+1 {
		t.Fatalf("newest copy: %+v, %v", m, err)
	}
	// The copies are fit for a config file, and read back as they were.
	text := "[Interface]\nPrivateKey = " + key(7).String() + "\n# wgpunch.SentInvites = " + strings.Join(sent, ", ") + "\n"
	c, err := conf.Parse("wgp0", []byte(text))
	if err != nil {
		t.Fatalf("config with the copies: %v", err)
	}
	if _, err := FindSent(c.Interface.Meta.SentInvites, testReply()); err != nil {
		t.Fatalf("FindSent on the parsed copies: %v", err)
	}
	other := testInvite()
	other.ID = "fedcba9876543210"
	if got := RememberSent(sent, mustEncode(t, other)); len(got) != 1 {
		t.Fatalf("a new invite ID kept %d old copies", len(got)-1)
	}
	if got := RememberSent(sent, "not a token"); len(got) != len(sent) {
		t.Fatal("a bad token changed the copies")
	}
}

func TestStoredCode(t *testing.T) {
	if c := StoredCode("6860 9205 5058 1893", key(1), key(100)); c.KeysOnly || c.Text != "6860 9205 5058 1893" {
		t.Errorf("stored code: %+v", c)
	}
	if c := StoredCode("", key(100), key(1)); !c.KeysOnly || c.Text != safetyVector {
		t.Errorf("no stored code: %+v, want key-only %q", c, safetyVector)
	}
}

func TestExchangeCodeRejectsInvalid(t *testing.T) {
	bad := testInvite()
	bad.PublicKey = [32]byte{}
	if _, err := ExchangeCode(bad, testReply()); err == nil || !strings.Contains(err.Error(), "invalid invite") {
		t.Errorf("zero-key invite: %v", err)
	}
	r := testReply()
	r.InviteID = "x"
	if _, err := ExchangeCode(testInvite(), r); err == nil || !strings.Contains(err.Error(), "invalid reply") {
		t.Errorf("bad reply: %v", err)
	}
	r = testReply()
	r.InviteID = "fedcba9876543210"
	if _, err := ExchangeCode(testInvite(), r); !errors.Is(err, ErrNotAnswer) {
		t.Errorf("reply to another invite: %v, want ErrNotAnswer", err)
	}
	r = testReply()
	r.InviteDigest[3] = 1
	if _, err := ExchangeCode(testInvite(), r); !errors.Is(err, ErrInviteChanged) {
		t.Errorf("reply to another copy: %v, want ErrInviteChanged", err)
	}
}
