package xvfbtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// BenchmarkGUI measures the real binary under Xvfb with two tunnels up and
// monitored (both with a live peer in a second namespace): time from start
// to the main window being visible, idle CPU (percent of one core) and
// resident memory. WGPUNCH_IDLE_SECONDS sets the idle window (default 60).
//
//	sudo go test -run '^$' -bench GUI -benchtime 1x ./ui/xvfbtest
func BenchmarkGUI(b *testing.B) {
	needTools(b)
	idle := 60 * time.Second
	if s, err := strconv.Atoi(os.Getenv("WGPUNCH_IDLE_SECONDS")); err == nil && s > 0 {
		idle = time.Duration(s) * time.Second
	}
	l := newLab(b)
	a, bSide := l.pair(b)
	link(b, a, bSide, "office", 51820, true)
	link(b, a, bSide, "lab", 51821, true)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cmd := l.app(b)
		l.windowFast(b, "WG Punch", 60*time.Second)
		toWindow := time.Since(start)
		// Fixed on purpose: start-up work (the first status poll, the
		// NAT check) leaves no single sign of being over, and the idle
		// window below must not include it.
		time.Sleep(5 * time.Second)
		pid := cmd.Process.Pid
		t0, c0 := time.Now(), cpuTicks(b, pid)
		time.Sleep(idle) // the measurement window itself
		t1, c1 := time.Now(), cpuTicks(b, pid)
		const hz = 100 // USER_HZ on Linux
		cpu := float64(c1-c0) / hz / t1.Sub(t0).Seconds() * 100
		rss := rssKiB(b, pid)
		b.ReportMetric(float64(toWindow.Milliseconds()), "ms-to-window")
		b.ReportMetric(cpu, "idle-cpu-%")
		b.ReportMetric(float64(rss)/1024, "rss-MiB")
		b.Logf("start to window %v; idle CPU %.2f%% of one core over %v with 2 tunnels monitored; RSS %.1f MiB",
			toWindow.Round(time.Millisecond), cpu, idle, float64(rss)/1024)
		cmd.Process.Signal(os.Interrupt)
	}
}

// windowFast polls often, for the start-up time.
func (l *lab) windowFast(t testing.TB, title string, d time.Duration) {
	t.Helper()
	if _, err := testutil.WaitFor(d, 20*time.Millisecond, func() (bool, string) {
		out, err := l.nsCmd(t.Context(), "xdotool", "search", "--onlyvisible", "--name", "^"+title+"$").Output()
		return err == nil && len(strings.Fields(string(out))) > 0, "no window " + title
	}); err != nil {
		t.Fatal(err)
	}
}

// cpuTicks is utime+stime of pid in clock ticks.
func cpuTicks(t testing.TB, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

func rssKiB(t testing.TB, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}
