package engine

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// TestEndpointInsideAllowedIPs: a config as VPN providers ship it, with
// AllowedIPs 0.0.0.0/1 and 128.0.0.0/1, covers the peer's own endpoint. The
// half that contains it must not be routed into the tunnel, or the
// handshakes loop into the tunnel and never arrive. A reaches B's endpoint
// 172.31.41.2 through its default route (as a VPN server is reached), so a
// route 128.0.0.0/1 through the tunnel would take it over. (The very first
// initiation may leave before the routes are set; every later one, and
// each rekey, would loop.) B has no endpoint for A, so A's initiation
// makes the handshake.
func TestEndpointInsideAllowedIPs(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h15-va", "h15-vb", "10.99.41")
	run(t, "ip", "-n", "h15-vb", "addr", "add", "172.31.41.2/32", "dev", "veth0")
	run(t, "ip", "-n", "h15-va", "route", "add", "default", "via", "10.99.41.2")
	a := newSide(t, "h15-va", "h15va0", 52151, "10.99.241.1/24", "10.99.41.1")
	b := newSide(t, "h15-vb", "h15vb0", 52152, "10.99.241.2/24", "172.31.41.2")

	cfgB := b.config(a, 0)
	cfgB.Peers[0].Endpoint = conf.Endpoint{}
	cb, ans := startChild(t, b.ns, cfgB)
	mustUp(t, cb, ans, b.ifname)

	cfgA := a.config(b, 5, "0.0.0.0/1", "128.0.0.0/1")
	ca, ans := startChild(t, a.ns, cfgA)
	mustUp(t, ca, ans, a.ifname)

	took := handshakeWithin(t, a.ifname, 10*time.Second)
	t.Logf("handshake %s after up", took)
	out := run(t, "ip", "netns", "exec", a.ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", b.addr.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping through the tunnel lost packets:\n%s", out)
	}
	routes := run(t, "ip", "-n", a.ns, "route", "show", "dev", a.ifname)
	if strings.Contains(routes, "128.0.0.0/1") {
		t.Errorf("128.0.0.0/1, which contains the peer's endpoint, is routed into the tunnel:\n%s", routes)
	}
	// The tunnel's own packets to the endpoint leave outside the tunnel.
	if got := run(t, "ip", "-n", a.ns, "route", "get", "172.31.41.2"); !strings.Contains(got, "dev veth0") {
		t.Errorf("the route to the peer's endpoint goes into the tunnel, want veth0:\n%s", got)
	}
	if !strings.Contains(routes, "0.0.0.0/1") {
		t.Errorf("0.0.0.0/1, which does not contain the endpoint, is not routed:\n%s", routes)
	}
	if want := "not routing 128.0.0.0/1 through the tunnel: it contains the endpoint 172.31.41.2"; !ca.logged(want) {
		t.Errorf("log lacks %q:\n%s", want, ca.stderr)
	}
	// Both halves are still the peer's AllowedIPs on the device.
	if got := peerOf(t, a.ifname).AllowedIPs; len(got) != 3 {
		t.Errorf("peer AllowedIPs on the device: %v, want the tunnel address and both halves", got)
	}
}

