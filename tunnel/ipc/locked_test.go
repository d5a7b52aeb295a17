package ipc

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// TestLockedCrossesSocket: while another process (here another Store on
// the same directory) holds the state directory's lock, a change over the
// socket fails with store.ErrLocked on the Client, naming the holder.
func TestLockedCrossesSocket(t *testing.T) {
	a := controltest.NewEnv(t, false)
	if _, err := a.Svc.Invite(ctx, control.InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	cl, err := Dial(serve(t, a, t.TempDir(), ServerOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	other, err := store.Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	other.SetRole(RoleCLI)
	unlock, err := other.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = cl.Rename(ctx, "home", "work") // waits store.DefaultLockWait
	unlock()
	want := fmt.Sprintf("(the command line, pid %d)", os.Getpid())
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Rename over the socket while locked = %v, want store.ErrLocked naming %s", err, want)
	}
	var re *remoteError
	if !errors.As(err, &re) || re.code != "locked" {
		t.Errorf("wire error %#v, want code locked", re)
	}
	if code, status := errCode(fmt.Errorf("rename: %w", &store.LockedError{Dir: a.Dir})); code != "locked" || status != 423 {
		t.Errorf("errCode(*store.LockedError) = %s %d, want locked 423", code, status)
	}
	if _, err := a.St.Load("home"); err != nil {
		t.Errorf("home after the refused rename: %v", err)
	}
	// Unlocked, the same call works.
	if err := cl.Rename(ctx, "home", "work"); err != nil {
		t.Errorf("Rename after unlock: %v", err)
	}
}
