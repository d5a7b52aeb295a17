package control

import (
	"errors"
	"strings"
	"testing"
)

// TestDownWhenDeviceVanished: a tunnel whose device is gone (the engine
// no longer runs it and its Down fails) is taken as down, so Down, Remove
// and Rename still work; a Down that fails on a running tunnel is
// reported, once-prefixed.
func TestDownWhenDeviceVanished(t *testing.T) {
	a, b := newEnv(t, true), newEnv(t, false)
	exchange(t, a, b)
	if err := a.svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}

	// Still running, Down fails: the error is reported, with one prefix.
	a.eng.mu.Lock()
	a.eng.failDown = errors.New(`take tunnel "home" down: close control socket: file already closed`)
	a.eng.mu.Unlock()
	err := a.svc.Down(ctx, "home")
	if err == nil || strings.Count(err.Error(), `take tunnel "home" down`) != 1 {
		t.Fatalf("Down while running and failing = %v, want the engine's error once", err)
	}
	if _, up := a.svc.ifaceOf("home"); !up {
		t.Fatal("a failed Down of a running tunnel forgot it is up")
	}

	// The device vanished: the engine does not run it and Down fails.
	a.eng.mu.Lock()
	delete(a.eng.up, "home")
	a.eng.failDown = errors.New(`take tunnel "home" down: it is not up`)
	a.eng.mu.Unlock()
	if err := a.svc.Rename(ctx, "home", "home2"); err != nil {
		t.Fatalf("Rename after the device vanished: %v", err)
	}
	a.eng.mu.Lock()
	delete(a.eng.up, "home2") // Rename brought it up again; it vanishes again
	a.eng.mu.Unlock()
	if err := a.svc.Down(ctx, "home2"); err != nil {
		t.Fatalf("Down after the device vanished: %v", err)
	}
	if got := a.upSet(); len(got) != 0 {
		t.Errorf("up-set after Down = %q, want empty", got)
	}
	if err := a.svc.Up(ctx, "home2"); err != nil {
		t.Fatal(err)
	}
	a.eng.mu.Lock()
	delete(a.eng.up, "home2")
	a.eng.mu.Unlock()
	if err := a.svc.Remove(ctx, "home2"); err != nil {
		t.Fatalf("Remove after the device vanished: %v", err)
	}
	if names, _ := a.svc.List(ctx); len(names) != 0 {
		t.Errorf("tunnels after Remove: %q", names)
	}
}

func TestWrapfOnce(t *testing.T) {
	base := errors.New(`bring tunnel "x" up: port busy`)
	if got := wrapf(base, "bring tunnel %q up", "x").Error(); got != base.Error() {
		t.Errorf("wrapf repeated the prefix: %q", got)
	}
	other := errors.New("port busy")
	got := wrapf(other, "bring tunnel %q up", "x")
	if got.Error() != `bring tunnel "x" up: port busy` || !errors.Is(got, other) {
		t.Errorf("wrapf = %q", got)
	}
}

// TestNATFailWarningWording: "cannot be punched ... symmetric" only for an
// endpoint-dependent mapping; a check where no STUN server answered says so.
func TestNATFailWarningWording(t *testing.T) {
	if w := natFailWarning("bob", "ok", "endpoint-independent"); w != nil {
		t.Errorf("warning for ok verdict: %+v", w)
	}
	sym := natFailWarning("bob", "fail", "endpoint-dependent")
	if sym == nil || !strings.Contains(sym.Message, "cannot be punched") || !strings.Contains(sym.Message, "symmetric") {
		t.Errorf("symmetric: %+v", sym)
	}
	blocked := natFailWarning("bob", "fail", "unknown")
	if blocked == nil || blocked.Code != "nat-fail" || strings.Contains(blocked.Message, "symmetric") || !strings.Contains(blocked.Message, "no STUN server answered") {
		t.Errorf("UDP blocked: %+v", blocked)
	}
}
