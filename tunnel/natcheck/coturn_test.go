package natcheck

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// syncBuffer collects a child's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCoturn runs a real coturn in STUN-only mode on 127.0.0.2:port and
// 127.0.0.3:port, with no config file, and stops it when the test ends.
func startCoturn(t *testing.T) (string, string) {
	t.Helper()
	s := startCoturnOn(t, "127.0.0.2", "127.0.0.3")
	return s[0], s[1]
}

// startCoturnOn runs coturn on the given addresses, one port for all, and
// returns them as host:port.
func startCoturnOn(t *testing.T, ips ...string) []string {
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("turnserver (Debian package coturn) is not installed")
	}
	port := freeUDPPort(t)
	dir := t.TempDir()
	out := &syncBuffer{}
	args := []string{"-n", "--stun-only"}
	for _, ip := range ips {
		args = append(args, "--listening-ip", ip)
	}
	args = append(args, "--listening-port", strconv.Itoa(int(port)),
		"--no-cli", "--no-tls", "--no-dtls", "--no-software-attribute",
		"--log-file", "stdout", "--simple-log",
		"--pidfile", filepath.Join(dir, "turnserver.pid"),
		"--db", filepath.Join(dir, "turndb"))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start turnserver: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("turnserver output:\n%s", out.String())
		}
	})
	var addrs []string
	for _, ip := range ips {
		s := net.JoinHostPort(ip, strconv.Itoa(int(port)))
		waitSTUN(t, s)
		addrs = append(addrs, s)
	}
	return addrs
}

// waitSTUN waits until server answers a binding request.
func waitSTUN(t *testing.T, server string) {
	t.Helper()
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		m := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
		c.WriteTo(m.Raw, to)
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := c.ReadFrom(buf); err == nil && stun.IsMessage(buf[:n]) {
			return
		}
	}
	t.Fatalf("turnserver on %s did not answer within 10 s", server)
}

// TestCheckCoturn probes a real coturn on two loopback addresses. The
// machine has no NAT towards them, so the mapping must be "none" and
// both must see our port.
func TestCheckCoturn(t *testing.T) {
	a, b := startCoturn(t)
	port := freeUDPPort(t)
	var seen []ServerResult
	r, err := Check(context.Background(), Options{
		LocalPort: port,
		Servers:   []string{a, b},
		Progress:  func(s ServerResult) { seen = append(seen, s) },
		Logf:      t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1:" + strconv.Itoa(int(port))
	if r.Mapping != MappingNone || r.Verdict != VerdictOK || !r.PortPreserved || r.PublicEndpoint != want {
		t.Errorf("report %+v, want mapping none, ok, port preserved, endpoint %s", r, want)
	}
	if len(seen) != 2 {
		t.Fatalf("Progress saw %d servers, want 2", len(seen))
	}
	for _, s := range seen {
		if s.Mapped != want || s.Error != "" {
			t.Errorf("coturn %s: mapped %q error %q, want %s", s.Server, s.Mapped, s.Error, want)
		}
	}
}

// TestCheckCoturnIPv6 asks a real coturn on 127.0.0.2 and ::1: both halves
// see this machine's own addresses, so both say no NAT, and the IPv6 half
// links directly.
func TestCheckCoturnIPv6(t *testing.T) {
	need6(t)
	if _, err := exec.LookPath("turnserver"); err != nil {
		t.Skip("turnserver (Debian package coturn) is not installed")
	}
	s := startCoturnOn(t, "127.0.0.2", "::1")
	port := freeUDPPort(t)
	r, err := Check(context.Background(), Options{LocalPort: port, Servers: s, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	want6 := net.JoinHostPort("::1", strconv.Itoa(int(port)))
	if r.IPv6.Mapping != MappingNone || r.IPv6.Verdict != VerdictOK || r.IPv6.PublicEndpoint != want6 {
		t.Errorf("IPv6 half %+v, want no NAT, ok, endpoint %s", r.IPv6, want6)
	}
	if r.Mapping != MappingNone || r.PublicEndpoint != "127.0.0.1:"+strconv.Itoa(int(port)) {
		t.Errorf("IPv4 half: mapping %q endpoint %q, want none at 127.0.0.1:%d", r.Mapping, r.PublicEndpoint, port)
	}
}
