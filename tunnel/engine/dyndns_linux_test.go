package engine

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// silenceEnv sets Options.ReresolveSilence in a child engine (runChild).
const silenceEnv = "WGPUNCH_TEST_ENGINE_RERESOLVE_SILENCE"

func TestIsHostname(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"peer.dyn.example", true},
		{"localhost", true},
		{"203.0.113.7", false},
		{"[2001:db8::1]", false},
		{"2001:db8::1", false},
		{"", false},
	} {
		ep := conf.Endpoint{Host: tc.host, Port: 51820}
		if tc.host == "" {
			ep = conf.Endpoint{}
		}
		if got := isHostname(ep); got != tc.want {
			t.Errorf("isHostname(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestNamePeersSkipsLiterals(t *testing.T) {
	k1, k2, k3 := mustKey(t), mustKey(t), mustKey(t)
	cfg := &conf.Config{Peers: []conf.Peer{
		{PublicKey: k1, Endpoint: conf.Endpoint{Host: "a.example", Port: 1}},
		{PublicKey: k2, Endpoint: conf.Endpoint{Host: "198.51.100.1", Port: 2}},
		{PublicKey: k3},
	}}
	ap := netip.MustParseAddrPort("192.0.2.1:1")
	got := namePeers(cfg, map[wgtypes.Key]netip.AddrPort{k1: ap, k2: netip.MustParseAddrPort("198.51.100.1:2")}, time.Unix(0, 0))
	if len(got) != 1 || got[k1] == nil || got[k1].resolved != ap {
		t.Errorf("namePeers = %v, want only the hostname peer resolved to %s", got, ap)
	}
	if got := namePeers(&conf.Config{Peers: cfg.Peers[1:]}, nil, time.Now()); got != nil {
		t.Errorf("namePeers without hostnames = %v, want nil (no watcher)", got)
	}
}

func TestObserve(t *testing.T) {
	tune := tuning(Options{})
	t0 := time.Unix(1_000_000, 0)
	type step struct {
		at        time.Duration // since t0
		handshake time.Duration // since t0; -1: never
		rx        uint64
		lookup    bool
		stale     bool
	}
	for _, tc := range []struct {
		name      string
		keepalive uint16
		steps     []step
	}{
		{"healthy peer with keepalive", 5, []step{
			{10 * time.Second, 1 * time.Second, 100, false, false},
			{20 * time.Second, 1 * time.Second, 200, false, false},
			{130 * time.Second, 125 * time.Second, 900, false, false},
		}},
		{"never handshaked", 5, []step{
			{10 * time.Second, -1, 0, true, true},
		}},
		{"handshake older than 135 s", 0, []step{
			{138 * time.Second, 4 * time.Second, 100, false, false},
			{150 * time.Second, 4 * time.Second, 100, true, true},
		}},
		{"silent with keepalive on", 5, []step{
			{10 * time.Second, 1 * time.Second, 100, false, false},
			{20 * time.Second, 1 * time.Second, 100, false, false},
			{30 * time.Second, 1 * time.Second, 100, true, false},
			{40 * time.Second, 1 * time.Second, 132, false, false}, // a keepalive came
		}},
		{"silence alone means nothing with keepalive off", 0, []step{
			{10 * time.Second, 1 * time.Second, 100, false, false},
			{100 * time.Second, 1 * time.Second, 100, false, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &dnsPeer{peer: conf.Peer{PersistentKeepalive: tc.keepalive}, rxAt: t0}
			for i, s := range tc.steps {
				ps := peerSample{rx: s.rx}
				if s.handshake >= 0 {
					ps.handshake = t0.Add(s.handshake)
				}
				lookup, stale := d.observe(t0.Add(s.at), ps, &tune)
				if lookup != s.lookup || stale != s.stale {
					t.Errorf("step %d at %s: lookup %v stale %v, want %v %v", i, s.at, lookup, stale, s.lookup, s.stale)
				}
			}
		})
	}
}

func TestMoveTo(t *testing.T) {
	a := netip.MustParseAddrPort("203.0.113.1:51820")
	b := netip.MustParseAddrPort("203.0.113.2:51820")
	roamed := netip.MustParseAddrPort("203.0.113.1:40000")
	for _, tc := range []struct {
		name                    string
		resolved, current, last netip.AddrPort
		stale, want             bool
	}{
		{"unchanged", a, a, a, true, false},
		{"name moved, peer silent", b, a, a, false, true},
		{"name moved, handshake stale", b, a, a, true, true},
		{"peer roamed, name unchanged, silent", a, roamed, a, false, false},
		{"peer roamed, handshake stale", a, roamed, a, true, true},
		{"device already at the new address", b, b, a, false, false},
	} {
		if got := moveTo(tc.resolved, tc.current, tc.last, tc.stale); got != tc.want {
			t.Errorf("%s: moveTo = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseSamples(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	priv := mustKey(t)
	dump := fmt.Sprintf("private_key=%s\nlisten_port=51820\npublic_key=%s\npreshared_key=%s\nprotocol_version=1\nendpoint=203.0.113.9:51820\nlast_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\ntx_bytes=10\nrx_bytes=1234\npersistent_keepalive_interval=5\nallowed_ip=10.0.0.2/32\npublic_key=%s\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\nrx_bytes=0\nerrno=0\n",
		hex.EncodeToString(priv[:]), hex.EncodeToString(k1[:]), strings.Repeat("0", 64), hex.EncodeToString(k2[:]))
	got, err := parseSamples(dump)
	if err != nil {
		t.Fatal(err)
	}
	want := map[wgtypes.Key]peerSample{
		k1: {endpoint: netip.MustParseAddrPort("203.0.113.9:51820"), handshake: time.Unix(1700000000, 5), rx: 1234, keepalive: 5},
		k2: {},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(peerSample{}), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("parseSamples (-want +got):\n%s", diff)
	}
	if _, err := parseSamples("public_key=zz\n"); err == nil || strings.Contains(err.Error(), "zz") {
		t.Errorf("bad key: err %v, want an error that does not echo the dump", err)
	}
}

func mustKey(t *testing.T) wgtypes.Key {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEndpointMoves: a peer known by a host name moves to another address
// and its name follows (dynamic DNS). The peer has keepalive off, so it
// never sends on its own and wireguard-go's roaming cannot find it: only
// re-resolving the name does.
func TestEndpointMoves(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h10-ma", "h10-mb", "10.99.31")
	hosts := nsEtc(t, "h10-ma", "10.99.31.2 moving.test\n")
	a := newSide(t, "h10-ma", "h10ma0", 52101, "10.99.231.1/24", "10.99.31.1")
	b := newSide(t, "h10-mb", "h10mb0", 52102, "10.99.231.2/24", "10.99.31.2")
	cb, ans := startChild(t, b.ns, b.config(a, 0))
	mustUp(t, cb, ans, b.ifname)

	b.underlay = "moving.test"
	cfg := a.config(b, 5)
	ca, ans := startChild(t, a.ns, cfg, retryEnv+"=200ms", silenceEnv+"=1s")
	mustUp(t, ca, ans, a.ifname)
	handshakeWithin(t, a.ifname, 5*time.Second)
	first := peerOf(t, a.ifname)
	if ep := first.Endpoint; ep == nil || ep.String() != "10.99.31.2:52102" {
		t.Fatalf("moving.test resolved to %v, want 10.99.31.2:52102", ep)
	}

	// b is silent (keepalive off) for longer than the silence bound: the
	// name is looked up again, but it has not changed, so nothing moves.
	// A fixed window on purpose: the assertion is that nothing happens, and
	// an unchanged lookup leaves no trace to wait for.
	time.Sleep(2 * time.Second)
	if ep := peerOf(t, a.ifname).Endpoint; ep == nil || ep.String() != "10.99.31.2:52102" {
		t.Errorf("endpoint changed to %v although the name did not", ep)
	}
	if strings.Contains(ca.stderr.String(), "now resolves to") {
		t.Errorf("endpoint moved although the name did not change:\n%s", ca.stderr)
	}

	// b gets a new address and its name follows. (os.WriteFile truncates
	// in place: the bind mount in a's namespace follows the inode.)
	run(t, "ip", "-n", b.ns, "addr", "del", "10.99.31.2/24", "dev", "veth0")
	run(t, "ip", "-n", b.ns, "addr", "add", "10.99.31.3/24", "dev", "veth0")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n10.99.31.3 moving.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	moved := time.Now()
	// Go's resolver re-reads /etc/hosts at most every 5 s.
	const bound = 12 * time.Second
	if _, err := testutil.WaitFor(bound, 50*time.Millisecond, func() (bool, string) {
		p := peerOf(t, a.ifname)
		return p.LastHandshakeTime.After(first.LastHandshakeTime) && p.Endpoint != nil && p.Endpoint.String() == "10.99.31.3:52102",
			fmt.Sprintf("endpoint %v", p.Endpoint)
	}); err != nil {
		t.Fatalf("no handshake with the moved peer: %v\n%s", err, ca.stderr)
	}
	t.Logf("re-handshake %s after the peer moved", time.Since(moved).Round(time.Millisecond))
	if !strings.Contains(ca.stderr.String(), "endpoint moving.test now resolves to 10.99.31.3:52102") {
		t.Errorf("the move is not logged:\n%s", ca.stderr)
	}
	out := run(t, "ip", "netns", "exec", a.ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", b.addr.Addr().String())
	if !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping through the tunnel after the move lost packets:\n%s", out)
	}
	// b's endpoint is an IP literal: its engine never re-resolves it.
	if strings.Contains(cb.stderr.String(), "resolves to") {
		t.Errorf("engine with an IP-literal endpoint re-resolved it:\n%s", cb.stderr)
	}

	// Down stops the watcher: a down with it running leaves as many
	// goroutines as the first down.
	if ans := ca.send("down " + a.ifname); ans != "down ok" {
		t.Fatalf("down: %s", ans)
	}
	base := ca.send("goroutines")
	if ans := ca.send("apply " + writeConfig(t, cfg)); ans != "up "+a.ifname {
		t.Fatalf("up again: %s\n%s", ans, ca.stderr)
	}
	// Pacing, not synchronisation: let the watcher (200 ms retry here)
	// run a few rounds so Down stops it mid-loop; its rounds leave no trace.
	time.Sleep(500 * time.Millisecond)
	if ans := ca.send("down " + a.ifname); ans != "down ok" {
		t.Fatalf("down: %s", ans)
	}
	if g := ca.send("goroutines"); g != base {
		t.Errorf("after the second down %s, after the first %s: the name watcher outlived its tunnel", g, base)
	}
	// A clean exit (with -race: no race reported in the engine).
	for _, c := range []*child{ca, cb} {
		if err := c.stop(); err != nil {
			t.Errorf("engine child: %v\n%s", err, c.stderr)
		}
	}
}
