package lanpeers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/mdns"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// The network tests run Discovery instances in helper processes (this
// test binary again, started with `ip netns exec`) inside two network
// namespaces joined by a veth pair, so no packet leaves them.

const helperEnv = "WGPUNCH_LANPEERS_HELPER"

type helperInstance struct {
	Host    string
	Tunnels []LocalTunnel
}

type helperConfig struct {
	Hold5353  bool // start another mDNS responder (hashicorp/mdns) on 5353 first
	Instances []helperInstance
	Interval  time.Duration
	// NoPoll turns off the periodic check of Ports: only Refresh (and
	// the Interval schedule) announce a change.
	NoPoll bool
}

type helperResult struct {
	Held  bool                      // the other responder really held 5353
	Peers map[string][]Announcement // by instance host
	Error string
	Took  time.Duration // "see": how long until the port was seen
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(helperEnv); cfg != "" {
		os.Exit(runHelper(cfg))
	}
	os.Exit(m.Run())
}

// runHelper starts the instances, then obeys stdin: "wait N" waits (up
// to 10 s) until every instance sees N peers and prints a helperResult;
// "set I PORT" moves instance I's first tunnel to PORT, calls Refresh and
// prints an empty result; "see PORT" waits (up to 10 s) until an instance
// sees a peer on PORT and prints the result with Took; EOF closes
// everything (sending goodbyes).
func runHelper(cfgJSON string) int {
	var cfg helperConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bad helper config:", err)
		return 2
	}
	out := json.NewEncoder(os.Stdout)
	res := helperResult{Peers: map[string][]Announcement{}}
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+f+"\n", a...) }
	if cfg.Hold5353 {
		svc, err := mdns.NewMDNSService("holder", "_other._tcp", "", "holder.local.", 80, []net.IP{net.IPv4(10, 0, 0, 1)}, nil)
		if err == nil {
			var srv *mdns.Server
			srv, err = mdns.NewServer(&mdns.Config{Zone: svc})
			if err == nil {
				defer srv.Shutdown()
			}
		}
		if err != nil {
			res.Error = "start other mDNS responder: " + err.Error()
			out.Encode(res)
			return 1
		}
		// Binding 5353 without sharing must fail now.
		c, err := net.ListenPacket("udp4", "0.0.0.0:5353")
		if err == nil {
			c.Close()
		}
		res.Held = err != nil && strings.Contains(err.Error(), syscall.EADDRINUSE.Error())
	}
	if cfg.NoPoll {
		checkEvery = time.Hour
	}
	var tunnelsMu sync.Mutex
	var ds []*Discovery
	for _, in := range cfg.Instances {
		tunnels := in.Tunnels
		d, err := Start(context.Background(), Options{
			Host: in.Host,
			Ports: func() []LocalTunnel {
				tunnelsMu.Lock()
				defer tunnelsMu.Unlock()
				return slices.Clone(tunnels)
			},
			Interval: cfg.Interval,
			Logf:     func(f string, a ...any) { logf(in.Host+": "+f, a...) },
		})
		if err != nil {
			res.Error = err.Error()
			out.Encode(res)
			return 1
		}
		ds = append(ds, d)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var i, port int
		if _, err := fmt.Sscanf(sc.Text(), "set %d %d", &i, &port); err == nil {
			tunnelsMu.Lock()
			cfg.Instances[i].Tunnels[0].Port = uint16(port)
			tunnelsMu.Unlock()
			ds[i].Refresh()
			out.Encode(helperResult{})
			continue
		}
		if _, err := fmt.Sscanf(sc.Text(), "see %d", &port); err == nil {
			start := time.Now()
			r := helperResult{Peers: map[string][]Announcement{}}
		see:
			for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				for i, d := range ds {
					for _, a := range d.Peers() {
						if a.Port == uint16(port) {
							r.Peers[cfg.Instances[i].Host] = d.Peers()
							r.Took = time.Since(start)
							break see
						}
					}
				}
			}
			out.Encode(r)
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "wait "))
		if err != nil {
			continue
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			all := true
			for i, d := range ds {
				res.Peers[cfg.Instances[i].Host] = d.Peers()
				all = all && len(res.Peers[cfg.Instances[i].Host]) == n
			}
			if all || time.Now().After(deadline) {
				break
			}
		}
		out.Encode(res)
	}
	for _, d := range ds {
		d.Close()
	}
	return 0
}

