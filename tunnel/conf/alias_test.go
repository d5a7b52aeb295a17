package conf

import (
	"net/netip"
	"strings"
	"testing"
)

func TestLANAliasTranslate(t *testing.T) {
	tests := []struct {
		lan, as, in, want string
	}{
		{"192.168.1.0/24", "10.7.3.0/24", "192.168.1.50", "10.7.3.50"},
		{"192.168.1.0/24", "10.7.3.0/24", "192.168.2.50", "192.168.2.50"}, // outside: unchanged
		{"192.168.0.0/23", "10.7.2.0/23", "192.168.1.255", "10.7.3.255"},
		{"172.16.0.0/12", "10.16.0.0/12", "172.31.4.5", "10.31.4.5"},
		{"192.168.1.128/25", "10.7.3.0/25", "192.168.1.200", "10.7.3.72"},
		{"fd00:1::/64", "fd77:9::/64", "fd00:1::50", "fd77:9::50"},
	}
	for _, tt := range tests {
		a := LANAlias{LAN: netip.MustParsePrefix(tt.lan), As: netip.MustParsePrefix(tt.as)}
		got := a.Translate(netip.MustParseAddr(tt.in))
		if got.String() != tt.want {
			t.Errorf("%s: Translate(%s) = %s, want %s", a, tt.in, got, tt.want)
		}
		if a.LAN.Contains(netip.MustParseAddr(tt.in)) {
			if back := a.Untranslate(got); back.String() != tt.in {
				t.Errorf("%s: Untranslate(%s) = %s, want %s", a, got, back, tt.in)
			}
		}
	}
}

func TestReachedAs(t *testing.T) {
	m := PeerMeta{
		LANs:    []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("192.168.7.0/24")},
		ReachAs: []LANAlias{{LAN: netip.MustParsePrefix("192.168.1.0/24"), As: netip.MustParsePrefix("10.7.3.0/24")}},
	}
	if got := m.ReachedAs(m.LANs[0]); got.String() != "10.7.3.0/24" {
		t.Errorf("aliased LAN reached as %s", got)
	}
	if got := m.ReachedAs(m.LANs[1]); got != m.LANs[1] {
		t.Errorf("LAN without alias reached as %s", got)
	}
}

func TestReachAsNeedsPeerLAN(t *testing.T) {
	c := fullConfig()
	c.Peers[0].Meta.ReachAs = []LANAlias{{LAN: netip.MustParsePrefix("192.168.55.0/24"), As: netip.MustParsePrefix("10.9.55.0/24")}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "not one of the peer's LANs") {
		t.Fatalf("Validate = %v, want a ReachAs error naming the missing LAN", err)
	}
}
