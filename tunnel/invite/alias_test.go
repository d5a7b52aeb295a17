package invite

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgpunch/wgpunch/tunnel/conf"
)

func alias(lan, as string) conf.LANAlias { return conf.LANAlias{LAN: pfx(lan), As: pfx(as)} }

// officeInvite and officeReply are two offices that both use
// 192.168.1.0/24: the inviter offers a pool, the invitee offers an alias
// of its LAN inside it and reaches the inviter's LAN as another alias.
func officeInvite() *Invite {
	i := testInvite()
	i.AliasPool = pfx("10.201.0.0/16")
	return i
}

func officeReply() *Reply {
	r := testReply()
	r.LANs = []netip.Prefix{pfx("192.168.1.0/24")}
	r.Offers = []conf.LANAlias{alias("192.168.1.0/24", "10.201.1.0/24")}
	r.ReachAs = []conf.LANAlias{alias("192.168.1.0/24", "10.57.1.0/24")}
	return r
}

func TestAliasRoundTrip(t *testing.T) {
	for name, want := range map[string]any{
		"invite with pool":  officeInvite(),
		"two-office reply":  officeReply(),
		"reply with digest": func() *Reply { r := officeReply(); r.Answer(officeInvite()); return r }(),
		"odd sizes": func() *Reply {
			r := testReply()
			r.LANs = []netip.Prefix{pfx("192.168.0.0/16"), pfx("172.20.16.0/20"), pfx("10.0.0.0/24"), pfx("192.169.1.128/25")}
			r.Offers = []conf.LANAlias{alias("172.20.16.0/20", "10.201.16.0/20"), alias("192.168.0.0/16", "10.202.0.0/16"), alias("192.169.1.128/25", "10.201.9.128/25")}
			r.ReachAs = []conf.LANAlias{alias("10.1.0.0/16", "172.30.0.0/16"), alias("192.168.7.64/26", "10.9.9.64/26")}
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			tok := mustEncode(t, want.(interface{ Encode() (string, error) }))
			m, err := Decode(tok)
			if err != nil {
				t.Fatal(err)
			}
			var got any = m.Invite
			if m.Reply != nil {
				got = m.Reply
			}
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAliasFieldsCompatible: a message without aliases is byte for byte
// what the version before them wrote (so older versions read it), and the
// new fields cost only a few bytes.
func TestAliasFieldsCompatible(t *testing.T) {
	// (TestExchangeCodeVector pins testInvite's payload, which has no pool.)
	plain, pooled := testInvite().marshal(), officeInvite().marshal()
	if string(pooled[:len(plain)]) != string(plain) || len(pooled)-len(plain) != 3 {
		t.Errorf("the pool changes the invite beyond a 3-byte tail: %x vs %x", plain, pooled)
	}
	r := officeReply()
	noAlias := *r
	noAlias.Offers, noAlias.ReachAs = nil, nil
	a, b := noAlias.marshal(), r.marshal()
	if string(b[:len(a)]) != string(a) {
		t.Errorf("aliases change the reply before its tail")
	}
	// tag, count, LAN index, 3 bytes; tag, count, prefix (4 bytes), 3 bytes.
	if got := len(b) - len(a); got != 6+9 {
		t.Errorf("one offer and one alias add %d bytes, want 15", got)
	}
	if _, err := unmarshalReply(a); err != nil {
		t.Errorf("a reply without aliases does not decode: %v", err)
	}
}

func TestAliasEncodeRejects(t *testing.T) {
	inv := []struct {
		name, pool, want string
	}{
		{"pool not a /16", "10.201.0.0/24", "want an IPv4 /16"},
		{"pool public", "8.8.0.0/16", "outside private address space"},
		{"pool IPv6", "fd00::/16", "want an IPv4 /16"},
		{"pool overlaps LAN", "192.168.0.0/16", "overlaps the shared LAN 192.168.1.0/24"},
		{"pool overlaps subnet", "10.77.0.0/16", "overlaps the tunnel subnet"},
		{"pool with host bits", "10.201.1.0/16", "not canonical"},
	}
	for _, tt := range inv {
		t.Run(tt.name, func(t *testing.T) {
			i := testInvite()
			i.AliasPool = pfx(tt.pool)
			if _, err := i.Encode(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	rep := []struct {
		name   string
		modify func(*Reply)
		want   string
	}{
		{"offer of another size", func(r *Reply) { r.Offers[0].As = pfx("10.201.0.0/23") }, "same size"},
		{"offer outside private space", func(r *Reply) { r.Offers[0].As = pfx("8.8.8.0/24") }, "outside private address space"},
		{"offer overlapping the LAN itself", func(r *Reply) { r.Offers[0].As = pfx("192.168.1.0/24") }, "overlaps the shared LAN 192.168.1.0/24"},
		{"offer for a LAN not shared", func(r *Reply) { r.Offers[0].LAN = pfx("192.168.2.0/24") }, "not one of the shared LANs"},
		{"offer twice", func(r *Reply) { r.Offers = append(r.Offers, alias("192.168.1.0/24", "10.201.2.0/24")) }, "has two aliases"},
		{"offer with host bits", func(r *Reply) { r.Offers[0].As = pfx("10.201.1.7/24") }, "not canonical"},
		{"IPv6 offer", func(r *Reply) {
			r.LANs = append(r.LANs, pfx("fd00:1::/64"))
			r.Offers = append(r.Offers, alias("fd00:1::/64", "fd00:2::/64"))
		}, "only IPv4"},
		{"alias of a LAN wider than /16", func(r *Reply) { r.ReachAs[0] = alias("10.0.0.0/15", "172.16.0.0/15") }, "wider than /16"},
		{"aliases overlap", func(r *Reply) { r.ReachAs = append(r.ReachAs, alias("192.168.2.0/24", "10.57.1.0/24")) }, "overlap"},
		{"alias overlapping the replier's LAN", func(r *Reply) { r.ReachAs[0].As = pfx("192.168.1.0/24") }, "overlaps the shared LAN"},
		{"too many", func(r *Reply) {
			r.ReachAs = nil
			for n := range MaxLANs + 1 {
				r.ReachAs = append(r.ReachAs, conf.LANAlias{LAN: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(n), 0}), 24), As: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 5, byte(n), 0}), 24)})
			}
		}, "at most 16"},
	}
	for _, tt := range rep {
		t.Run(tt.name, func(t *testing.T) {
			r := officeReply()
			tt.modify(r)
			if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestAliasDecodeRejects: intact tokens (valid checksum) whose alias
// extensions are malformed are refused as invalid, not misread.
func TestAliasDecodeRejects(t *testing.T) {
	base := officeReply()
	base.Offers, base.ReachAs = nil, nil
	head := base.marshal()
	for name, tail := range map[string][]byte{
		"offer for a LAN the reply lacks": {extOffers, 1, 5, 10, 201, 1},
		"no offers":                       {extOffers, 0},
		"offer cut short":                 {extOffers, 1, 0, 10},
		"reach-as cut short":              {extReachAs, 1, 24, 192, 168},
		"pool outside private space":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			kind, p := byte(kindReply), append(append([]byte{}, head...), tail...)
			if tail == nil {
				kind, p = kindInvite, append(testInvite().marshal(), extAliasPool, 8, 8)
			}
			_, err := Decode(seal(kind, p))
			de, ok := err.(*DecodeError)
			if !ok || de.Kind != KindInvalid {
				t.Errorf("Decode = %v, want an invalid-content error", err)
			}
		})
	}
}