// TestSameNameOtherNamespace: two daemons in different network namespaces
// share /var/run/wireguard. Bringing up a tunnel whose name the other one
// already uses must fail with advice and leave the other tunnel alone: its
// socket stays, `wg`/wgctrl still reach it, its peer still talks.
func TestSameNameOtherNamespace(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h15-sa", "h15-sb", "10.99.42")
	a := newSide(t, "h15-sa", "h15s0", 52161, "10.99.242.1/24", "10.99.42.1")
	b := newSide(t, "h15-sb", "h15sb0", 52162, "10.99.242.2/24", "10.99.42.2")
	cfgA := a.config(b, 5)
	ca, ans := startChild(t, a.ns, cfgA)
	mustUp(t, ca, ans, a.ifname)
	cb, ans := startChild(t, b.ns, b.config(a, 5))
	mustUp(t, cb, ans, b.ifname)
	handshakeWithin(t, a.ifname, 10*time.Second)
	sockPath := socketDir + "/" + a.ifname + ".sock"
	before, err := os.Lstat(sockPath)
	if err != nil {
		t.Fatal(err)
	}

	// A second daemon in B's namespace, tunnel named like A's.
	c := newSide(t, "h15-sb", a.ifname, 52163, "10.99.243.2/24", "10.99.42.2")
	cc, ans := startChild(t, c.ns, c.config(a, 5))
	want := "another WireGuard tunnel named h15s0 already uses /var/run/wireguard/h15s0.sock (perhaps in another network namespace): pick another name or take that one down"
	if !strings.HasPrefix(ans, "err ") || !strings.Contains(ans, want) {
		t.Errorf("second tunnel named %s: %q, want an error containing %q", a.ifname, ans, want)
	}
	if ans := cc.send("running"); ans != "running " {
		t.Errorf("second daemon after the failed up: %q, want no tunnels", ans)
	}
	linkGone(t, c.ns, c.ifname)
	cc.stop() // closing its engine must not touch A's socket either

	// A is untouched: same socket file, readable, state up, peer talking.
	after, err := os.Lstat(sockPath)
	if err != nil {
		t.Fatalf("A's control socket is gone after the other daemon failed: %v", err)
	}
	if !os.SameFile(before, after) {
		t.Errorf("A's control socket was replaced")
	}
	if ans := ca.send("running"); ans != "running "+a.ifname {
		t.Errorf("A after the other daemon failed: %q, want %s running", ans, a.ifname)
	}
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	d, err := wc.Device(a.ifname)
	if err != nil {
		t.Fatalf("wgctrl cannot read A's tunnel after the other daemon failed: %v", err)
	}
	if d.PublicKey != a.key.PublicKey() || d.ListenPort != int(a.port) {
		t.Errorf("socket %s answers for key %s port %d, want A's %s port %d", sockPath, d.PublicKey, d.ListenPort, a.key.PublicKey(), a.port)
	}
	out := run(t, "ip", "netns", "exec", a.ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", b.addr.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping through A's tunnel lost packets:\n%s", out)
	}
	// The status monitor (what the GUI shows) still sees it connected.
	ts := monitor.New(monitor.Options{Reader: wc}).Snapshot([]*conf.Config{cfgA}, map[string]string{a.ifname: a.ifname}).Tunnels[0]
	if !ts.Up || ts.Error != "" || ts.Peers[0].State != monitor.StateConnected {
		t.Errorf("monitor of A: up=%v error=%q state=%s, want up and connected", ts.Up, ts.Error, ts.Peers[0].State)
	}
	if _, err := exec.LookPath("wg"); err == nil {
		if out := run(t, "wg", "show", a.ifname, "listen-port"); strings.TrimSpace(out) != "52161" {
			t.Errorf("wg show %s listen-port: %q, want 52161", a.ifname, out)
		}
	}
	// A can still be reconfigured through the engine (which uses the
	// device directly) and still be read through the socket.
	if ans := ca.send("apply " + writeConfig(t, a.config(b, 5, "10.99.244.0/24"))); ans != "up "+a.ifname {
		t.Errorf("re-apply of A: %s\n%s", ans, ca.stderr)
	}
	if p := peerOf(t, a.ifname); !slicesContainsPrefix(p.AllowedIPs, "10.99.244.0/24") {
		t.Errorf("A's peer after re-apply: AllowedIPs %v, want 10.99.244.0/24 among them", p.AllowedIPs)
	}
	if strings.Contains(ca.stderr.String(), "went away") {
		t.Errorf("A's engine thinks its tunnel went away:\n%s", ca.stderr)
	}
}

func slicesContainsPrefix(ns []net.IPNet, s string) bool {
	want := netip.MustParsePrefix(s)
	for _, n := range ns {
		if p, ok := toPrefix(&n); ok && p == want {
			return true
		}
	}
	return false
}
