package ipc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// serveServer is serve, but also returns the Server (to read its caps).
func serveServer(t *testing.T, e *Env, dir string, opts ServerOptions) (string, *Server) {
	t.Helper()
	sock := filepath.Join(dir, "wgpunch.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	opts.Controller = e.Svc
	opts.StateDir = e.Dir
	opts.Logf = t.Logf
	srv := NewServer(opts)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	testutil.Eventually(t, 5*time.Second, "Serve to start", func() bool {
		srv.lnMu.Lock()
		defer srv.lnMu.Unlock()
		return srv.ln != nil
	})
	return sock, srv
}

func (s *Server) openConns(uid int) (user, all int) {
	s.lnMu.Lock()
	ln := s.ln
	s.lnMu.Unlock()
	return ln.open(strconv.Itoa(uid))
}

// closedBy reports whether the server closed c within d (the read ends
// with EOF or a reset, not with our own deadline).
func closedBy(c net.Conn, d time.Duration) (bool, time.Duration) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	_, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false, time.Since(start)
	}
	return true, time.Since(start)
}

// TestConnCapsAndTimeouts: connections beyond the per-uid cap are closed
// as accepted; one that never sends a request is closed after the header
// timeout; a POST whose body never comes after the read timeout; and
// meanwhile a normal call from the same uid, within the cap, is answered
// at once.
func TestConnCapsAndTimeouts(t *testing.T) {
	a := NewEnv(t, true)
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	const hdr, body = 1500 * time.Millisecond, 2500 * time.Millisecond
	sock, srv := serveServer(t, a, t.TempDir(), ServerOptions{
		MaxConnsPerUser: 4, MaxConns: 100, ReadHeaderTimeout: hdr, ReadTimeout: body,
	})
	uid := os.Geteuid()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	idle := []net.Conn{dial(), dial()}
	stalled := dial()
	// Headers and half the body, then nothing.
	if _, err := fmt.Fprintf(stalled, "POST /v1/up HTTP/1.1\r\nHost: wgpunch\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "3 connections accepted", func() bool { n, _ := srv.openConns(uid); return n == 3 })
	start := time.Now()

	cl, err := Dial(sock) // the 4th slot; kept alive by the Client
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t0 := time.Now()
	if _, err := cl.List(ctx); err != nil {
		t.Fatalf("List with 3 idle connections held: %v", err)
	}
	if err := cl.Up(ctx, "home"); err != nil {
		t.Fatalf("Up with 3 idle connections held: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("List and Up took %v with idle connections held, want at once", d)
	}
	testutil.Eventually(t, 5*time.Second, "the Client's connection to be the 4th", func() bool { n, _ := srv.openConns(uid); return n == 4 })

	over := dial()
	if ok, d := closedBy(over, hdr/2); !ok {
		t.Errorf("connection over the per-uid cap of 4 still open after %v, want closed at once", d)
	}
	for i, c := range idle {
		if ok, _ := closedBy(c, 10*time.Second); !ok {
			t.Errorf("idle connection %d not closed", i)
		}
	}
	if d := time.Since(start); d < hdr-200*time.Millisecond {
		t.Errorf("idle connections closed after %v, before the header timeout %v", d, hdr)
	}
	if ok, _ := closedBy(stalled, 10*time.Second); !ok {
		t.Errorf("POST whose body never came not closed")
	}
	if d := time.Since(start); d < body-200*time.Millisecond {
		t.Errorf("stalled POST closed after %v, before the read timeout %v", d, body)
	}
	testutil.Eventually(t, 5*time.Second, "slots freed", func() bool { n, _ := srv.openConns(uid); return n <= 1 })
	// The Client's kept-alive connection still works.
	if _, err := cl.List(ctx); err != nil {
		t.Fatalf("List after the timeouts: %v", err)
	}
}

// TestSlowWatchNotCutByTimeouts: a watch stream outlives the read and
// write timeouts as long as it takes its events.
func TestSlowWatchNotCutByTimeouts(t *testing.T) {
	a := NewEnv(t, true)
	sock, _ := serveServer(t, a, t.TempDir(), ServerOptions{
		ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
	})
	cl, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := cl.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n := 0
	for time.Since(start) < 1500*time.Millisecond {
		if _, ok := <-ch; !ok {
			t.Fatalf("watch stream ended after %v and %d events, want it kept past the 300 ms timeouts", time.Since(start), n)
		}
		n++
	}
}

// The helper: run as uid 65534 by TestConnFloodOtherUser; opens as many
// connections as it can (up to WGPUNCH_HOG_N), says "ready N", holds them
// until stdin closes.
func TestHelperConnHog(t *testing.T) {
	sock := os.Getenv("WGPUNCH_HOG_SOCKET")
	if sock == "" {
		t.Skip("helper process for TestConnFloodOtherUser")
	}
	n, _ := strconv.Atoi(os.Getenv("WGPUNCH_HOG_N"))
	var conns []net.Conn
	for range n {
		c, err := net.Dial("unix", sock)
		if err == nil {
			conns = append(conns, c)
		}
	}
	fmt.Printf("ready %d\n", len(conns))
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// TestConnFloodOtherUser: another user's 3,000 idle connections do not
// keep a group member (here root) from bringing a tunnel up at once; the
// per-uid cap holds the flood to its share, and the idle ones are closed
// after the header timeout.
func TestConnFloodOtherUser(t *testing.T) {
	testutil.RequireRoot(t, "run the flooding client as another uid")
	dir, err := os.MkdirTemp("", "wgpunch-h8-ipc-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ipc.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	a := NewEnv(t, true)
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	const hdr = 2 * time.Second
	sock, srv := serveServer(t, a, dir, ServerOptions{ReadHeaderTimeout: hdr}) // default caps

	cmd := exec.Command(bin, "-test.run=^TestHelperConnHog$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WGPUNCH_HOG_SOCKET="+sock, "WGPUNCH_HOG_N=3000", "HOME=/")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		t.Fatalf("helper: %q, %v", line, err)
	}
	t.Logf("helper as uid 65534 made %s connections", strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	testutil.Eventually(t, 5*time.Second, "uid 65534 to hold its cap", func() bool {
		n, _ := srv.openConns(65534)
		return n == DefaultMaxConnsPerUser
	})

	t0 := time.Now()
	cl, err := Dial(sock)
	if err != nil {
		t.Fatalf("root dial during the flood: %v", err)
	}
	defer cl.Close()
	if err := cl.Up(ctx, "home"); err != nil {
		t.Fatalf("Up during the flood: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Up during another user's flood took %v, want at once", d)
	}
	if n, all := srv.openConns(65534); n > DefaultMaxConnsPerUser || all > DefaultMaxConnsPerUser+1 {
		t.Errorf("uid 65534 holds %d connections (%d in all), want at most its cap %d", n, all, DefaultMaxConnsPerUser)
	}
	testutil.Eventually(t, 10*time.Second, "the flood's idle connections closed after the header timeout", func() bool {
		n, _ := srv.openConns(65534)
		return n == 0
	})
	if DefaultMaxConns < 4*DefaultMaxConnsPerUser {
		t.Errorf("total cap %d is not above a few users' caps (%d each)", DefaultMaxConns, DefaultMaxConnsPerUser)
	}
}

// TestUnitLimitNOFILE: the packaged unit's LimitNOFILE leaves room for
// the connection cap plus the daemon's other descriptors.
func TestUnitLimitNOFILE(t *testing.T) {
	data, err := os.ReadFile("../../installer/linux/wgpunch.service")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "LimitNOFILE="); ok {
			got = append(got, v)
		}
	}
	if len(got) != 1 {
		t.Fatalf("unit has LimitNOFILE=%q, want one line", got)
	}
	n, err := strconv.Atoi(got[0])
	if err != nil || n < 2*DefaultMaxConns {
		t.Errorf("LimitNOFILE=%s, want a number at least twice DefaultMaxConns (%d)", got[0], DefaultMaxConns)
	}
}
