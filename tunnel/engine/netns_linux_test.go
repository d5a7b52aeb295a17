package engine

// Helpers for the network-namespace tests: namespaces, veth pairs, and the
// engine running as a child process of this test binary inside a namespace
// (TestMain re-execs it under `ip netns exec`), so its TUN device, UDP
// socket and routes live in that namespace.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// childEnv names the config file a child engine brings up.
const childEnv = "WGPUNCH_TEST_ENGINE_CONFIG"

// retryEnv sets Options.ResolveRetry in a child.
const retryEnv = "WGPUNCH_TEST_ENGINE_RESOLVE_RETRY"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(m.Run())
}

// runChild is the child side: bring up the config at path, answer
// "up IFNAME" or "err MSG", then obey stdin lines "apply PATH" and "down";
// EOF closes the engine.
func runChild(path string) int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "engine: "+format+"\n", args...)
	}
	opts := Options{Logf: logf}
	duration := func(env string) time.Duration {
		d, _ := time.ParseDuration(os.Getenv(env))
		return d // zero: the default
	}
	opts.ResolveRetry = duration(retryEnv)
	opts.ReresolveSilence = duration(silenceEnv)
	opts.GuardInterval = duration(guardEnv)
	opts.SysctlDir = os.Getenv(sysctlEnv)
	out := bufio.NewWriter(os.Stdout)
	reply := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	if rw, ok := os.LookupEnv(unitSysctlEnv); ok {
		if err := confineProcSys(strings.FieldsFunc(rw, func(r rune) bool { return r == ':' }), os.Getenv(parentMntEnv)); err != nil {
			reply("err reproduce the unit's /proc/sys: %v", err)
			return 1
		}
	}
	e, err := New(opts)
	if err != nil {
		reply("err %v", err)
		return 1
	}
	defer e.Close()
	up := func(path string) {
		cfg, err := readConfig(path)
		if err != nil {
			reply("err %v", err)
			return
		}
		name, err := e.Up(cfg)
		if err != nil {
			reply("err %v", strings.ReplaceAll(err.Error(), "\n", " "))
			return
		}
		reply("up %s", name)
	}
	up(path)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		switch cmd {
		case "apply":
			up(arg)
		case "down":
			if err := e.Down(arg); err != nil {
				reply("err %v", err)
			} else {
				reply("down ok")
			}
		case "canwrite":
			// Opening for writing changes nothing; a read-only mount
			// refuses it (EROFS).
			f, err := os.OpenFile(arg, os.O_WRONLY, 0)
			if err != nil {
				reply("canwrite err %v", err)
				break
			}
			f.Close()
			reply("canwrite ok")
		case "running":
			reply("running %s", strings.Join(e.Running(), ","))
		case "goroutines":
			// Let exiting goroutines finish before counting.
			n := runtime.NumGoroutine()
			testutil.WaitFor(time.Second, 0, func() (bool, string) {
				m := runtime.NumGoroutine()
				steady := m == n
				n = m
				return steady, ""
			})
			reply("goroutines %d", n)
		}
	}
	if err := e.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "close: %v\n", err)
		return 1
	}
	return 0
}

func readConfig(path string) (*conf.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg conf.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func writeConfig(t testing.TB, cfg *conf.Config) string {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "cfg*.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// needNetAdmin skips tests that need root and /dev/net/tun, and fails
// them without iproute2.
func needNetAdmin(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespace test; skipped in -short mode")
	}
	testutil.RequireRoot(t, "network namespaces, TUN devices")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("needs /dev/net/tun")
	}
	testutil.RequireTool(t, "ip", "iproute2")
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nsPair creates namespaces a and b joined by a veth pair with a.1/24 on a
// and .2 on b of subnet (e.g. "10.99.1"). Both are deleted at cleanup.
func nsPair(t testing.TB, a, b, subnet string) {
	t.Helper()
	testutil.NetNS(t, a)
	testutil.NetNS(t, b)
	testutil.Veth(t, testutil.VethEnd{NS: a, Dev: "veth0", Addrs: []string{subnet + ".1/24"}},
		testutil.VethEnd{NS: b, Dev: "veth0", Addrs: []string{subnet + ".2/24"}})
}

// nsEtc gives namespace ns its own /etc/hosts and /etc/resolv.conf (ip
// netns exec bind-mounts /etc/netns/NS/* over /etc). DNS points at the
// namespace's own loopback, so no lookup leaves it. It returns the hosts
// file path.
func nsEtc(t testing.TB, ns, hosts string) string {
	t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("/etc/netns") // only if empty: others may use it
	})
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hosts")
	if err := os.WriteFile(path, []byte("127.0.0.1 localhost\n"+hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// child is an engine running in a namespace.
type child struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startChild runs an engine in ns and brings cfg up. It returns the child
// and its first answer ("up IFNAME" or "err ...").
func startChild(t testing.TB, ns string, cfg *conf.Config, env ...string) (*child, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, self)
	cmd.Env = append(os.Environ(), childEnv+"="+writeConfig(t, cfg))
	cmd.Env = append(cmd.Env, env...)
	c := &child{t: t, cmd: cmd, lines: make(chan string, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	t.Cleanup(func() { c.stop() })
	return c, c.next()
}

func (c *child) next() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatalf("engine child exited; stderr:\n%s", c.stderr)
		}
		return l
	case <-time.After(20 * time.Second):
		c.t.Fatalf("engine child did not answer; stderr:\n%s", c.stderr)
	}
	return ""
}

