package lab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// benchSamples is how many times the timing benchmarks repeat inside one
// b.N iteration (the lab is slow to build, so -benchtime=1x is the norm).
const benchSamples = 3

// pinger runs `ping -D -i interval` on a host and reports reply times.
type pinger struct {
	p *Proc
}

func startPinger(h *Host, addr string, interval string, deadline time.Duration) *pinger {
	h.lab.t.Helper()
	return &pinger{p: h.Start("ping-"+addr, "ping", "-n", "-D", "-i", interval,
		"-W", "1", "-w", strconv.Itoa(int(deadline.Seconds())), addr)}
}

var pingLine = regexp.MustCompile(`^\[(\d+)\.(\d+)\] \d+ bytes from`)

// firstReplyAfter returns the time of the first reply at or after t0.
func (pg *pinger) firstReplyAfter(t0 time.Time) (time.Time, bool) {
	f, err := os.Open(pg.p.Log)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := pingLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		frac := m[2]
		for len(frac) < 9 {
			frac += "0"
		}
		nsec, _ := strconv.ParseInt(frac[:9], 10, 64)
		ts := time.Unix(sec, nsec)
		if !ts.Before(t0) {
			return ts, true
		}
	}
	return time.Time{}, false
}

// waitReply waits up to timeout for a reply at or after t0 and returns
// how long after t0 it came.
func (pg *pinger) waitReply(t0 time.Time, timeout time.Duration) (time.Duration, error) {
	var got time.Time
	_, err := waitFor(timeout, 20*time.Millisecond, func() (bool, string) {
		ts, ok := pg.firstReplyAfter(t0)
		got = ts
		return ok, "no ping reply"
	})
	if err != nil {
		return 0, err
	}
	return got.Sub(t0), nil
}

// stats formats samples as min/median/max milliseconds.
// reportSamples prints what was measured and reports its min, median and
// max as the benchmark's metrics.
func reportSamples(b *testing.B, what string, ds []time.Duration) {
	lo, med, hi := stats(ds)
	b.ReportMetric(med, "ms-median")
	b.ReportMetric(lo, "ms-min")
	b.ReportMetric(hi, "ms-max")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("%s, %d samples: min %.0f ms, median %.0f ms, max %.0f ms\n", what, len(ds), lo, med, hi)
}

func stats(ds []time.Duration) (min, med, max float64) {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(s[0]), ms(s[len(s)/2]), ms(s[len(s)-1])
}

// iperf runs iperf3 from src to dst's addr for secs seconds and returns
// the received rate in Mbit/s.
func iperf(b *testing.B, src, dst *Host, addr string, secs int) float64 {
	b.Helper()
	return iperfVia(b, src, dst, addr, addr, secs)
}

// iperfVia is iperf with the server on dst's address listen, which src
// reaches as addr (an alias of it).
func iperfVia(b *testing.B, src, dst *Host, addr, listen string, secs int) float64 {
	b.Helper()
	srv := dst.Start("iperf3-server", "iperf3", "-s", "-B", listen, "-p", "5201")
	defer srv.Stop()
	if _, err := waitFor(5*time.Second, 50*time.Millisecond, func() (bool, string) {
		o, _ := dst.Run("ss", "-Htln")
		return strings.Contains(o, listen+":5201"), o
	}); err != nil {
		b.Fatal(err)
	}
	out, err := src.Run("iperf3", "-c", addr, "-p", "5201", "-t", strconv.Itoa(secs), "-J")
	if err != nil {
		b.Fatal(err)
	}
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		b.Fatalf("iperf3 -J: %v\n%s", err, out)
	}
	return r.End.SumReceived.BitsPerSecond / 1e6
}

