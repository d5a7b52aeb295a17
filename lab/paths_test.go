package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Trying every candidate (issue 12, part 3): the daemon moves a peer's
// endpoint between its LAN, IPv6 and IPv4 addresses until a handshake
// completes, stays there, tries a better one now and then, and falls back
// when the one in use stops answering.

// labPathRetry is the path_retry_seconds both daemons get: the shortest
// allowed, so the return to IPv6 is seen within a minute or two.
const labPathRetry = 30

// setPathRetry writes path_retry_seconds into h's settings before its
// daemon starts (the daemon reads it once, at start).
func (h *Host) setPathRetry(secs int) {
	h.lab.t.Helper()
	b, _ := json.Marshal(map[string]any{"path_retry_seconds": secs})
	if err := os.MkdirAll(h.StateDir, 0o700); err != nil {
		h.lab.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.StateDir, "settings.json"), b, 0o600); err != nil {
		h.lab.t.Fatal(err)
	}
}

// peerPath is the first peer's path and endpoint in tunnel name's status.
func (h *Host) peerPath(name string) (path, endpoint string) {
	r, err := h.Status()
	if err != nil {
		return "error: " + err.Error(), ""
	}
	ts := r.Tunnel(name)
	if ts == nil || len(ts.Peers) == 0 {
		return "", ""
	}
	return ts.Peers[0].Path, ts.Peers[0].Endpoint
}

// waitPath waits until the first peer of tunnel name is reached over path.
func (h *Host) waitPath(name, path string, timeout time.Duration) (time.Duration, error) {
	return waitFor(timeout, 250*time.Millisecond, func() (bool, string) {
		got, ep := h.peerPath(name)
		return got == path, fmt.Sprintf("%s: tunnel %s path %q (endpoint %s), want %q", h.Name, name, got, ep, path)
	})
}

// block6 makes the office router drop (or stop dropping) all IPv6 UDP it
// forwards, both ways: IPv6 stops working for the tunnel mid-link.
func (o *Office) block6(block bool) {
	o.lab.t.Helper()
	op := "-I"
	if !block {
		op = "-D"
	}
	o.lab.MustNS(o.Router, "ip6tables", op, "FORWARD", "-p", "udp", "-j", "DROP")
}

// dualStack builds two offices whose IPv4 NATs can be punched and whose
// IPv6 sits behind stateful firewalls, links a1 and b1 with every
// candidate (no --endpoint), and returns them with the link's result.
func dualStack(t testing.TB, l *Lab) (oa, ob *Office, a1, b1 *Host, res *linkResult) {
	in := l.Internet()
	in.enableIPv6()
	oa = in.Office("a", 1, NATHome)
	ob = in.Office("b", 2, NATHome)
	oa.enableIPv6(in)
	ob.enableIPv6(in)
	a1, b1 = oa.Host("a1"), ob.Host("b1")
	oa.addIPv6(a1, 0)
	ob.addIPv6(b1, 0)
	l.waitIPv6(in.NS, oa.Router, ob.Router, a1.NS, b1.NS)
	a1.setPathRetry(labPathRetry)
	b1.setPathRetry(labPathRetry)
	a1.StartDaemon()
	b1.StartDaemon()
	servers := stunServers + "," + stun6Servers
	res = Link(t, a1, b1, "dual", linkOpts{Port: 51820, STUN: servers}, linkOpts{Port: 51821, STUN: servers})
	for _, h := range []*Host{a1, b1} {
		kinds := []string{}
		for _, c := range h.TunnelStatus("dual").Peers[0].Candidates {
			kinds = append(kinds, c.Kind)
		}
		if strings.Join(kinds, ",") != "ipv6,ipv4" {
			t.Fatalf("%s's candidates %v, want ipv6 then ipv4", h.Name, h.TunnelStatus("dual").Peers[0].Candidates)
		}
	}
	return oa, ob, a1, b1, res
}

