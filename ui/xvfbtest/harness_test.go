package xvfbtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/pion/stun/v3"
	"github.com/vishvananda/netns"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// lab is one test's private world: a network namespace with only loopback,
// an X display, STUN servers on loopback, a state dir and a socket path.
type lab struct {
	t        testing.TB
	ns       string
	dir      string
	stateDir string
	socket   string
	display  string
	home     string
	bin      string
	shots    []string
	env      []string
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary returns WGPUNCH_BIN or builds ./cmd/trayapp once (cgo, Fyne).
func binary(t testing.TB) string {
	if b := os.Getenv("WGPUNCH_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wgpunch-xvfbtest-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "wgpunch")
		cmd := exec.Command("go", "build", "-o", builtBin, "github.com/wgpunch/wgpunch/cmd/trayapp")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/trayapp: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("Xvfb tests run on Linux")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the app runs in a network namespace of its own")
	}
	for _, tool := range append([]string{"Xvfb", "xdotool", "import", "ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install xvfb xdotool imagemagick zbar-tools dbus iproute2)", tool)
		}
	}
}

// newLab makes the namespace, starts Xvfb and two STUN servers.
func newLab(t testing.TB) *lab {
	t.Helper()
	l := &lab{t: t, dir: t.TempDir(), ns: fmt.Sprintf("wgp-h6-%d", os.Getpid()%100000)}
	l.stateDir = filepath.Join(l.dir, "state")
	l.socket = filepath.Join(l.dir, "wgpunch.sock")
	l.home = filepath.Join(l.dir, "home")
	if err := os.MkdirAll(l.home, 0o700); err != nil {
		t.Fatal(err)
	}
	testutil.NetNS(t, l.ns)

	// STUN servers on loopback inside the namespace: the NAT check talks
	// to nothing else.
	if err := os.MkdirAll(l.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	l.stun(t, l.ns, "127.0.0.1")

	// A free display number :93..:99.
	for n := 93; n < 100; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
				l.display = fmt.Sprintf(":%d", n)
				break
			}
		}
	}
	if l.display == "" {
		t.Fatal("no free X display between :93 and :99")
	}
	l.env = append(os.Environ(), "DISPLAY="+l.display, "HOME="+l.home, "XDG_CONFIG_HOME="+filepath.Join(l.home, ".config"),
		"LIBGL_ALWAYS_SOFTWARE=1", "FYNE_SCALE=1", "LANG=C.UTF-8", "NO_AT_BRIDGE=1",
		// The instance sockets (internal/instance) of this lab's app only.
		"XDG_RUNTIME_DIR="+l.dir)
	xvfb := l.start(t, "xvfb", "Xvfb", l.display, "-screen", "0", "1280x900x24", "-nolisten", "tcp")
	_ = xvfb
	l.waitFor(t, "Xvfb", 10*time.Second, func() bool {
		return exec.Command("ip", "netns", "exec", l.ns, "env", "DISPLAY="+l.display, "xdotool", "getdisplaygeometry").Run() == nil
	})
	// A private session bus for everything the lab starts: without one the
	// app's DBus users (tray, notifications) autolaunch a bus through X11,
	// and that dbus-daemon outlives the test. Tests that need a bus of
	// their own (the tray tests) pass a later DBUS_SESSION_BUS_ADDRESS.
	bus := "unix:path=" + filepath.Join(l.dir, "session-bus")
	l.start(t, "dbus-session", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+bus)
	l.waitFor(t, "the lab's session bus", 10*time.Second, func() bool {
		c, err := dbus.Connect(bus)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	l.env = append(l.env, "DBUS_SESSION_BUS_ADDRESS="+bus)
	l.bin = binary(t)
	return l
}

// stun starts two STUN servers on ip (ports 3478, 3479) in namespace ns and
// makes them the lab state dir's STUN servers.
func (l *lab) stun(t testing.TB, ns, ip string) {
	t.Helper()
	var servers []string
	for _, port := range []int{3478, 3479} {
		addr := fmt.Sprintf("%s:%d", ip, port)
		pc, err := listenInNetns(ns, addr)
		if err != nil {
			t.Fatalf("STUN server %s: %v", addr, err)
		}
		t.Cleanup(func() { pc.Close() })
		go serveSTUN(pc, nil)
		servers = append(servers, addr)
	}
	settings := fmt.Sprintf(`{"stun_servers": ["%s"]}`, strings.Join(servers, `", "`))
	if err := os.WriteFile(filepath.Join(l.stateDir, "settings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
}

func listenInNetns(ns, addr string) (net.PacketConn, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		return nil, err
	}
	defer netns.Set(orig)
	if strings.HasPrefix(addr, "[") {
		return net.ListenPacket("udp6", addr)
	}
	return net.ListenPacket("udp4", addr)
}

// serveSTUN answers Binding requests with the sender's address, or, once
// moved holds one, with that address and the sender's port (as after the
// router got a new WAN address). moved may be nil.
func serveSTUN(pc net.PacketConn, moved *atomic.Pointer[netip.Addr]) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if m.Decode() != nil || m.Type != stun.BindingRequest {
			continue
		}
		ua := from.(*net.UDPAddr)
		ip := ua.IP
		if moved != nil {
			if a := moved.Load(); a != nil {
				ip = a.AsSlice()
			}
		}
		resp, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: ip, Port: ua.Port}, stun.Fingerprint)
		if err == nil {
			pc.WriteTo(resp.Raw, from)
		}
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ns_ runs a command in the namespace with the lab's environment.
func (l *lab) ns_(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := l.nsCmd(context.Background(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) nsCmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.ns, name}, args...)...)
	cmd.Env = l.env
	return cmd
}