// helper is a running helper process.
type helper struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *json.Decoder
}

func startHelper(t *testing.T, ns string, cfg helperConfig) *helper {
	t.Helper()
	cfgJSON, _ := json.Marshal(cfg)
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(cfgJSON))
	cmd.Stderr = &testWriter{t: t, prefix: ns + ": "}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper in %s: %v", ns, err)
	}
	h := &helper{t: t, cmd: cmd, stdin: stdin, out: json.NewDecoder(stdout)}
	t.Cleanup(func() { h.stop() })
	return h
}

// wait asks the helper to wait for n peers per instance and returns what it saw.
func (h *helper) wait(n int) helperResult {
	h.t.Helper()
	return h.do(fmt.Sprintf("wait %d", n))
}

// do sends one command and returns the helper's answer.
func (h *helper) do(command string) helperResult {
	h.t.Helper()
	fmt.Fprintln(h.stdin, command)
	ch := make(chan helperResult, 1)
	errc := make(chan error, 1)
	go func() {
		var r helperResult
		if err := h.out.Decode(&r); err != nil {
			errc <- err
			return
		}
		ch <- r
	}()
	select {
	case r := <-ch:
		if r.Error != "" {
			h.t.Fatalf("helper: %s", r.Error)
		}
		return r
	case err := <-errc:
		h.t.Fatalf("helper output: %v", err)
	case <-time.After(20 * time.Second):
		h.t.Fatal("helper did not answer within 20 s")
	}
	return helperResult{}
}

// stop closes stdin (the helper closes its instances) and waits.
func (h *helper) stop() {
	if h.stdin == nil {
		return
	}
	h.stdin.Close()
	h.stdin = nil
	done := make(chan struct{})
	go func() { h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.cmd.Process.Kill()
		<-done
	}
}

type testWriter struct {
	t      *testing.T
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + l)
	}
	return len(p), nil
}

// netnsPair makes namespaces h3-lp<id>a and h3-lp<id>b joined by a veth
// pair (10.213.0.1/24 and 10.213.0.2/24) with a multicast route, and
// deletes them when the test ends.
func netnsPair(t *testing.T, id string) (string, string) {
	t.Helper()
	testutil.RequireNetNS(t)
	suffix := id + strconv.Itoa(os.Getpid()%10000)
	nsA, nsB := "h3-lp"+suffix+"a", "h3-lp"+suffix+"b"
	testutil.NetNS(t, nsA)
	testutil.NetNS(t, nsB)
	testutil.Veth(t, testutil.VethEnd{NS: nsA, Dev: "h3v" + suffix + "a", Addrs: []string{"10.213.0.1/24"}},
		testutil.VethEnd{NS: nsB, Dev: "h3v" + suffix + "b", Addrs: []string{"10.213.0.2/24"}})
	testutil.IP(t, "-n", nsA, "route", "add", "224.0.0.0/4", "dev", "h3v"+suffix+"a")
	testutil.IP(t, "-n", nsB, "route", "add", "224.0.0.0/4", "dev", "h3v"+suffix+"b")
	return nsA, nsB
}

// summary drops the Seen times for comparison.
func summary(as []Announcement) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s@%s %s:%d", a.Host, a.Addr, a.Tunnel, a.Port))
	}
	return out
}