// TestWGPunchDualStackFallback: both families work and the link comes up
// over IPv6. IPv6 is then dropped on one router mid-link: the ping keeps
// working after the link falls back to IPv4 by itself. IPv6 allowed again,
// the link returns to IPv6 within the retry interval.
func TestWGPunchDualStackFallback(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	oa, _, a1, b1, res := dualStack(t, l)
	a1.MustWGP("up", "dual")
	b1.MustWGP("up", "dual")
	if _, err := a1.WaitPing(res.BAddr, 30*time.Second); err != nil {
		t.Fatalf("no ping over the dual-stack link: %v", err)
	}
	for _, h := range []*Host{a1, b1} {
		if _, err := h.waitPath("dual", "ipv6", 10*time.Second); err != nil {
			t.Fatalf("the link did not come up over IPv6: %v", err)
		}
	}

	oa.block6(true)
	dropped := time.Now()
	if _, err := a1.WaitPing(res.BAddr, 90*time.Second); err != nil {
		t.Fatalf("ping did not come back after IPv6 was dropped: %v", err)
	}
	t.Logf("ping back %v after IPv6 was dropped", time.Since(dropped).Round(time.Second))
	for _, h := range []*Host{a1, b1} {
		if _, err := h.waitPath("dual", "ipv4", 30*time.Second); err != nil {
			t.Fatalf("no fallback to IPv4: %v", err)
		}
	}
	// It stays on IPv4 (the tries of IPv6 go back at once).
	if _, err := a1.WaitPing(res.BAddr, 15*time.Second); err != nil {
		t.Fatalf("no ping over IPv4 after the fallback: %v", err)
	}

	oa.block6(false)
	allowed := time.Now()
	bound := 2*labPathRetry*time.Second + 30*time.Second
	for _, h := range []*Host{a1, b1} {
		if _, err := h.waitPath("dual", "ipv6", bound); err != nil {
			t.Fatalf("not back on IPv6 within %v of allowing it: %v", bound, err)
		}
	}
	t.Logf("back on IPv6 %v after it was allowed again", time.Since(allowed).Round(time.Second))
	if _, err := a1.WaitPing(res.BAddr, 15*time.Second); err != nil {
		t.Fatalf("no ping over IPv6 after the return: %v", err)
	}
}

// TestWGPunchLANPath: two machines behind one NAT that does not hairpin
// link over their LAN addresses, and status says path "lan" on both.
func TestWGPunchLANPath(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	oa := in.Office("a", 1, NATHome)
	a1, a2 := oa.Host("a1"), oa.Host("a2")
	a1.StartDaemon()
	a2.StartDaemon()
	res := Link(t, a1, a2, "lan", linkOpts{Port: 51820}, linkOpts{Port: 51821})
	a1.MustWGP("up", "lan")
	a2.MustWGP("up", "lan")
	if _, err := a1.WaitPing(res.BAddr, connectBound); err != nil {
		t.Fatalf("a1 and a2 behind one NAT cannot link: %v", err)
	}
	for _, h := range []*Host{a1, a2} {
		if _, err := h.waitPath("lan", "lan", 10*time.Second); err != nil {
			t.Error(err)
		}
	}
	if c := a1.TunnelStatus("lan").Peers[0].Candidates; len(c) == 0 || c[0].Kind != "lan" || c[0].Endpoint != a2.Addr+":51821" {
		t.Errorf("a1's candidates %+v, want a2's LAN address %s:51821 first", c, a2.Addr)
	}
}

