package netinfo

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIfaceAddrs: the loopback interface's 127.0.0.1/8 comes back with its
// prefix length, and PrimaryIPv4 never picks a loopback address.
func TestIfaceAddrs(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Skip(err)
	}
	found := false
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback == 0 {
			continue
		}
		for _, p := range ifaceAddrs(ifc) {
			if p == netip.MustParsePrefix("127.0.0.1/8") {
				found = true
			}
		}
	}
	if !found {
		t.Skip("no loopback interface with 127.0.0.1/8 here")
	}
	if a := OS().PrimaryIPv4(nil); a.IsValid() && (a.IsLoopback() || !a.Is4()) {
		t.Errorf("PrimaryIPv4 = %v, want a non-loopback IPv4 address", a)
	}
	for _, r := range OS().Routes() {
		if r.Prefix != r.Prefix.Masked() {
			t.Errorf("route %v is not masked", r.Prefix)
		}
	}
}

func TestFilterLANs(t *testing.T) {
	up := net.FlagUp | net.FlagBroadcast
	p := netip.MustParsePrefix
	ifs := []Iface{
		{Name: "lo", Flags: net.FlagUp | net.FlagLoopback, Addrs: []netip.Prefix{p("127.0.0.1/8")}},
		{Name: "eth0", Flags: up, Addrs: []netip.Prefix{p("192.168.1.23/24"), p("fe80::1/64"), p("169.254.3.4/16")}},
		{Name: "wlan0", Flags: up, Addrs: []netip.Prefix{p("192.168.1.40/24"), p("10.20.0.5/16")}},
		{Name: "wg0", Flags: up, Addrs: []netip.Prefix{p("10.77.12.1/24")}},
		{Name: "office", Flags: up, Addrs: []netip.Prefix{p("10.77.13.1/24")}},
		{Name: "ppp0", Flags: up | net.FlagPointToPoint, Addrs: []netip.Prefix{p("100.64.1.2/32")}},
		{Name: "eth1", Flags: net.FlagBroadcast, Addrs: []netip.Prefix{p("172.16.0.2/24")}},
		{Name: "docker0", Flags: up, Addrs: []netip.Prefix{p("172.17.0.1/16")}},
	}
	want := []LAN{{Prefix: p("10.20.0.0/16"), Iface: "wlan0"}, {Prefix: p("192.168.1.0/24"), Iface: "eth0"}}
	if diff := cmp.Diff(want, FilterLANs(ifs, []string{"office"}), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("FilterLANs (-want +got):\n%s", diff)
	}
}

func TestPrimaryIPv4(t *testing.T) {
	up := net.FlagUp | net.FlagBroadcast
	p := netip.MustParsePrefix
	ifs := []Iface{
		{Name: "lo", Flags: net.FlagUp | net.FlagLoopback, Addrs: []netip.Prefix{p("127.0.0.1/8")}},
		{Name: "eth0", Flags: up, Addrs: []netip.Prefix{p("fe80::1/64"), p("192.168.1.23/24")}},
		{Name: "wlan0", Flags: up, Addrs: []netip.Prefix{p("10.20.0.5/16")}},
		{Name: "eth1", Flags: net.FlagBroadcast, Addrs: []netip.Prefix{p("172.16.0.2/24")}},
	}
	for _, tt := range []struct {
		def  string
		skip map[string]bool
		want string
	}{
		{"", nil, "192.168.1.23"},
		{"wlan0", nil, "10.20.0.5"},
		{"eth1", nil, "192.168.1.23"}, // down
		{"", map[string]bool{"eth0": true}, "10.20.0.5"},
		{"", map[string]bool{"eth0": true, "wlan0": true}, "invalid IP"},
	} {
		if got := PrimaryIPv4(ifs, tt.def, tt.skip).String(); got != tt.want {
			t.Errorf("PrimaryIPv4(def %q, skip %v) = %s, want %s", tt.def, tt.skip, got, tt.want)
		}
	}
}
