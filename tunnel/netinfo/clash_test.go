package netinfo

import (
	"net/netip"
	"testing"
)

// A route clashes when it is equal to, contains or lies inside the
// prefix, on another interface; default-like routes wider than /8 and the
// other family never do.
func TestClash(t *testing.T) {
	routes := []Route{
		{Prefix: netip.MustParsePrefix("0.0.0.0/1"), Iface: "vpn0"},
		{Prefix: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"},
		{Prefix: netip.MustParsePrefix("10.20.0.0/16"), Iface: "eth1"},
		{Prefix: netip.MustParsePrefix("10.77.3.0/24"), Iface: "wg0"},
		{Prefix: netip.MustParsePrefix("fd00:1::/64"), Iface: "eth0"},
	}
	for _, tc := range []struct {
		p, skip   string
		want, rel string // want: clashing route's interface, "" none
	}{
		{"192.168.1.0/24", "", "eth0", "the same subnet"},
		{"192.168.1.128/25", "", "eth0", "a wider subnet that contains it"},
		{"192.168.0.0/16", "", "eth0", "a narrower subnet inside it"},
		{"10.20.5.0/24", "", "eth1", "a wider subnet that contains it"},
		{"10.77.3.0/24", "wg0", "", ""},                   // the tunnel's own route
		{"10.77.3.0/24", "wg1", "wg0", "the same subnet"}, // another tunnel's
		{"192.168.2.0/24", "", "", ""},
		{"100.64.0.0/24", "", "", ""}, // only 0.0.0.0/1 contains it: not a clash
		{"fd00:1::/48", "", "eth0", "a narrower subnet inside it"},
		{"fd00:2::/64", "", "", ""},
		{"0.0.0.0/1", "", "", ""}, // wider than /8: the narrower routes inside still win
		{"10.0.0.0/8", "", "eth1", "a narrower subnet inside it"},
	} {
		p := netip.MustParsePrefix(tc.p)
		r, ok := Clash(p, routes, tc.skip)
		if got := map[bool]string{true: r.Iface}[ok]; got != tc.want {
			t.Errorf("Clash(%s, skip %q) = %v %v, want interface %q", tc.p, tc.skip, r, ok, tc.want)
			continue
		}
		if ok {
			if rel := Relation(p, r.Prefix); rel != tc.rel {
				t.Errorf("Relation(%s, %s) = %q, want %q", tc.p, r.Prefix, rel, tc.rel)
			}
		}
	}
}