func (c *child) send(cmd string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		c.t.Fatalf("send %q: %v", cmd, err)
	}
	return c.next()
}

// stop closes stdin (the engine closes all tunnels) and waits.
func (c *child) stop() error {
	if c.cmd.ProcessState != nil {
		return nil
	}
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		return <-done
	}
}

// logged waits until the child's log holds want: its stderr reaches us
// through a pipe copied by another goroutine, so lines written before an
// answer may arrive after it.
func (c *child) logged(want string) bool {
	_, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
		return strings.Contains(c.stderr.String(), want), ""
	})
	return err == nil
}

// mustUp fails the test unless the first answer was "up want".
func mustUp(t testing.TB, c *child, answer, want string) {
	t.Helper()
	if answer != "up "+want {
		t.Fatalf("engine answered %q, want %q; stderr:\n%s", answer, "up "+want, c.stderr)
	}
}

// side is one end of a test tunnel.
type side struct {
	ns, ifname string
	key        wgtypes.Key
	port       uint16
	addr       netip.Prefix // tunnel address
	addr6      netip.Prefix // optional IPv6 tunnel address
	underlay   string       // veth address
}

func newSide(t testing.TB, ns, ifname string, port uint16, addr, underlay string) side {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return side{ns: ns, ifname: ifname, key: k, port: port, addr: netip.MustParsePrefix(addr), underlay: underlay}
}

// config is s's tunnel with peer p; extra are more AllowedIPs for p.
func (s side) config(p side, keepalive uint16, extra ...string) *conf.Config {
	allowed := []netip.Prefix{netip.PrefixFrom(p.addr.Addr(), p.addr.Addr().BitLen())}
	if p.addr6.IsValid() {
		allowed = append(allowed, netip.PrefixFrom(p.addr6.Addr(), 128))
	}
	for _, e := range extra {
		allowed = append(allowed, netip.MustParsePrefix(e))
	}
	addrs := []netip.Prefix{s.addr}
	if s.addr6.IsValid() {
		addrs = append(addrs, s.addr6)
	}
	return &conf.Config{
		Name: s.ifname,
		Interface: conf.Interface{
			PrivateKey: s.key,
			ListenPort: s.port,
			Addresses:  addrs,
		},
		Peers: []conf.Peer{{
			PublicKey:           p.key.PublicKey(),
			Endpoint:            conf.Endpoint{Host: p.underlay, Port: p.port},
			AllowedIPs:          allowed,
			PersistentKeepalive: keepalive,
			Meta:                conf.PeerMeta{Name: p.ns},
		}},
	}
}

// handshakeWithin polls the UAPI socket of ifname until its only peer has a
// handshake, and returns how long that took; it fails after limit.
func handshakeWithin(t testing.TB, ifname string, limit time.Duration) time.Duration {
	t.Helper()
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatalf("wgctrl: %v", err)
	}
	defer wc.Close()
	took, err := testutil.WaitFor(limit, 0, func() (bool, string) {
		d, err := wc.Device(ifname)
		if err != nil {
			t.Fatalf("wgctrl device %s: %v", ifname, err)
		}
		if len(d.Peers) != 1 {
			t.Fatalf("device %s has %d peers, want 1", ifname, len(d.Peers))
		}
		return !d.Peers[0].LastHandshakeTime.IsZero(), "no handshake yet"
	})
	if err != nil {
		t.Fatalf("no handshake on %s: %v", ifname, err)
	}
	return took
}

// peerOf reads the only peer of ifname through its UAPI socket.
func peerOf(t testing.TB, ifname string) wgtypes.Peer {
	t.Helper()
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatalf("wgctrl: %v", err)
	}
	defer wc.Close()
	d, err := wc.Device(ifname)
	if err != nil {
		t.Fatalf("wgctrl device %s: %v", ifname, err)
	}
	if len(d.Peers) != 1 {
		t.Fatalf("device %s has %d peers, want 1", ifname, len(d.Peers))
	}
	return d.Peers[0]
}

func listenPortOf(t testing.TB, ifname string) int {
	t.Helper()
	wc, err := wgctrl.New()
	if err != nil {
		t.Fatalf("wgctrl: %v", err)
	}
	defer wc.Close()
	d, err := wc.Device(ifname)
	if err != nil {
		t.Fatalf("wgctrl device %s: %v", ifname, err)
	}
	return d.ListenPort
}

func socketGone(t testing.TB, ifname string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(socketDir, ifname+".sock")); !os.IsNotExist(err) {
		t.Errorf("UAPI socket of %s still there after down (stat: %v)", ifname, err)
	}
}

func linkGone(t testing.TB, ns, ifname string) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", ns, "link", "show", ifname).CombinedOutput(); err == nil {
		t.Errorf("interface %s still exists in %s after down:\n%s", ifname, ns, out)
	}
}