func TestDiscoveryAcrossNamespaces(t *testing.T) {
	nsA, nsB := netnsPair(t, "x")
	// A long interval: what is seen comes from the start-up announcements
	// and answers to queries, and removal can only come from goodbyes.
	interval := 20 * time.Second
	a := startHelper(t, nsA, helperConfig{Interval: interval, Instances: []helperInstance{
		{Host: "alpha", Tunnels: []LocalTunnel{{Name: "home", Port: 51820}, {Name: "work", Port: 51821}}}}})
	// beta starts after alpha's start-up announcements: it can only learn
	// about alpha by asking (alpha answers queries).
	a.wait(0)
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	b := startHelper(t, nsB, helperConfig{Interval: interval, Instances: []helperInstance{
		{Host: "beta", Tunnels: []LocalTunnel{{Name: "office", Port: 51820}, {Name: "off", Port: 0}}}}})
	ra, rb := a.wait(1), b.wait(2)
	t.Logf("both saw each other %v after beta started", time.Since(start).Round(time.Millisecond))
	if got, want := strings.Join(summary(ra.Peers["alpha"]), ", "), "beta@10.213.0.2 office:51820"; got != want {
		t.Errorf("alpha sees %q, want %q", got, want)
	}
	if got, want := strings.Join(summary(rb.Peers["beta"]), ", "), "alpha@10.213.0.1 home:51820, alpha@10.213.0.1 work:51821"; got != want {
		t.Errorf("beta sees %q, want %q", got, want)
	}
	// alpha leaves: its goodbye removes it from beta's list long before
	// its records (TTL 60 s) would expire.
	a.stop()
	if got := summary(b.wait(0).Peers["beta"]); len(got) != 0 {
		t.Errorf("beta still sees %q after alpha closed", got)
	}
}

func TestDiscoveryShares5353(t *testing.T) {
	nsA, nsB := netnsPair(t, "y")
	a := startHelper(t, nsA, helperConfig{Hold5353: true, Interval: time.Second, Instances: []helperInstance{
		{Host: "one", Tunnels: []LocalTunnel{{Name: "t1", Port: 51820}}},
		{Host: "two", Tunnels: []LocalTunnel{{Name: "t2", Port: 51830}}},
	}})
	b := startHelper(t, nsB, helperConfig{Interval: time.Second, Instances: []helperInstance{
		{Host: "three", Tunnels: []LocalTunnel{{Name: "t3", Port: 51840}}}}})
	ra, rb := a.wait(2), b.wait(2)
	if !ra.Held {
		t.Fatal("the other mDNS responder did not hold UDP 5353; the test proves nothing")
	}
	want := map[string]string{
		"one":   "three@10.213.0.2 t3:51840, two@10.213.0.1 t2:51830",
		"two":   "one@10.213.0.1 t1:51820, three@10.213.0.2 t3:51840",
		"three": "one@10.213.0.1 t1:51820, two@10.213.0.1 t2:51830",
	}
	got := map[string]string{}
	for h, p := range ra.Peers {
		got[h] = strings.Join(summary(p), ", ")
	}
	for h, p := range rb.Peers {
		got[h] = strings.Join(summary(p), ", ")
	}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("%s sees %q, want %q", h, got[h], w)
		}
	}
}

// TestRefreshAnnouncesAtOnce: with the periodic check of Ports turned off,
// a changed port reaches the other machine only through Refresh — and
// within well under the 2 s the check would take.
func TestRefreshAnnouncesAtOnce(t *testing.T) {
	nsA, nsB := netnsPair(t, "r")
	interval := time.Hour // no periodic announcement during the test
	a := startHelper(t, nsA, helperConfig{Interval: interval, NoPoll: true, Instances: []helperInstance{
		{Host: "alpha", Tunnels: []LocalTunnel{{Name: "home", Port: 51820}}}}})
	b := startHelper(t, nsB, helperConfig{Interval: interval, NoPoll: true, Instances: []helperInstance{
		{Host: "beta"}}})
	if got := summary(b.wait(1).Peers["beta"]); len(got) != 1 || got[0] != "alpha@10.213.0.1 home:51820" {
		t.Fatalf("beta sees %q, want alpha's home:51820", got)
	}
	// Past alpha's second start-up announcement (1 s after start), so only
	// Refresh can announce from here on.
	time.Sleep(1500 * time.Millisecond)
	a.do("set 0 51830")
	r := b.do("see 51830")
	if r.Took == 0 {
		t.Fatal("beta never saw alpha's new port 51830 after Refresh")
	}
	t.Logf("beta saw the new port %v after Refresh", r.Took.Round(time.Millisecond))
	if r.Took > time.Second {
		t.Errorf("beta saw the new port after %v, want well under the 2 s check interval", r.Took)
	}
	if got, want := strings.Join(summary(r.Peers["beta"]), ", "), "alpha@10.213.0.1 home:51830"; got != want {
		t.Errorf("beta sees %q, want %q (the old port withdrawn)", got, want)
	}
}
