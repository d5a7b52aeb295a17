package engine

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// The handshake must start when the tunnel comes up, not at the first
// keepalive or retry (RekeyTimeout, 5 s). Anything under this bound proves
// the initiation went out at once.
const promptHandshake = device.RekeyTimeout - 1500*time.Millisecond

// TestPair brings up two engines in two namespaces pointing at each other,
// and checks handshake, ping, `wg show`, routes, re-apply and down.
func TestPair(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-pa", "h4-pb", "10.99.1")
	a := newSide(t, "h4-pa", "h4pa0", 51901, "10.99.200.1/24", "10.99.1.1")
	b := newSide(t, "h4-pb", "h4pb0", 51902, "10.99.200.2/24", "10.99.1.2")
	a.addr6 = netip.MustParsePrefix("fd99:200::1/64")
	b.addr6 = netip.MustParsePrefix("fd99:200::2/64")

	cfgA := a.config(b, 5, "10.99.50.0/24")
	ca, ans := startChild(t, a.ns, cfgA)
	mustUp(t, ca, ans, a.ifname)

	// The monitor reads the engine's device through wgctrl like `wg` does.
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	mon := monitor.New(monitor.Options{Reader: wc})
	upA := map[string]string{a.ifname: a.ifname}
	if p := mon.Snapshot([]*conf.Config{cfgA}, upA).Tunnels[0].Peers[0]; p.State != monitor.StateConnecting {
		t.Errorf("monitor with the peer not up yet: %s, want connecting", p.State)
	}

	cb, ans := startChild(t, b.ns, b.config(a, 5))
	mustUp(t, cb, ans, b.ifname)

	took := handshakeWithin(t, a.ifname, 10*time.Second)
	t.Logf("handshake %s after the second side came up", took)
	if took > promptHandshake {
		t.Errorf("handshake took %s: the initiation did not go out when the tunnel came up", took)
	}

	out := run(t, "ip", "netns", "exec", a.ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", b.addr.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping through the tunnel lost packets:\n%s", out)
	}
	out = run(t, "ip", "netns", "exec", a.ns, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", b.addr6.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("IPv6 ping through the tunnel lost packets:\n%s", out)
	}
	ts := mon.Snapshot([]*conf.Config{cfgA}, upA).Tunnels[0]
	if p := ts.Peers[0]; !ts.Up || p.State != monitor.StateConnected || p.Endpoint != "10.99.1.2:51902" || p.LastReceive == nil || p.RxBytes == 0 {
		t.Errorf("monitor after ping: up=%v %+v; want connected via 10.99.1.2:51902 with bytes received", ts.Up, p)
	}

	if _, err := exec.LookPath("wg"); err == nil {
		out = run(t, "ip", "netns", "exec", a.ns, "wg", "show", a.ifname)
		for _, want := range []string{"peer: " + b.key.PublicKey().String(), "endpoint: 10.99.1.2:51902", "latest handshake", "listening port: 51901", "10.99.50.0/24"} {
			if !strings.Contains(out, want) {
				t.Errorf("wg show %s lacks %q:\n%s", a.ifname, want, out)
			}
		}
	} else {
		t.Log("wg not installed; skipping the wg show check")
	}

	routes := run(t, "ip", "-n", a.ns, "route", "show", "dev", a.ifname)
	if !strings.Contains(routes, "10.99.50.0/24") {
		t.Errorf("no route for AllowedIP 10.99.50.0/24 on %s:\n%s", a.ifname, routes)
	}
	if strings.Contains(routes, "10.99.200.2 ") {
		t.Errorf("host route for 10.99.200.2 added although 10.99.200.0/24 covers it:\n%s", routes)
	}
	if out := run(t, "ip", "-n", a.ns, "link", "show", a.ifname); !strings.Contains(out, "mtu 1420") {
		t.Errorf("interface MTU is not the default 1420:\n%s", out)
	}

	// Re-apply with a changed LAN and MTU: routes follow, the session stays.
	before := peerOf(t, a.ifname)
	cfg := a.config(b, 5, "10.99.60.0/24")
	cfg.Interface.MTU = 1380
	if ans := ca.send("apply " + writeConfig(t, cfg)); ans != "up "+a.ifname {
		t.Fatalf("re-apply: %s\n%s", ans, ca.stderr)
	}
	routes = run(t, "ip", "-n", a.ns, "route", "show", "dev", a.ifname)
	if !strings.Contains(routes, "10.99.60.0/24") || strings.Contains(routes, "10.99.50.0/24") {
		t.Errorf("routes after re-apply, want 10.99.60.0/24 and not 10.99.50.0/24:\n%s", routes)
	}
	if out := run(t, "ip", "-n", a.ns, "link", "show", a.ifname); !strings.Contains(out, "mtu 1380") {
		t.Errorf("MTU not re-applied:\n%s", out)
	}
	out = run(t, "ip", "netns", "exec", a.ns, "ping", "-c", "1", "-W", "2", b.addr.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping after re-apply failed:\n%s", out)
	}
	after := peerOf(t, a.ifname)
	if !after.LastHandshakeTime.Equal(before.LastHandshakeTime) || after.ReceiveBytes < before.ReceiveBytes {
		t.Errorf("re-apply restarted the peer: handshake %v -> %v, rx %d -> %d",
			before.LastHandshakeTime, after.LastHandshakeTime, before.ReceiveBytes, after.ReceiveBytes)
	}

	if ans := ca.send("down " + a.ifname); ans != "down ok" {
		t.Fatalf("down: %s", ans)
	}
	linkGone(t, a.ns, a.ifname)
	socketGone(t, a.ifname)
	ts = mon.Snapshot([]*conf.Config{cfgA}, upA).Tunnels[0]
	if ts.Up || !strings.Contains(ts.Error, "has disappeared") || ts.Peers[0].State != monitor.StateDown {
		t.Errorf("monitor of a vanished device: up=%v error=%q state=%s; want down with an error", ts.Up, ts.Error, ts.Peers[0].State)
	}
	if ans := ca.send("running"); ans != "running " {
		t.Errorf("after down: %q, want no tunnels", ans)
	}

	if err := cb.stop(); err != nil {
		t.Errorf("child b: %v\n%s", err, cb.stderr)
	}
	linkGone(t, b.ns, b.ifname)
	socketGone(t, b.ifname)

	// Private keys never reach the log.
	for _, c := range []*child{ca, cb} {
		log := c.stderr.String()
		for _, s := range []side{a, b} {
			if strings.Contains(log, s.key.String()) || strings.Contains(log, hex.EncodeToString(s.key[:])) {
				t.Errorf("a private key appears in the engine log:\n%s", log)
			}
		}
	}
}

