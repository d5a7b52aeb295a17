package engine

import (
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// BenchmarkSnapshotWgctrl measures one monitor poll of two real tunnels
// through their UAPI sockets: what the daemon pays every second.
func BenchmarkSnapshotWgctrl(b *testing.B) {
	needNetAdmin(b)
	tb := testing.TB(b)
	nsPair(tb, "h4-ba", "h4-bb", "10.99.7")
	a := newSide(tb, "h4-ba", "h4ba0", 51961, "10.99.207.1/24", "10.99.7.1")
	c := newSide(tb, "h4-bb", "h4bb0", 51962, "10.99.207.2/24", "10.99.7.2")
	cfgA, cfgC := a.config(c, 5), c.config(a, 5)
	ca, ans := startChild(tb, a.ns, cfgA)
	mustUp(tb, ca, ans, a.ifname)
	cc, ans := startChild(tb, c.ns, cfgC)
	mustUp(tb, cc, ans, c.ifname)
	handshakeWithin(tb, a.ifname, 10*time.Second)

	wc, err := wgctrl.New()
	if err != nil {
		b.Fatal(err)
	}
	defer wc.Close()
	m := monitor.New(monitor.Options{Reader: wc})
	cfgs := []*conf.Config{cfgA, cfgC}
	up := map[string]string{a.ifname: a.ifname, c.ifname: c.ifname}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := m.Snapshot(cfgs, up)
		if !r.Tunnels[0].Up || !r.Tunnels[1].Up {
			b.Fatalf("tunnel not up in snapshot: %+v", r.Tunnels)
		}
	}
}

// BenchmarkUpToHandshake measures from asking the engine to bring a tunnel
// up (its peer already waiting) to the peer seeing a fresh handshake.
func BenchmarkUpToHandshake(b *testing.B) {
	needNetAdmin(b)
	tb := testing.TB(b)
	nsPair(tb, "h4-ha", "h4-hb", "10.99.8")
	a := newSide(tb, "h4-ha", "h4ha0", 51971, "10.99.208.1/24", "10.99.8.1")
	c := newSide(tb, "h4-hb", "h4hb0", 51972, "10.99.208.2/24", "10.99.8.2")
	ca, ans := startChild(tb, a.ns, a.config(c, 5))
	mustUp(tb, ca, ans, a.ifname)
	cc, ans := startChild(tb, c.ns, c.config(a, 5))
	mustUp(tb, cc, ans, c.ifname)
	cfgC := writeConfig(tb, c.config(a, 5))
	handshakeWithin(tb, a.ifname, 10*time.Second)

	wc, err := wgctrl.New()
	if err != nil {
		b.Fatal(err)
	}
	defer wc.Close()
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if ans := cc.send("down " + c.ifname); ans != "down ok" {
			b.Fatalf("down: %s", ans)
		}
		d, err := wc.Device(a.ifname)
		if err != nil {
			b.Fatal(err)
		}
		prev := d.Peers[0].LastHandshakeTime
		// wireguard-go refuses a new initiation from a peer within
		// 1/ratelimit of the last one; wait it out so each round counts.
		time.Sleep(150 * time.Millisecond)
		b.StartTimer()
		start := time.Now()
		if ans := cc.send("apply " + cfgC); ans != "up "+c.ifname {
			b.Fatalf("up: %s", ans)
		}
		// Polled every 2 ms: the wait is what this benchmark measures.
		if _, err := testutil.WaitFor(10*time.Second, 2*time.Millisecond, func() (bool, string) {
			d, err := wc.Device(a.ifname)
			if err != nil {
				b.Fatal(err)
			}
			return d.Peers[0].LastHandshakeTime.After(prev), "no new handshake"
		}); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/up-to-handshake")
}