// nsCmdIn is nsCmd in another namespace.
func (l *lab) nsCmdIn(ns, name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Env = l.env
	return cmd
}

// start runs a long-lived command in the namespace, logging to a file,
// stopped at cleanup.
func (l *lab) start(t testing.TB, tag, name string, args ...string) *exec.Cmd {
	t.Helper()
	return l.startCmd(t, tag, l.nsCmd(context.Background(), name, args...))
}

func (l *lab) startCmd(t testing.TB, tag string, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(filepath.Join(l.dir, tag+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Args, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- %s log ---\n%s", tag, tail(string(b), 3000))
		}
	})
	return cmd
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// waitFor fails t unless cond holds within d; it polls every 100 ms (each
// look may run a command or grab the screen).
func (l *lab) waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	if _, err := testutil.WaitFor(d, 100*time.Millisecond, func() (bool, string) { return cond(), what }); err != nil {
		t.Fatalf("timed out waiting for %s: %v", what, err)
	}
}

// window waits for a visible window with this exact title and returns its id.
func (l *lab) window(t testing.TB, title string, d time.Duration) string {
	t.Helper()
	var id string
	l.waitFor(t, "window "+title, d, func() bool {
		out, err := l.nsCmd(context.Background(), "xdotool", "search", "--onlyvisible", "--name", "^"+title+"$").Output()
		if err != nil {
			return false
		}
		f := strings.Fields(string(out))
		if len(f) == 0 {
			return false
		}
		id = f[len(f)-1]
		return true
	})
	return id
}

// key sends keys to a window after focusing it.
func (l *lab) key(t testing.TB, win string, keys ...string) {
	t.Helper()
	l.ns_(t, "xdotool", "windowfocus", "--sync", win)
	for _, k := range keys {
		l.ns_(t, "xdotool", "key", "--clearmodifiers", k)
		// Pacing: Fyne handles each key (focus moves, a step
		// changes) before the next one means anything.
		time.Sleep(150 * time.Millisecond)
	}
}

// shot screenshots the whole screen into name.png and returns its path
// (kept in the test's temp dir only).
func (l *lab) shot(t testing.TB, name string) string {
	t.Helper()
	l.settle(t, "root", settleLimit)
	p := filepath.Join(l.dir, name+".png")
	l.ns_(t, "import", "-window", "root", p)
	l.shots = append(l.shots, p)
	return p
}

// shotWindow screenshots one window; with WGPUNCH_SHOTS set it is also
// copied there (the README's pictures).
func (l *lab) shotWindow(t testing.TB, win, name string) string {
	t.Helper()
	l.settle(t, win, settleLimit)
	p := filepath.Join(l.dir, name+".png")
	l.ns_(t, "import", "-window", win, p)
	if dst := os.Getenv("WGPUNCH_SHOTS"); dst != "" {
		b, err := os.ReadFile(p)
		if err == nil {
			os.MkdirAll(dst, 0o755)
			os.WriteFile(filepath.Join(dst, name+".png"), b, 0o644)
		}
	}
	return p
}

// cli runs the wgpunch CLI against the lab's state dir and socket.
func (l *lab) cli(t testing.TB, args ...string) string {
	t.Helper()
	full := append([]string{"--state-dir", l.stateDir, "--socket", l.socket}, args...)
	var out bytes.Buffer
	cmd := l.nsCmd(context.Background(), l.bin, full...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("wgpunch %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// app starts the GUI.
func (l *lab) app(t testing.TB, extraEnv ...string) *exec.Cmd {
	t.Helper()
	return l.appFlags(t, nil, extraEnv...)
}

// appFlags starts the GUI with extra global flags (such as --tray).
func (l *lab) appFlags(t testing.TB, flags []string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	l.env = append(l.env, extraEnv...)
	args := append([]string{"--state-dir", l.stateDir, "--socket", l.socket}, flags...)
	return l.start(t, "wgpunch-gui", l.bin, args...)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}