// TestWGPunchNoCommonPath: one side has only IPv6 internet (its router
// lets no IPv4 UDP out), the other only IPv4. There is no path; each
// side's diagnosis says so plainly, and what to do.
func TestWGPunchNoCommonPath(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	in.enableIPv6()
	oa := in.Office("a", 1, NATHome)
	ob := in.Office("b", 2, NATHome)
	oa.enableIPv6(in)
	a1, b1 := oa.Host("a1"), ob.Host("b1")
	a6 := oa.addIPv6(a1, 0)
	l.waitIPv6(in.NS, oa.Router, a1.NS)
	oa.BlockUDP(true) // no IPv4 UDP out of office a: IPv6 only
	a1.StartDaemon()
	b1.StartDaemon()
	servers := stunServers + "," + stun6Servers
	res := Link(t, a1, b1, "home", linkOpts{Port: 51820, STUN: servers}, linkOpts{Port: 51821, STUN: servers})
	c := b1.TunnelStatus("home").Peers[0].Candidates
	if len(c) != 1 || c[0].Kind != "ipv6" || c[0].Endpoint != fmt.Sprintf("[%s]:51820", a6) {
		t.Fatalf("b1's candidates %+v, want only a1's IPv6 address", c)
	}
	a1.MustWGP("up", "home")
	b1.MustWGP("up", "home")
	var last string
	_, err := waitFor(20*time.Second, 500*time.Millisecond, func() (bool, string) {
		p := b1.TunnelStatus("home").Peers[0]
		if p.Diagnosis == nil {
			return false, "no diagnosis; state " + p.State
		}
		last = p.Diagnosis.Message + " / " + p.Diagnosis.Action
		return p.Diagnosis.Code == "no-common-path", "diagnosis " + p.Diagnosis.Code + ": " + last
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("b1 says: %s", last)
	if !strings.Contains(last, "can only be reached over IPv6 and this computer has no IPv6 internet connection") || !strings.Contains(last, "hotspot") {
		t.Errorf("diagnosis %q does not say plainly why there is no path and what to do", last)
	}
	if a1.Ping(res.BAddr) {
		t.Errorf("a1 reached b1 with no common IP version")
	}
	// The IPv6-only side: its NAT check found no public IPv4 address.
	_, err = waitFor(20*time.Second, 500*time.Millisecond, func() (bool, string) {
		p := a1.TunnelStatus("home").Peers[0]
		if p.Diagnosis == nil {
			return false, "no diagnosis; state " + p.State
		}
		last = p.Diagnosis.Message + " / " + p.Diagnosis.Action
		return p.Diagnosis.Code == "no-common-path" && strings.Contains(last, "can only be reached over IPv4 and this computer has no IPv4 internet connection"), "a1's diagnosis " + p.Diagnosis.Code + ": " + last
	})
	if err != nil {
		t.Error(err)
	}
	t.Logf("a1 says: %s", last)
}

// BenchmarkPaths measures, on the dual-stack lab of
// TestWGPunchDualStackFallback: seconds from the second side's `up` to the
// first ping over IPv6, from IPv6 dropped on one router to the first ping
// over IPv4, and (with path_retry_seconds 30) from IPv6 allowed again to
// status path ipv6 on both sides.
func BenchmarkPaths(b *testing.B) {
	l := New(b)
	needWGPunch(b)
	oa, ob, a1, b1, res := dualStack(b, l)
	b.ResetTimer()
	var connect, fallback, back []time.Duration
	for i := 0; i < b.N*benchSamples; i++ {
		a1.WGP("down", "dual")
		b1.WGP("down", "dual")
		for _, o := range []*Office{oa, ob} {
			l.MustNS(o.Router, "conntrack", "-F")
			l.MustNS(o.Router, "conntrack", "-F", "-f", "ipv6")
		}
		a1.MustWGP("up", "dual")
		time.Sleep(500 * time.Millisecond) // a1 first, as in BenchmarkLab
		pg := startPinger(a1, res.BAddr, "0.01", 40*time.Second)
		t0 := time.Now()
		b1.MustWGP("up", "dual")
		d, err := pg.waitReply(t0, connectBound)
		pg.p.Stop()
		if err != nil {
			b.Fatal(err)
		}
		if p, ep := a1.peerPath("dual"); p != "ipv6" {
			b.Fatalf("first ping went over %q (%s), want ipv6", p, ep)
		}
		connect = append(connect, d)

		pg = startPinger(a1, res.BAddr, "0.05", 120*time.Second)
		oa.block6(true)
		t0 = time.Now()
		// Replies already on their way when the rule went in are not
		// the fallback: look from a second later.
		d, err = pg.waitReply(t0.Add(time.Second), 90*time.Second)
		pg.p.Stop()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a1.waitPath("dual", "ipv4", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		fallback = append(fallback, d+time.Second)

		oa.block6(false)
		t0 = time.Now()
		for _, h := range []*Host{a1, b1} {
			if _, err := h.waitPath("dual", "ipv6", 2*labPathRetry*time.Second+30*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		back = append(back, time.Since(t0))
	}
	reportSamples(b, "IPv6 connect (second side up -> first ping reply over IPv6)", connect)
	reportSamples(b, "fallback (IPv6 dropped on one router -> first ping reply over IPv4)", fallback)
	reportSamples(b, fmt.Sprintf("return (IPv6 allowed again -> path ipv6 on both sides, path_retry %d s)", labPathRetry), back)
}
