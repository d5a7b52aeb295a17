package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// nsPrefix starts the name of every network namespace the lab creates.
const nsPrefix = "wgplab-"

// Internet-side addresses (TEST-NET ranges, only ever inside lab namespaces).
const (
	inetGateway = "203.0.113.254"
	stunIP1     = "198.51.100.1"
	stunIP2     = "198.51.100.2"
	stunPort    = 3478
)

// stunServers is the --stun value pointing at the lab's two coturn addresses.
var stunServers = fmt.Sprintf("%s:%d,%s:%d", stunIP1, stunPort, stunIP2, stunPort)

// requiredTools are the programs every lab test runs, with their Debian package.
var requiredTools = map[string]string{
	"ip":           "iproute2",
	"iptables":     "iptables",
	"nft":          "nftables",
	"conntrack":    "conntrack",
	"turnserver":   "coturn",
	"wireguard-go": "wireguard-go",
	"wg":           "wireguard-tools",
	"wg-quick":     "wireguard-tools",
	"nc":           "netcat-openbsd",
	"ping":         "iputils-ping",
	"nsenter":      "util-linux",
	"unshare":      "util-linux",
	"setpriv":      "util-linux",
	"sha256sum":    "coreutils",
}

var (
	labCheckOnce sync.Once
	labSkip      string
)

// requireLab skips t unless this machine can run the lab (root, working
// `ip netns`, /dev/net/tun) and fails it when a tool in requiredTools is
// missing: scripts/deps.sh test installs them all.
func requireLab(t testing.TB) {
	t.Helper()
	if os.Getenv("WGPUNCH_LAB") == "0" {
		t.Skip("network lab unavailable: WGPUNCH_LAB=0")
	}
	testutil.RequireRoot(t, "the network lab (network namespaces, iptables, TUN devices); run as root, e.g. sudo go test ./lab/")
	for _, tool := range slices.Sorted(maps.Keys(requiredTools)) {
		testutil.RequireTool(t, tool, requiredTools[tool])
	}
	labCheckOnce.Do(func() { labSkip = labUnavailable() })
	if labSkip != "" {
		t.Skipf("network lab unavailable: %s", labSkip)
	}
}