// TestHandshakeWithoutKeepalive proves the engine itself starts the
// handshake: with PersistentKeepalive off wireguard-go would otherwise wait
// for traffic.
func TestHandshakeWithoutKeepalive(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-ka", "h4-kb", "10.99.2")
	a := newSide(t, "h4-ka", "h4ka0", 51911, "10.99.201.1/24", "10.99.2.1")
	b := newSide(t, "h4-kb", "h4kb0", 51912, "10.99.201.2/24", "10.99.2.2")
	ca, ans := startChild(t, a.ns, a.config(b, 0))
	mustUp(t, ca, ans, a.ifname)
	cb, ans := startChild(t, b.ns, b.config(a, 0))
	mustUp(t, cb, ans, b.ifname)
	took := handshakeWithin(t, b.ifname, 10*time.Second)
	t.Logf("handshake %s after up with keepalive off", took)
	if took > promptHandshake {
		t.Errorf("handshake took %s: no initiation at up", took)
	}
}

// TestPortInUse checks that a second tunnel on a taken port fails with a
// useful error and leaves nothing behind.
func TestPortInUse(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-ua", "h4-ub", "10.99.3")
	a := newSide(t, "h4-ua", "h4ua0", 51921, "10.99.202.1/24", "10.99.3.1")
	b := newSide(t, "h4-ub", "h4ub0", 51922, "10.99.202.2/24", "10.99.3.2")
	ca, ans := startChild(t, a.ns, a.config(b, 5))
	mustUp(t, ca, ans, a.ifname)

	c := newSide(t, "h4-ua", "h4ua1", 51921, "10.99.203.1/24", "10.99.3.1")
	_, ans = startChild(t, a.ns, c.config(b, 5))
	if !strings.HasPrefix(ans, "err ") || !strings.Contains(ans, "UDP port 51921 is already in use") {
		t.Errorf("second tunnel on port 51921: %q, want an error naming the port", ans)
	}
	linkGone(t, a.ns, c.ifname)
	socketGone(t, c.ifname)
	// The first tunnel is untouched.
	if got := listenPortOf(t, a.ifname); got != 51921 {
		t.Errorf("first tunnel now listens on %d, want 51921", got)
	}

	// Moving a running tunnel onto the taken port fails and keeps its port.
	c.port = 51923
	cc, ans := startChild(t, a.ns, c.config(b, 5))
	mustUp(t, cc, ans, c.ifname)
	c.port = 51921
	if ans := cc.send("apply " + writeConfig(t, c.config(b, 5))); !strings.Contains(ans, "UDP port 51921 is already in use") {
		t.Errorf("re-apply onto a taken port: %q, want an error naming the port", ans)
	}
	if got := listenPortOf(t, c.ifname); got != 51923 {
		t.Errorf("after the failed port change the tunnel listens on %d, want 51923", got)
	}
}

