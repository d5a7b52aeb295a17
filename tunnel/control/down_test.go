package control_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/engine"
)

// TestDownWhenDeviceVanished: a tunnel whose device is gone (the engine
// no longer runs it and its Down fails) is taken as down, so Down, Remove
// and Rename still work; a Down that fails on a running tunnel is
// reported, once-prefixed.
func TestDownWhenDeviceVanished(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	exchange(t, a, b)
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}

	// Still running, Down fails: the error is reported, with one prefix.
	a.Eng.Mu.Lock()
	a.Eng.FailDown = errors.New(`take tunnel "home" down: close control socket: file already closed`)
	a.Eng.Mu.Unlock()
	err := a.Svc.Down(ctx, "home")
	if err == nil || strings.Count(err.Error(), `take tunnel "home" down`) != 1 {
		t.Fatalf("Down while running and failing = %v, want the engine's error once", err)
	}
	if _, up := IfaceOf(a.Svc, "home"); !up {
		t.Fatal("a failed Down of a running tunnel forgot it is up")
	}

	// The device vanished: the engine does not run it and Down fails.
	a.Eng.Mu.Lock()
	delete(a.Eng.Cfgs, "home")
	a.Eng.FailDown = fmt.Errorf(`take tunnel "home" down: %w`, engine.ErrNotUp)
	a.Eng.Mu.Unlock()
	if err := a.Svc.Rename(ctx, "home", "home2"); err != nil {
		t.Fatalf("Rename after the device vanished: %v", err)
	}
	a.Eng.Mu.Lock()
	delete(a.Eng.Cfgs, "home2") // Rename brought it up again; it vanishes again
	a.Eng.Mu.Unlock()
	if err := a.Svc.Down(ctx, "home2"); err != nil {
		t.Fatalf("Down after the device vanished: %v", err)
	}
	if got := a.UpSet(); len(got) != 0 {
		t.Errorf("up-set after Down = %q, want empty", got)
	}
	if err := a.Svc.Up(ctx, "home2"); err != nil {
		t.Fatal(err)
	}
	a.Eng.Mu.Lock()
	delete(a.Eng.Cfgs, "home2")
	a.Eng.Mu.Unlock()
	if err := a.Svc.Remove(ctx, "home2"); err != nil {
		t.Fatalf("Remove after the device vanished: %v", err)
	}
	if names, _ := a.Svc.List(ctx); len(names) != 0 {
		t.Errorf("tunnels after Remove: %q", names)
	}
}

func TestWrapfOnce(t *testing.T) {
	base := errors.New(`bring tunnel "x" up: port busy`)
	if got := Wrapf(base, "bring tunnel %q up", "x").Error(); got != base.Error() {
		t.Errorf("wrapf repeated the prefix: %q", got)
	}
	other := errors.New("port busy")
	got := Wrapf(other, "bring tunnel %q up", "x")
	if got.Error() != `bring tunnel "x" up: port busy` || !errors.Is(got, other) {
		t.Errorf("wrapf = %q", got)
	}
}
