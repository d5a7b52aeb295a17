package ipc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

var ctx = context.Background()

// serve runs a Server for e.Svc on a socket in dir and returns its path.
func serve(t *testing.T, e *Env, dir string, opts ServerOptions) string {
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
	return sock
}

func TestClientOverSocket(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	sock := serve(t, a, t.TempDir(), ServerOptions{})
	cl, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Info.StateDir != a.Dir || !cl.Info.Privileged || cl.Info.PID != os.Getpid() {
		t.Errorf("ping info %+v", cl.Info)
	}
	inv, err := cl.Invite(ctx, InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.QRPNG) == 0 || inv.Token == "" {
		t.Fatal("empty invite over the socket")
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "127.0.0.1:51821"})
	if err != nil {
		t.Fatal(err)
	}
	before := a.Snapshot()
	pre, err := cl.PreviewAccept(ctx, AcceptRequest{Name: "home", Token: acc.Reply})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(before, a.Snapshot()); d != "" {
		t.Errorf("PreviewAccept over the socket changed the state dir (-before +after):\n%s", d)
	}
	res, err := cl.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply})
	if err != nil {
		t.Fatal(err)
	}
	if res.SafetyCode != acc.SafetyCode || pre.SafetyCode != acc.SafetyCode {
		t.Errorf("safety codes %q (preview) %q vs %q", pre.SafetyCode, res.SafetyCode, acc.SafetyCode)
	}
	if pre.RouteSummary == "" || pre.RouteSummary != res.RouteSummary || !cmp.Equal(pre.Routes, res.Routes) {
		t.Errorf("preview routes %v %q, accept %v %q", pre.Routes, pre.RouteSummary, res.Routes, res.RouteSummary)
	}
	cfg, err := cl.Show(ctx, "home")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interface.PrivateKey != ([32]byte{}) {
		t.Error("Show leaked the private key")
	}
	if len(cfg.Peers) != 1 || cfg.Peers[0].Endpoint.String() != "127.0.0.1:51821" {
		t.Errorf("Show peers %+v", cfg.Peers)
	}
	priv := a.Load("home").Interface.PrivateKey.String()
	exp, err := cl.Export(ctx, "home", false)
	if err != nil || strings.Contains(string(exp), priv) {
		t.Errorf("Export without key: err %v, leaked %v", err, strings.Contains(string(exp), priv))
	}
	exp, err = cl.Export(ctx, "home", true)
	if err != nil || !strings.Contains(string(exp), priv) {
		t.Errorf("Export with key: err %v", err)
	}
	if err := cl.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	rep, err := cl.Status(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tunnels) != 1 || !rep.Tunnels[0].Up || rep.Tunnels[0].Peers[0].SafetyCode != acc.SafetyCode {
		t.Errorf("status %+v", rep)
	}
	names, err := cl.List(ctx)
	if err != nil || !cmp.Equal(names, []string{"home"}) {
		t.Errorf("List = %v, %v", names, err)
	}
	p, err := cl.FreePort(ctx)
	if err != nil || p == 0 || p == 51820 {
		t.Errorf("FreePort = %d, %v", p, err)
	}

	// Sentinel errors survive the socket.
	a.Busy[40001] = true
	errTests := []struct {
		name string
		err  error
		want error
	}{
		{"show missing", func() error { _, err := cl.Show(ctx, "nope"); return err }(), ErrNotFound},
		{"garbage token", func() error { _, err := cl.Accept(ctx, AcceptRequest{Name: "x", Token: "garbage"}); return err }(), ErrInvalidInput},
		{"garbage token previewed", func() error {
			_, err := cl.PreviewAccept(ctx, AcceptRequest{Name: "x", Token: "garbage"})
			return err
		}(), ErrInvalidInput},
		{"reply previewed again", func() error { _, err := cl.PreviewAccept(ctx, AcceptRequest{Token: acc.Reply}); return err }(), ErrExists},
		{"busy port", cl.SetListenPort(ctx, "home", 40001), ErrPortInUse},
		{"exists", cl.Rename(ctx, "home", "home2"), nil},
		{"rename onto existing", func() error {
			if _, err := cl.Invite(ctx, InviteRequest{Name: "t2", Endpoint: "127.0.0.1:5"}); err != nil {
				return err
			}
			return cl.Rename(ctx, "home2", "t2")
		}(), ErrExists},
	}
	for _, tt := range errTests {
		if tt.want == nil {
			if tt.err != nil {
				t.Errorf("%s: %v", tt.name, tt.err)
			}
			continue
		}
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want errors.Is %v", tt.name, tt.err, tt.want)
		}
	}

	// Watch streams reports until cancelled.
	wctx, cancel := context.WithCancel(ctx)
	ch, err := cl.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case r, ok := <-ch:
			if !ok || len(r.Tunnels) != 2 {
				t.Fatalf("watch report %v %+v", ok, r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no watch report")
		}
	}
	cancel()
	for range ch {
	}
}

func TestDialWithoutDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, err := Dial(sock)
	if !errors.Is(err, ErrNeedDaemon) || !strings.Contains(err.Error(), "systemctl start wgpunch") {
		t.Errorf("Dial = %v, want ErrNeedDaemon with a hint", err)
	}
	// A stale socket file is replaced; a live one is refused.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(sock); err == nil || !strings.Contains(err.Error(), "already answers") {
		t.Errorf("Listen on a live socket = %v", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	ln2, err := Listen(sock)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	fi, _ := os.Stat(sock)
	if fi.Mode().Perm() != 0o666 {
		t.Errorf("socket mode %v, want 0666", fi.Mode().Perm())
	}
	ln2.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind after Close: %v", err)
	}
}