// TestInteropStockWireguardGo links the engine with Debian's wireguard-go
// binary configured by `wg setconf`.
func TestInteropStockWireguardGo(t *testing.T) {
	needNetAdmin(t)
	for _, bin := range []string{"wireguard-go", "wg"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt-get install wireguard-go wireguard-tools)", bin)
		}
	}
	nsPair(t, "h4-ia", "h4-ib", "10.99.4")
	a := newSide(t, "h4-ia", "h4ia0", 51931, "10.99.204.1/24", "10.99.4.1")
	b := newSide(t, "h4-ib", "h4ib0", 51932, "10.99.204.2/24", "10.99.4.2")

	wgo := exec.Command("ip", "netns", "exec", b.ns, "wireguard-go", "-f", b.ifname)
	var wgoLog lockedBuffer
	wgo.Stdout, wgo.Stderr = &wgoLog, &wgoLog
	if err := wgo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		wgo.Process.Kill()
		wgo.Wait()
		os.Remove(socketDir + "/" + b.ifname + ".sock")
	})
	if _, err := testutil.WaitFor(10*time.Second, 0, func() (bool, string) {
		_, err := os.Stat(socketDir + "/" + b.ifname + ".sock")
		return err == nil, fmt.Sprint(err)
	}); err != nil {
		t.Fatalf("wireguard-go did not create its socket: %v\n%s", err, wgoLog.String())
	}
	setconf := fmt.Sprintf("[Interface]\nPrivateKey = %s\nListenPort = %d\n\n[Peer]\nPublicKey = %s\nEndpoint = %s:%d\nAllowedIPs = %s/32\nPersistentKeepalive = 5\n",
		b.key, b.port, a.key.PublicKey(), a.underlay, a.port, a.addr.Addr())
	f, err := os.CreateTemp(t.TempDir(), "wg*.conf")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(setconf)
	f.Close()
	run(t, "ip", "netns", "exec", b.ns, "wg", "setconf", b.ifname, f.Name())
	run(t, "ip", "-n", b.ns, "addr", "add", b.addr.String(), "dev", b.ifname)
	run(t, "ip", "-n", b.ns, "link", "set", b.ifname, "up")

	ca, ans := startChild(t, a.ns, a.config(b, 5))
	mustUp(t, ca, ans, a.ifname)
	took := handshakeWithin(t, a.ifname, 10*time.Second)
	t.Logf("handshake with stock wireguard-go after %s", took)
	out := run(t, "ip", "netns", "exec", a.ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", b.addr.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping to the stock wireguard-go side lost packets:\n%s", out)
	}
	out = run(t, "ip", "netns", "exec", b.ns, "wg", "show", b.ifname, "latest-handshakes")
	if !strings.Contains(out, a.key.PublicKey().String()) || strings.HasSuffix(strings.TrimSpace(out), "\t0") {
		t.Errorf("stock side reports no handshake with the engine:\n%s", out)
	}
}

// TestInterfaceDeleted: when someone deletes the interface under the
// engine, the tunnel leaves Running and its socket goes.
func TestInterfaceDeleted(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-da", "h4-db", "10.99.5")
	a := newSide(t, "h4-da", "h4da0", 51941, "10.99.205.1/24", "10.99.5.1")
	b := newSide(t, "h4-db", "h4db0", 51942, "10.99.205.2/24", "10.99.5.2")
	ca, ans := startChild(t, a.ns, a.config(b, 5))
	mustUp(t, ca, ans, a.ifname)
	run(t, "ip", "-n", a.ns, "link", "del", a.ifname)
	if _, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
		ans := ca.send("running")
		return ans == "running ", fmt.Sprintf("child answers %q", ans)
	}); err != nil {
		t.Fatalf("tunnel still listed after its interface was deleted: %v", err)
	}
	socketGone(t, a.ifname)
	// It can come up again.
	if ans := ca.send("apply " + writeConfig(t, a.config(b, 5))); ans != "up "+a.ifname {
		t.Fatalf("up after deletion: %s\n%s", ans, ca.stderr)
	}
}

// TestExistingInterface: a name taken by another interface is refused
// with advice, and the other interface is left alone.
func TestExistingInterface(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-ea", "h4-eb", "10.99.6")
	run(t, "ip", "-n", "h4-ea", "link", "add", "h4ea0", "type", "veth", "peer", "name", "h4ea1")
	a := newSide(t, "h4-ea", "h4ea0", 51951, "10.99.206.1/24", "10.99.6.1")
	b := newSide(t, "h4-eb", "h4eb0", 51952, "10.99.206.2/24", "10.99.6.2")
	_, ans := startChild(t, a.ns, a.config(b, 5))
	if !strings.Contains(ans, `an interface named "h4ea0" already exists`) || !strings.Contains(ans, "take it down first") {
		t.Errorf("up over an existing interface: %q", ans)
	}
	if out := run(t, "ip", "-n", a.ns, "-d", "link", "show", "h4ea0"); !strings.Contains(out, "veth") {
		t.Errorf("the existing interface was changed:\n%s", out)
	}
}