// BenchmarkLab builds the two-office lab once and prints: time from the
// second side's `up` to the first ping, time to recover after both routers
// reboot, and TCP throughput through WG Punch and through the stock Debian
// wireguard-go binary with the same keys over the same routers.
func BenchmarkLab(b *testing.B) {
	l := New(b)
	needWGPunch(b)
	testutil.RequireTool(b, "iperf3", "iperf3")
	in := l.Internet()
	oa := in.Office("a", 1, NATHome)
	ob := in.Office("b", 2, NATHome)
	a, bh := oa.Host("a1"), ob.Host("b1")
	a.StartDaemon()
	bh.StartDaemon()
	const name = "office"
	res := Link(b, a, bh, name,
		linkOpts{Port: 51820, Endpoint: oa.WAN + ":51820"},
		linkOpts{Port: 51820, Endpoint: ob.WAN + ":51820"})
	b.ResetTimer()

	b.Run("connect", func(b *testing.B) {
		var ds []time.Duration
		for i := 0; i < b.N*benchSamples; i++ {
			a.WGP("down", name)
			bh.WGP("down", name)
			// Let both routers forget the old flows, as between two real
			// first connections.
			for _, o := range []*Office{oa, ob} {
				l.MustNS(o.Router, "conntrack", "-F")
			}
			a.MustWGP("up", name)
			time.Sleep(500 * time.Millisecond)
			pg := startPinger(a, res.BAddr, "0.01", 40*time.Second)
			t0 := time.Now()
			bh.MustWGP("up", name)
			d, err := pg.waitReply(t0, connectBound)
			pg.p.Stop()
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, d)
		}
		reportSamples(b, "connect (second side up -> first ping reply)", ds)
	})

	b.Run("reboot-recovery", func(b *testing.B) {
		if _, err := a.WaitPing(res.BAddr, connectBound); err != nil {
			b.Fatal(err)
		}
		var ds []time.Duration
		for i := 0; i < b.N*benchSamples; i++ {
			pg := startPinger(a, res.BAddr, "0.05", 60*time.Second)
			Reboot(2*time.Second, oa, ob)
			t0 := time.Now()
			d, err := pg.waitReply(t0, recoverBound)
			pg.p.Stop()
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, d)
		}
		reportSamples(b, "recovery (routers back after a 2 s reboot -> ping reply)", ds)
	})

	var wgpunchMbps float64
	b.Run("throughput/wgpunch", func(b *testing.B) {
		if _, err := a.WaitPing(res.BAddr, connectBound); err != nil {
			b.Fatal(err)
		}
		wgpunchMbps = iperf(b, a, bh, res.BAddr, 5)
		b.ReportMetric(wgpunchMbps, "Mbit/s")
		b.ReportMetric(0, "ns/op")
		fmt.Printf("TCP throughput through WG Punch (iperf3 5 s): %.0f Mbit/s\n", wgpunchMbps)
	})

	b.Run("throughput/stock-wireguard-go", func(b *testing.B) {
		var tunnels []*StockTunnel
		for _, h := range []*Host{a, bh} {
			full := h.MustWGP("export", name, "--private-key")
			path := filepath.Join(h.Dir, name+".conf")
			if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
				b.Fatal(err)
			}
			stripped := h.Must("wg-quick", "strip", path)
			addrs, routes := exportAddrs(full)
			h.MustWGP("down", name)
			st, err := h.StockUp(name, stripped, addrs, routes)
			if err != nil {
				b.Fatal(err)
			}
			tunnels = append(tunnels, st)
		}
		defer func() {
			for _, st := range tunnels {
				st.Down()
			}
		}()
		if _, err := a.WaitPing(res.BAddr, connectBound); err != nil {
			b.Fatal(err)
		}
		mbps := iperf(b, a, bh, res.BAddr, 5)
		b.ReportMetric(mbps, "Mbit/s")
		b.ReportMetric(0, "ns/op")
		fmt.Printf("TCP throughput through stock wireguard-go %s (iperf3 5 s): %.0f Mbit/s\n", wireguardGoVersion(), mbps)
	})
}

// exportAddrs returns the Address and AllowedIPs entries of a wg-quick file.
func exportAddrs(conf string) (addrs, routes []string) {
	for _, m := range regexp.MustCompile(`(?m)^\s*(Address|AllowedIPs)\s*=\s*(.+)$`).FindAllStringSubmatch(conf, -1) {
		for _, p := range strings.Split(m[2], ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if m[1] == "Address" {
				addrs = append(addrs, p)
			} else {
				routes = append(routes, p)
			}
		}
	}
	return addrs, routes
}

func wireguardGoVersion() string {
	out, _ := runCmd(5*time.Second, nil, "wireguard-go", "--version")
	return strings.TrimSpace(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0])
}

// BenchmarkLinkStaysUp measures issue 11's scenarios once each (the same
// code as TestWGPunchStaysUp): seconds from a new WAN address to the update
// in status, from the update taken to the first ping, and from the second
// side's up behind a stuck router to the first ping. (STUN queries per
// idle tunnel-hour: BenchmarkAddressWatchIdleHour in tunnel/control.)
func BenchmarkLinkStaysUp(b *testing.B) {
	l := New(b)
	needWGPunch(b)
	in := l.Internet()
	oa, ob := in.Office("a", 3, NATHome), in.Office("b", 4, NATHome)
	oc, od := in.Office("c", 5, NATHome), in.Office("d", 6, NATHome)
	a1, b1, c1, d1 := oa.Host("a1"), ob.Host("b1"), oc.Host("c1"), od.Host("d1")
	for _, h := range []*Host{a1, b1, c1, d1} {
		h.StartDaemon()
	}
	b.ResetTimer()
	update, back := addressChange(b, in, ob, a1, b1)
	stuck, _ := stuckRouter(b, od, c1, d1)
	b.ReportMetric(update.Seconds(), "s-address-change-to-update")
	b.ReportMetric(back.Seconds(), "s-update-to-ping")
	b.ReportMetric(stuck.Seconds(), "s-stuck-router-up-to-ping")
	b.ReportMetric(0, "ns/op")
	b.Logf("address change -> update shown %.1f s; update taken -> ping %.1f s; stuck router: up -> first ping %.1f s (bound %v)",
		update.Seconds(), back.Seconds(), stuck.Seconds(), unstickBound)
}
