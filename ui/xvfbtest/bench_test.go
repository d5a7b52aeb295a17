package xvfbtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// BenchmarkGUI measures the real binary under Xvfb with a real tray host
// (xfce4-panel) and two tunnels up and monitored (each with a live peer in
// a second namespace), side by side with its floors, in one run:
//
//   - tray only: `wgpunch --tray` (the tray process) against `sleep` (a
//     process that does nothing) and a Fyne hello-world with a tray item
//     started with only the tray (testdata/hellotray --tray), and a second
//     tray process that keeps its start-up mappings (WGPUNCH_MEMTRIM=0,
//     see internal/memtrim) to show what dropping them saves;
//   - window shown: WG Punch's window (its window process, and with the
//     tray process) against the hello-world's window.
//
// For each: CPU (percent of one core), RSS and wakeups per second (times a
// thread was scheduled, summed over /proc/PID/task/*/schedstat) over an
// idle window, WGPUNCH_IDLE_SECONDS long (default 30). Also the time from
// asking for the window (a second start) to it being visible.
//
//	sudo go test -run '^$' -bench GUI -benchtime 1x ./ui/xvfbtest
func BenchmarkGUI(b *testing.B) {
	needTools(b, "dbus-launch", "xfce4-panel")
	idle := 30 * time.Second
	if s, err := strconv.Atoi(os.Getenv("WGPUNCH_IDLE_SECONDS")); err == nil && s > 0 {
		idle = time.Duration(s) * time.Second
	}
	hello := buildHello(b)
	l := newLab(b)
	a, bSide := l.pair(b)
	link(b, a, bSide, "office", 51820, true)
	link(b, a, bSide, "lab", 51821, true)
	bus, _ := l.panel(b)
	busEnv := "DBUS_SESSION_BUS_ADDRESS=" + bus
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Tray only, all at once. The second tray keeps its start-up
		// mappings (WGPUNCH_MEMTRIM=0), to show what dropping them saves;
		// its state directory is a link to the first's, so it is another
		// instance watching the same daemon.
		tray := l.appFlags(b, []string{"--tray"}, busEnv)
		kept := filepath.Join(b.TempDir(), "state-link")
		if err := os.Symlink(l.stateDir, kept); err != nil {
			b.Fatal(err)
		}
		trayKept := l.startEnv(b, "wgpunch-tray-kept", []string{busEnv, "WGPUNCH_MEMTRIM=0"}, l.bin,
			"--state-dir", kept, "--socket", l.socket, "--tray")
		sleeper := l.startEnv(b, "sleep", []string{busEnv}, "sleep", strconv.Itoa(int(idle/time.Second)+3600))
		helloTray := l.startEnv(b, "hello-tray", []string{busEnv}, hello, "--tray")
		warmUp()
		rows := measure(b, idle, []proc{
			{"wgpunch --tray (tray process)", tray.Process.Pid},
			{"the same, start-up mappings kept (WGPUNCH_MEMTRIM=0)", trayKept.Process.Pid},
			{"sleep (floor)", sleeper.Process.Pid},
			{"Fyne hello-world, tray only", helloTray.Process.Pid},
		})
		l.stop(helloTray)
		l.stop(trayKept)

		// Window shown: ask the running tray for the window, as a second start does.
		start := time.Now()
		second := l.nsCmd(b.Context(), l.bin, "--state-dir", l.stateDir, "--socket", l.socket)
		second.Env = append(append([]string(nil), l.env...), busEnv)
		if out, err := second.CombinedOutput(); err != nil {
			b.Fatalf("open the window: %v\n%s", err, out)
		}
		win := l.windowFast(b, "WG Punch", 60*time.Second)
		toWindow := time.Since(start)
		wpid := l.windowPID(b, win)
		helloWin := l.startEnv(b, "hello-window", []string{busEnv}, hello)
		l.windowFast(b, "Hello tray", 60*time.Second)
		warmUp()
		rows = append(rows, measure(b, idle, []proc{
			{"wgpunch window process", wpid},
			{"wgpunch tray process (window shown)", tray.Process.Pid},
			{"Fyne hello-world, window shown", helloWin.Process.Pid},
		})...)
		b.Logf("\n%s", table(rows, idle))
		b.Logf("second start to the window visible: %v", toWindow.Round(time.Millisecond))
		byName := map[string]row{}
		for _, r := range rows {
			byName[r.name] = r
		}
		t, w, h := byName["wgpunch --tray (tray process)"], byName["wgpunch window process"], byName["Fyne hello-world, window shown"]
		b.ReportMetric(float64(toWindow.Milliseconds()), "ms-to-window")
		b.ReportMetric(t.cpu, "tray-cpu-%")
		b.ReportMetric(t.rssMiB, "tray-rss-MiB")
		b.ReportMetric(byName["the same, start-up mappings kept (WGPUNCH_MEMTRIM=0)"].rssMiB, "tray-kept-rss-MiB")
		b.ReportMetric(t.wakeups, "tray-wakeups/s")
		b.ReportMetric(w.cpu, "window-cpu-%")
		b.ReportMetric(w.cpu-h.cpu, "window-minus-hello-cpu-points")
		b.ReportMetric(w.rssMiB, "window-rss-MiB")
		l.stop(helloWin)
		l.stop(sleeper)
	}
}