// TestEndpointHostname: endpoint hostnames resolve at up time, and one that
// does not resolve yet is retried until it does.
func TestEndpointHostname(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-ra", "h4-rb", "10.99.9")
	hosts := nsEtc(t, "h4-ra", "10.99.9.2 peer-b.test\n")
	a := newSide(t, "h4-ra", "h4ra0", 51981, "10.99.209.1/24", "10.99.9.1")
	b := newSide(t, "h4-rb", "h4rb0", 51982, "10.99.209.2/24", "10.99.9.2")
	cb, ans := startChild(t, b.ns, b.config(a, 0)) // b waits: keepalive off
	mustUp(t, cb, ans, b.ifname)

	b.underlay = "peer-b.test"
	ca, ans := startChild(t, a.ns, a.config(b, 5), retryEnv+"=200ms")
	mustUp(t, ca, ans, a.ifname)
	handshakeWithin(t, a.ifname, 5*time.Second)
	if ep := peerOf(t, a.ifname).Endpoint; ep == nil || ep.String() != "10.99.9.2:51982" {
		t.Errorf("endpoint peer-b.test resolved to %v, want 10.99.9.2:51982", ep)
	}
	ca.stop()

	// A name unknown at up time: the tunnel still comes up, and the
	// endpoint is set once the name resolves.
	b.underlay = "late.test"
	ca, ans = startChild(t, a.ns, a.config(b, 5), retryEnv+"=200ms")
	mustUp(t, ca, ans, a.ifname)
	if ep := peerOf(t, a.ifname).Endpoint; ep != nil {
		t.Fatalf("unresolvable endpoint set to %v", ep)
	}
	if !ca.logged(`resolve endpoint host "late.test"`) {
		t.Errorf("resolution failure not logged:\n%s", ca.stderr)
	}
	// Rewrite in place: the bind mount in the child's namespace follows
	// the inode.
	f, err := os.OpenFile(hosts, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("10.99.9.2 late.test\n")
	f.Close()
	if _, err := testutil.WaitFor(15*time.Second, 0, func() (bool, string) {
		return strings.Contains(ca.stderr.String(), "endpoint late.test resolved to 10.99.9.2:51982"), "no resolution logged"
	}); err != nil {
		t.Fatalf("late.test never resolved: %v\n%s", err, ca.stderr)
	}
	// The handshake follows the resolution at once, not at the next
	// 5 s retry.
	took := handshakeWithin(t, a.ifname, promptHandshake)
	t.Logf("handshake %s after late.test resolved", took)
	if ep := peerOf(t, a.ifname).Endpoint; ep == nil || ep.String() != "10.99.9.2:51982" {
		t.Errorf("late.test resolved to %v, want 10.99.9.2:51982", ep)
	}
}

// TestUpDownCycles: repeated up/down leaves no interface, socket or
// goroutine behind.
func TestUpDownCycles(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h4-ca", "h4-cb", "10.99.10")
	a := newSide(t, "h4-ca", "h4ca0", 51991, "10.99.210.1/24", "10.99.10.1")
	b := newSide(t, "h4-cb", "h4cb0", 51992, "10.99.210.2/24", "10.99.10.2")
	cb, ans := startChild(t, b.ns, b.config(a, 5))
	mustUp(t, cb, ans, b.ifname)
	ca, ans := startChild(t, a.ns, a.config(b, 5, "10.99.70.0/24"))
	mustUp(t, ca, ans, a.ifname)
	cfg := writeConfig(t, a.config(b, 5, "10.99.70.0/24"))
	var base string
	for i := range 5 {
		handshakeWithin(t, a.ifname, 10*time.Second)
		if ans := ca.send("down " + a.ifname); ans != "down ok" {
			t.Fatalf("cycle %d: down: %s", i, ans)
		}
		linkGone(t, a.ns, a.ifname)
		socketGone(t, a.ifname)
		g := ca.send("goroutines")
		t.Logf("cycle %d: %s", i, g)
		if i == 0 {
			base = g
		} else if g != base {
			t.Errorf("cycle %d: %s after down, %s after the first", i, g, base)
		}
		if ans := ca.send("apply " + cfg); ans != "up "+a.ifname {
			t.Fatalf("cycle %d: up: %s\n%s", i, ans, ca.stderr)
		}
	}
}
