package invite

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestWideLANRejected: a peer's shared LANs become routes on the other
// machine, so a token must not carry prefixes that together act as a
// default route (0.0.0.0/1 + 128.0.0.0/1) or capture large parts of the
// internet. Encode refuses them, and Decode refuses a forged token that
// carries them (sealed without validation, as an attacker would).
func TestWideLANRejected(t *testing.T) {
	for _, lans := range [][]netip.Prefix{
		{pfx("0.0.0.0/1"), pfx("128.0.0.0/1")},
		{pfx("192.168.1.0/24"), pfx("64.0.0.0/2")},
		{pfx("8.0.0.0/7")},
		{pfx("::/1"), pfx("8000::/1")},
		{pfx("2000::/3")},
	} {
		i := testInvite()
		i.LANs = lans
		if tok, err := i.Encode(); err == nil || !strings.Contains(err.Error(), "too wide") {
			t.Errorf("invite with LANs %v: Encode = %q, %v; want a \"too wide\" error", lans, tok, err)
		}
		forged := seal(kindInvite, i.marshal())
		m, err := Decode(forged)
		var de *DecodeError
		if !errors.As(err, &de) || de.Kind != KindInvalid || !strings.Contains(err.Error(), "too wide") {
			t.Errorf("forged invite with LANs %v: Decode = %+v, %v; want KindInvalid \"too wide\"", lans, m, err)
		}

		r := testReply()
		r.LANs = lans
		if tok, err := r.Encode(); err == nil || !strings.Contains(err.Error(), "too wide") {
			t.Errorf("reply with LANs %v: Encode = %q, %v; want a \"too wide\" error", lans, tok, err)
		}
		m, err = Decode(seal(kindReply, r.marshal()))
		if !errors.As(err, &de) || de.Kind != KindInvalid {
			t.Errorf("forged reply with LANs %v: Decode = %+v, %v; want KindInvalid", lans, m, err)
		}
	}
	// The widest real LAN still works.
	i := testInvite()
	i.Subnet, i.InviterAddress, i.InviteeAddress = pfx("172.31.7.0/24"), pfx("172.31.7.1/24"), pfx("172.31.7.2/24")
	i.LANs = []netip.Prefix{pfx("10.0.0.0/8"), pfx("fd00::/8")}
	tok, err := i.Encode()
	if err != nil {
		t.Fatalf("invite sharing 10.0.0.0/8: %v", err)
	}
	if _, err := Decode(tok); err != nil {
		t.Errorf("Decode(invite sharing 10.0.0.0/8) = %v", err)
	}
}
