package ipc

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/engine"
)

// TestEnginePortInUseCrossesSocket: a port the engine finds taken only when
// it binds (engine.ErrPortInUse, wrapped) reaches the Client as
// control.ErrPortInUse with its own code, not as an internal error.
func TestEnginePortInUseCrossesSocket(t *testing.T) {
	a := controltest.NewEnv(t, true)
	if _, err := a.Svc.Invite(ctx, control.InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	a.Eng.Mu.Lock()
	a.Eng.FailUp = fmt.Errorf("listen on UDP port 51820: %w", engine.ErrPortInUse)
	a.Eng.Mu.Unlock()
	cl, err := Dial(serve(t, a, t.TempDir(), ServerOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.Up(ctx, "home")
	if !errors.Is(err, control.ErrPortInUse) || !strings.Contains(err.Error(), "51820") {
		t.Fatalf("Up over the socket = %v, want control.ErrPortInUse naming the port", err)
	}
	var re *remoteError
	if !errors.As(err, &re) || re.code != "port_in_use" {
		t.Errorf("wire error %#v, want code port_in_use", re)
	}
	if code, status := errCode(fmt.Errorf("bring tunnel up: %w", engine.ErrPortInUse)); code != "port_in_use" || status != 409 {
		t.Errorf("errCode(engine.ErrPortInUse) = %s %d, want port_in_use 409", code, status)
	}
}

// TestLocalLANsOverSocket: the UI's LAN choices come from the daemon's
// machine, skipping our tunnels' interfaces.
func TestLocalLANsOverSocket(t *testing.T) {
	var skipped [][]string
	want := []control.LAN{{Prefix: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}}
	a := controltest.NewEnv(t, true, func(o *control.ServiceOptions) {
		o.NetInfo = controltest.FakeNet{LANList: want, Skipped: &skipped}
	})
	if _, err := a.Svc.Invite(ctx, control.InviteRequest{Name: "home", Endpoint: "127.0.0.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	cl, err := Dial(serve(t, a, t.TempDir(), ServerOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got, err := cl.LocalLANs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("LocalLANs = %v, want %v", got, want)
	}
	if len(skipped) != 1 || !slices.Contains(skipped[0], "home") {
		t.Errorf("LANs skipped %v, want our tunnel home among them", skipped)
	}
}