// labUnavailable says why this root machine with the tools cannot run the
// lab ("" when it can).
func labUnavailable() string {
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return "no /dev/net/tun: " + err.Error()
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		return fmt.Sprintf("`ip netns` does not work: %v: %s", err, bytes.TrimSpace(out))
	}
	// Root in a container may still lack CAP_SYS_ADMIN or netfilter:
	// try the things the lab does in a throwaway namespace.
	probe := fmt.Sprintf("%sprobe-%d", nsPrefix, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", probe).CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot create a network namespace (a container without CAP_SYS_ADMIN/CAP_NET_ADMIN?): %v: %s", err, bytes.TrimSpace(out))
	}
	defer exec.Command("ip", "netns", "del", probe).Run()
	for _, args := range [][]string{
		{"ip", "link", "add", "p0", "type", "veth", "peer", "name", "p1"},
		{"ip", "link", "add", "b0", "type", "bridge"},
		{"iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "p0", "-j", "MASQUERADE", "--random-fully"},
		{"iptables", "-A", "INPUT", "-i", "p0", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"conntrack", "-F"},
		{"unshare", "-m", "-u", "--propagation", "private", "true"},
	} {
		cmd := exec.Command("ip", append([]string{"netns", "exec", probe}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Sprintf("`%s` fails in a network namespace (missing kernel support?): %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	// Each host mounts a private tmpfs here; the mount point must exist.
	if err := os.MkdirAll("/var/run/wireguard", 0o755); err != nil {
		return err.Error()
	}
	return ""
}

// Lab is one test's set of namespaces and processes. Everything it creates
// is removed by the t.Cleanup that New registers, even when the test fails.
type Lab struct {
	t   testing.TB
	ID  string // random, part of every namespace name
	Dir string // 0755 scratch directory (hosts' state dirs and sockets)

	mu     sync.Mutex
	netns  []string
	procs  []*Proc
	hosts  []*Host
	closed bool
}

// New creates an empty lab for t, or skips t when the lab cannot run here.
func New(t testing.TB) *Lab {
	t.Helper()
	requireLab(t)
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(b[:])
	// Not t.TempDir: its parents are 0700, and the socket test needs an
	// unprivileged user to reach the daemon's socket.
	dir, err := os.MkdirTemp("", nsPrefix+id+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l := &Lab{t: t, ID: id, Dir: dir}
	t.Cleanup(l.Close)
	return l
}

// nsName is the lab's name for a namespace playing role.
func (l *Lab) nsName(role string) string { return nsPrefix + l.ID + "-" + role }

// AddNS creates a network namespace with loopback up and returns its name.
func (l *Lab) AddNS(role string) string {
	l.t.Helper()
	name := l.nsName(role)
	l.Must("ip", "netns", "add", name)
	l.mu.Lock()
	l.netns = append(l.netns, name)
	l.mu.Unlock()
	l.Must("ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// Run runs a command in the root namespace and returns its combined output.
func (l *Lab) Run(args ...string) (string, error) {
	return runCmd(30*time.Second, nil, args...)
}

// Must is Run that fails the test on error.
func (l *Lab) Must(args ...string) string {
	l.t.Helper()
	out, err := l.Run(args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// InNS runs a command inside namespace ns (no private mounts).
func (l *Lab) InNS(ns string, args ...string) (string, error) {
	return l.Run(append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// MustNS is InNS that fails the test on error.
func (l *Lab) MustNS(ns string, args ...string) string {
	l.t.Helper()
	out, err := l.InNS(ns, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// runCmd runs args with a timeout; the error carries the command and its output.
func runCmd(timeout time.Duration, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", timeout)
		}
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Proc is a background process the lab started and will stop.
type Proc struct {
	Name string
	Log  string // file with its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts a background process whose output goes to a log file in
// the lab directory. It is stopped by Close if still running.
func (l *Lab) Start(name string, args ...string) *Proc {
	l.t.Helper()
	p, err := l.start(name, args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return p
}

func (l *Lab) start(name string, args ...string) (*Proc, error) {
	logPath := filepath.Join(l.Dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM, waits up to 5 s, then kills the process group the
// lab created for it. It returns the process's exit error, if any, unless
// the exit was caused by the signal.
func (p *Proc) Stop() error {
	if !p.Running() {
		return p.exitErr()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s (pid %d) ignored SIGTERM for 5s; killed", p.Name, p.Pid())
	}
	// Children left in its process group (there should be none).
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	return p.exitErr()
}

func (p *Proc) exitErr() error {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return nil
		}
	}
	return p.err
}

// Output returns what the process has logged so far.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}

// Close stops every process, deletes every namespace and checks that
// nothing is left. New registers it with t.Cleanup.
func (l *Lab) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	procs := append([]*Proc(nil), l.procs...)
	netns := append([]string(nil), l.netns...)
	hosts := append([]*Host(nil), l.hosts...)
	l.mu.Unlock()
	t := l.t

	if t.Failed() || testing.Verbose() && os.Getenv("WGPUNCH_LAB_LOGS") != "" {
		for _, p := range procs {
			t.Logf("---- log of %s (pid %d) ----\n%s", p.Name, p.Pid(), tail(p.Output(), 60))
		}
	}
	// Daemons and tools first, the hosts' namespace holders last.
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(); err != nil && !t.Failed() {
			t.Logf("stop %s: %v", procs[i].Name, err)
		}
	}
	for _, ns := range netns {
		out, _ := l.Run("ip", "netns", "pids", ns)
		if pids := strings.Fields(out); len(pids) > 0 {
			t.Errorf("processes left in namespace %s after stopping everything: %v", ns, pids)
			for _, pid := range pids {
				var n int
				if _, err := fmt.Sscan(pid, &n); err == nil && n > 1 {
					_ = syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
	}
	for _, ns := range netns {
		if out, err := l.Run("ip", "netns", "del", ns); err != nil {
			t.Errorf("delete namespace %s: %v %s", ns, err, out)
		}
	}
	// Final check: no namespace, process or socket of this lab is left.
	out, _ := l.Run("ip", "netns", "list")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, nsPrefix+l.ID) {
			t.Errorf("namespace left behind: %s", line)
		}
	}
	for _, p := range procs {
		if p.Running() {
			t.Errorf("process left running: %s pid %d", p.Name, p.Pid())
		}
	}
	for _, h := range hosts {
		if h.Socket == "" {
			continue
		}
		if _, err := os.Stat(h.Socket); err == nil {
			t.Errorf("control socket left behind after the daemon stopped: %s", h.Socket)
		}
	}
	if t.Failed() && os.Getenv("WGPUNCH_LAB_KEEP") != "" {
		t.Logf("keeping %s (WGPUNCH_LAB_KEEP)", l.Dir)
		return
	}
	if err := os.RemoveAll(l.Dir); err != nil {
		t.Errorf("remove %s: %v", l.Dir, err)
	}
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// waitFor polls cond every interval until it reports true or timeout
// passes. It returns how long it took, or an error with cond's last note.
func waitFor(timeout, interval time.Duration, cond func() (bool, string)) (time.Duration, error) {
	start := time.Now()
	var note string
	for {
		var ok bool
		ok, note = cond()
		if ok {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("not after %v: %s", timeout, note)
		}
		time.Sleep(interval)
	}
}