// warmUp leaves start-up work (the first status, the window's first
// frames, the tray registering) out of the idle window. A fixed time on
// purpose: start-up leaves no single sign of being over.
func warmUp() { time.Sleep(5 * time.Second) }

// buildHello builds testdata/hellotray (cgo, like the app).
func buildHello(t testing.TB) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hellotray")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/hellotray")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the hello-world: %v\n%s", err, b)
	}
	return out
}

// startEnv is start with extra environment.
func (l *lab) startEnv(t testing.TB, tag string, env []string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := l.nsCmd(t.Context(), name, args...)
	cmd.Env = append(append([]string(nil), l.env...), env...)
	return l.startCmd(t, tag, cmd)
}

// stop ends a process the lab started before its cleanup would.
func (l *lab) stop(cmd *exec.Cmd) { cmd.Process.Signal(os.Interrupt) }

type proc struct {
	name string
	pid  int
}

type row struct {
	name        string
	cpu, rssMiB float64
	wakeups     float64
	threads     int
}

// measure samples every process at the start and end of the same idle window.
func measure(t testing.TB, idle time.Duration, ps []proc) []row {
	t.Helper()
	type sample struct{ ns, runs int64 }
	before := make([]sample, len(ps))
	t0 := time.Now()
	for i, p := range ps {
		before[i].ns, before[i].runs, _ = schedstat(t, p.pid)
	}
	time.Sleep(idle) // the measurement window itself
	secs := time.Since(t0).Seconds()
	var rows []row
	for i, p := range ps {
		ns, runs, threads := schedstat(t, p.pid)
		rows = append(rows, row{
			name:    p.name,
			cpu:     float64(ns-before[i].ns) / 1e9 / secs * 100,
			wakeups: float64(runs-before[i].runs) / secs,
			rssMiB:  float64(rssKiB(t, p.pid)) / 1024,
			threads: threads,
		})
	}
	return rows
}

// schedstat sums a process's threads' time on CPU (ns) and the times they
// were scheduled (/proc/PID/task/TID/schedstat).
func schedstat(t testing.TB, pid int) (ns, runs int64, threads int) {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("process %d: no schedstat (%v)", pid, err)
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that just ended
		}
		f := strings.Fields(string(b))
		if len(f) < 3 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		r, _ := strconv.ParseInt(f[2], 10, 64)
		ns += n
		runs += r
		threads++
	}
	return ns, runs, threads
}

// table prints rows as the Markdown table docs/benchmarks.md carries.
func table(rows []row, idle time.Duration) string {
	var s strings.Builder
	fmt.Fprintf(&s, "idle %v, two tunnels up and monitored, xfce4-panel as the tray host\n", idle)
	fmt.Fprintf(&s, "| process | CPU (%% of one core) | RSS (MiB) | wakeups/s | threads |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&s, "| %s | %.3f | %.1f | %.1f | %d |\n", r.name, r.cpu, r.rssMiB, r.wakeups, r.threads)
	}
	return s.String()
}

// windowFast waits for a visible window, polling often (the start-up
// time), and returns its id.
func (l *lab) windowFast(t testing.TB, title string, d time.Duration) string {
	t.Helper()
	var id string
	if _, err := testutil.WaitFor(d, 20*time.Millisecond, func() (bool, string) {
		out, err := l.nsCmd(t.Context(), "xdotool", "search", "--onlyvisible", "--name", "^"+title+"$").Output()
		f := strings.Fields(string(out))
		if err != nil || len(f) == 0 {
			return false, "no window " + title
		}
		id = f[len(f)-1]
		return true, ""
	}); err != nil {
		t.Fatal(err)
	}
	return id
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
