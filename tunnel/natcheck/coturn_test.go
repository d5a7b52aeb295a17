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
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("turnserver (Debian package coturn) is not installed")
	}
	port := freeUDPPort(t)
	dir := t.TempDir()
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-n", "--stun-only",
		"--listening-ip", "127.0.0.2", "--listening-ip", "127.0.0.3",
		"--listening-port", strconv.Itoa(int(port)),
		"--no-cli", "--no-tls", "--no-dtls", "--no-software-attribute",
		"--log-file", "stdout", "--simple-log",
		"--pidfile", filepath.Join(dir, "turnserver.pid"),
		"--db", filepath.Join(dir, "turndb"))
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
	a := net.JoinHostPort("127.0.0.2", strconv.Itoa(int(port)))
	b := net.JoinHostPort("127.0.0.3", strconv.Itoa(int(port)))
	for _, s := range []string{a, b} {
		waitSTUN(t, s)
	}
	return a, b
}

// waitSTUN waits until server answers a binding request.
func waitSTUN(t *testing.T, server string) {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to, err := net.ResolveUDPAddr("udp4", server)
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
