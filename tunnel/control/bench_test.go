package control

import (
	"fmt"
	"testing"
)

// benchEnv has n tunnels, each up with one peer.
func benchEnv(b *testing.B, n int) *env {
	e := newEnv(b, true)
	peer := newEnv(b, false)
	for i := 0; i < n; i++ {
		inv, err := e.svc.Invite(ctx, InviteRequest{Name: fmt.Sprintf("t%d", i), Endpoint: fmt.Sprintf("198.51.100.1:%d", 52000+i)})
		if err != nil {
			b.Fatal(err)
		}
		acc, err := peer.svc.Accept(ctx, AcceptRequest{Name: fmt.Sprintf("p%d", i), Token: inv.Token, Endpoint: fmt.Sprintf("203.0.113.1:%d", 53000+i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.Accept(ctx, AcceptRequest{Token: acc.Reply}); err != nil {
			b.Fatal(err)
		}
		if err := e.svc.Up(ctx, fmt.Sprintf("t%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// BenchmarkStatus is one Status call (what Watch does every second) with
// 10 tunnels, in process.
func BenchmarkStatus(b *testing.B) {
	e := benchEnv(b, 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.svc.Status(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusOverSocket is the same through the Unix socket.
func BenchmarkStatusOverSocket(b *testing.B) {
	e := benchEnv(b, 10)
	sock := serveBench(b, e)
	cl, err := Dial(sock)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Status(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func serveBench(b *testing.B, e *env) string {
	sock := b.TempDir() + "/s.sock"
	ln, err := Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer(ServerOptions{Controller: e.svc})
	go srv.Serve(ln)
	b.Cleanup(func() { srv.hs.Close() })
	return sock
}
