package ipc

import (
	"testing"

	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// BenchmarkStatusOverSocket is the same through the Unix socket.
func BenchmarkStatusOverSocket(b *testing.B) {
	e := NewLinkedEnv(b, 10)
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

func serveBench(b *testing.B, e *Env) string {
	sock := b.TempDir() + "/s.sock"
	ln, err := Listen(sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer(ServerOptions{Controller: e.Svc})
	go srv.Serve(ln)
	b.Cleanup(func() { srv.hs.Close() })
	return sock
}
