package lab

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Host is a lab machine: its own network namespace plus its own mount
// namespace with a private /var/run/wireguard and its own hostname. holder is a long-lived
// process that keeps both; commands enter them with nsenter, so every
// command for this host (the daemon, wg show, wireguard-go) sees the same
// /var/run/wireguard and no other host's.
type Host struct {
	lab      *Lab
	Name     string
	Hostname string // its UTS hostname (what WG Punch announces); Name unless set
	NS       string // network namespace
	Addr     string // its own address (LAN, or public for a direct host)
	Dir      string // scratch files for this host, 0755
	holder   *Proc

	StateDir string // wgpunch --state-dir
	Socket   string // wgpunch --socket
	daemon   *Proc
}

func (l *Lab) newHost(name, hostname, ns, addr string) *Host {
	l.t.Helper()
	dir := filepath.Join(l.Dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		l.t.Fatal(err)
	}
	h := &Host{lab: l, Name: name, Hostname: hostname, NS: ns, Addr: addr, Dir: dir,
		StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "wgpunch.sock")}
	h.startHolder()
	l.mu.Lock()
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()
	return h
}

// startHolder starts the process that owns the host's mount namespace and
// waits until its tmpfs is mounted.
func (h *Host) startHolder() {
	l := h.lab
	l.t.Helper()
	// Own UTS namespace too, so each host has its own hostname (what
	// WG Punch announces on the LAN and puts in invites).
	script := `mount --make-rprivate / && mount -t tmpfs -o mode=0755 tmpfs /var/run/wireguard && hostname ` + h.Hostname + ` && echo ready && exec sleep infinity`
	cmd := exec.Command("ip", "netns", "exec", h.NS, "unshare", "-m", "-u", "--propagation", "private", "sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	logPath := filepath.Join(h.Dir, "holder.log")
	f, err := os.Create(logPath)
	if err != nil {
		l.t.Fatal(err)
	}
	defer f.Close()
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start namespace holder for %s: %v", h.Name, err)
	}
	p := &Proc{Name: h.Name + "-holder", Log: logPath, cmd: cmd, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("unexpected %q", line)
		}
		ready <- err
		p.err = cmd.Wait()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	h.holder = p
	select {
	case err := <-ready:
		if err != nil {
			l.t.Fatalf("namespace holder for %s: %v: %s", h.Name, err, p.Output())
		}
	case <-time.After(10 * time.Second):
		l.t.Fatalf("namespace holder for %s did not get ready: %s", h.Name, p.Output())
	}
}

// enter prefixes args so that they run in the host's namespaces.
func (h *Host) enter(args ...string) []string {
	return append([]string{"nsenter", "-t", fmt.Sprint(h.holder.Pid()), "-m", "-n", "-u", "--"}, args...)
}

// Run runs a command on the host and returns its combined output.
func (h *Host) Run(args ...string) (string, error) {
	return runCmd(60*time.Second, nil, h.enter(args...)...)
}

// Must is Run that fails the test on error.
func (h *Host) Must(args ...string) string {
	h.lab.t.Helper()
	out, err := h.Run(args...)
	if err != nil {
		h.lab.t.Fatalf("%s: %v", h.Name, err)
	}
	return out
}

// Start starts a background process on the host.
func (h *Host) Start(name string, args ...string) *Proc {
	h.lab.t.Helper()
	return h.lab.Start(h.Name+"-"+name, h.enter(args...)...)
}

// Ping sends one ping with a one-second wait.
func (h *Host) Ping(addr string) bool {
	_, err := h.Run("ping", "-n", "-q", "-c", "1", "-W", "1", addr)
	return err == nil
}

// WaitPing pings addr until it answers and returns how long that took.
func (h *Host) WaitPing(addr string, timeout time.Duration) (time.Duration, error) {
	return waitFor(timeout, 0, func() (bool, string) {
		return h.Ping(addr), fmt.Sprintf("%s cannot ping %s", h.Name, addr)
	})
}

// Links lists the host's network interfaces.
func (h *Host) Links() []string {
	out, _ := h.Run("ip", "-br", "link", "show")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, strings.SplitN(f[0], "@", 2)[0])
		}
	}
	return names
}

// UAPISockets lists the host's private /var/run/wireguard.
func (h *Host) UAPISockets() []string {
	out, _ := h.Run("ls", "-A", "/var/run/wireguard")
	return strings.Fields(out)
}

// TCPTransfer sends n random bytes from h to dst's listener on addr:port
// (addr being one of dst's addresses) and checks they arrive intact.
func TCPTransfer(src, dst *Host, addr string, port, n int) error {
	return TCPTransferVia(src, dst, addr, addr, port, n)
}

// TCPTransferVia is TCPTransfer to dst's listener on listen, which src
// reaches as addr (an alias of it).
func TCPTransferVia(src, dst *Host, addr, listen string, port, n int) error {
	in := filepath.Join(src.Dir, fmt.Sprintf("tcp-%d.in", port))
	out := filepath.Join(dst.Dir, fmt.Sprintf("tcp-%d.out", port))
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return err
	}
	ln := dst.Start(fmt.Sprintf("nc-listen-%d", port), "sh", "-c",
		fmt.Sprintf("exec nc -l -n %s %d > %s", listen, port, out))
	defer ln.Stop()
	// Wait for the listener.
	if _, err := waitFor(5*time.Second, 50*time.Millisecond, func() (bool, string) {
		o, _ := dst.Run("ss", "-Htln")
		return strings.Contains(o, fmt.Sprintf("%s:%d", listen, port)), "no listener: " + o
	}); err != nil {
		return err
	}
	if _, err := src.Run("sh", "-c", fmt.Sprintf("nc -n -N -w 10 %s %d < %s", addr, port, in)); err != nil {
		return err
	}
	select {
	case <-ln.done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("listener on %s did not finish", dst.Name)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	if len(got) != n || string(got) != string(data) {
		return fmt.Errorf("TCP %s -> %s %s:%d: sent %d bytes, received %d, equal=%v",
			src.Name, dst.Name, addr, port, n, len(got), string(got) == string(data))
	}
	return nil
}
