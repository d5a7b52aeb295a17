package instance

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOneInstance(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	path, err := Path("app", "socket\x00state")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("instance dir: %v %v, want mode 0700", fi.Mode(), err)
	}
	other, _ := Path("app", "another state")
	if other == path {
		t.Fatal("two keys share a socket")
	}
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Request, 1)
	go s.Serve(func(r Request) { got <- r })
	if _, err := Listen(path); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Listen: %v, want ErrRunning", err)
	}
	want := Request{Action: ActionUpdate, Peer: "Bob", Update: "WGP1U-x"}
	if err := Send(context.Background(), path, want); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r != want {
			t.Fatalf("got %+v, want %+v", r, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request never arrived")
	}
	if err := Send(context.Background(), path, Request{Action: "format-disk"}); err == nil {
		t.Fatal("an unknown action was accepted")
	}
	s.Close()
	if Alive(path) {
		t.Fatal("alive after Close")
	}
}

// A socket file left by a process that died is taken over.
func TestStaleSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody listens
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale file missing: %v", err)
	}
	s, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer s.Close()
	go s.Serve(func(Request) {})
	if !Alive(path) {
		t.Fatal("the new instance does not answer")
	}
}

func TestRequestTooLong(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	s, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	called := false
	go s.Serve(func(Request) { called = true })
	big := make([]byte, maxRequest*2)
	for i := range big {
		big[i] = 'a'
	}
	err = Send(context.Background(), path, Request{Action: ActionShow, Update: string(big)})
	if err == nil || called {
		t.Fatalf("an oversized request was handled (err %v)", err)
	}
}
