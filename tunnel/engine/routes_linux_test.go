package engine

import (
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// TestNeverTakesOverRoutes: a tunnel's routes never take over another
// interface's or another tunnel's. A's LAN is 192.168.77.0/24 on lan0 with
// metric 100 (as NetworkManager and DHCP clients add it) and 172.29.5.0/24
// is routed there too.
//
//   - Tunnel 1 routes its subnet and a free peer LAN, but not peer LANs that
//     equal, lie inside or contain lan0's routes.
//   - Tunnel 2's subnet is the LAN itself (saved by an older version): its
//     address goes on without the kernel prefix route (metric 0, which
//     would beat lan0's 100), and its peer LAN, which tunnel 1 routes, is
//     skipped. The LAN stays reachable through lan0.
//
// Each skip is logged naming the clash.
func TestNeverTakesOverRoutes(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "rt-a", "rt-b", "10.99.43")
	testutil.NetNS(t, "rt-l")
	testutil.Veth(t, testutil.VethEnd{NS: "rt-a", Dev: "lan0"}, testutil.VethEnd{NS: "rt-l", Dev: "veth0", Addrs: []string{"192.168.77.20/24"}})
	for _, c := range [][]string{
		{"addr", "add", "192.168.77.10/24", "dev", "lan0", "noprefixroute"},
		{"route", "add", "192.168.77.0/24", "dev", "lan0", "metric", "100"},
		{"route", "add", "172.29.5.0/24", "dev", "lan0"},
	} {
		run(t, append([]string{"ip", "-n", "rt-a"}, c...)...)
	}
	a := newSide(t, "rt-a", "rtta0", 52161, "10.99.243.1/24", "10.99.43.1")
	b := newSide(t, "rt-b", "rttb0", 52162, "10.99.243.2/24", "10.99.43.2")
	c, ans := startChild(t, a.ns, a.config(b, 5, "192.168.77.128/25", "172.29.0.0/16", "192.168.77.0/24", "10.99.88.0/24"))
	mustUp(t, c, ans, a.ifname)

	routes := run(t, "ip", "-n", a.ns, "route", "show", "dev", a.ifname)
	for _, want := range []string{"10.99.243.0/24", "10.99.88.0/24"} {
		if !strings.Contains(routes, want+" ") {
			t.Errorf("no route %s on %s:\n%s", want, a.ifname, routes)
		}
	}
	for _, bad := range []string{"192.168.77.", "172.29."} {
		if strings.Contains(routes, bad) {
			t.Errorf("a route under %s is on %s, taking over lan0's:\n%s", bad, a.ifname, routes)
		}
	}
	for _, want := range []string{
		"not routing 192.168.77.128/25 (peer \"rt-b\") through the tunnel: this machine already routes 192.168.77.0/24 through lan0 (a wider subnet that contains it)",
		"not routing 172.29.0.0/16 (peer \"rt-b\") through the tunnel: this machine already routes 172.29.5.0/24 through lan0 (a narrower subnet inside it)",
		"not routing 192.168.77.0/24 (peer \"rt-b\") through the tunnel: this machine already routes 192.168.77.0/24 through lan0 (the same subnet)",
	} {
		if !c.logged(want) {
			t.Errorf("log lacks %q:\n%s", want, c.stderr)
		}
	}

	// Tunnel 2: the LAN as tunnel subnet, and tunnel 1's peer LAN.
	a2 := newSide(t, "rt-a", "rtta1", 52163, "192.168.77.1/24", "10.99.43.1")
	b2 := newSide(t, "rt-b", "rttb1", 52164, "192.168.77.2/24", "10.99.43.2")
	if got := c.send("apply " + writeConfig(t, a2.config(b2, 5, "10.99.88.0/24"))); got != "up "+a2.ifname {
		t.Fatalf("second tunnel: %q; stderr:\n%s", got, c.stderr)
	}
	if routes := run(t, "ip", "-n", a.ns, "route", "show", "dev", a2.ifname); strings.TrimSpace(routes) != "" {
		t.Errorf("routes on %s, want none (all clash):\n%s", a2.ifname, routes)
	}
	if addrs := run(t, "ip", "-n", a.ns, "addr", "show", "dev", a2.ifname); !strings.Contains(addrs, "192.168.77.1/24") || !strings.Contains(addrs, "noprefixroute") {
		t.Errorf("address of %s, want 192.168.77.1/24 with noprefixroute:\n%s", a2.ifname, addrs)
	}
	for ip, dev := range map[string]string{"192.168.77.5": "lan0", "192.168.77.200": "lan0", "10.99.88.7": a.ifname, "172.29.5.9": "lan0"} {
		if got := run(t, "ip", "-n", a.ns, "route", "get", ip); !strings.Contains(got, "dev "+dev+" ") {
			t.Errorf("route to %s, want dev %s:\n%s", ip, dev, got)
		}
	}
	if want := `not routing 10.99.88.0/24 (peer "rt-b") through the tunnel: this machine already routes 10.99.88.0/24 through rtta0 (the same subnet)`; !c.logged(want) {
		t.Errorf("log lacks %q:\n%s", want, c.stderr)
	}
}
