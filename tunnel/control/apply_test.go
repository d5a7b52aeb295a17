package control_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

var errDiskFull = errors.New("no space left on device (test)")

// runningPair makes tunnel "home" on a with one peer, up, plus a pending
// second invite whose reply (from a third machine) is returned.
func runningPair(t *testing.T) (a *Env, reply string) {
	t.Helper()
	a, b, c := NewEnv(t, true), NewEnv(t, false), NewEnv(t, false)
	exchange(t, a, b)
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.Svc.Accept(ctx, AcceptRequest{Name: "x", Token: inv.Token, DisplayName: "carol", Endpoint: "203.0.113.10:5000"})
	if err != nil {
		t.Fatal(err)
	}
	return a, acc.Reply
}

// TestFailedSaveLeavesRunningTunnel: when the config cannot be saved, the
// running tunnel is not changed either (the file is written first), for
// every change that also applies to a running tunnel.
func TestFailedSaveLeavesRunningTunnel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(a *Env, reply string) error
	}{
		{"accept reply", func(a *Env, reply string) error {
			_, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: reply})
			return err
		}},
		{"set-port", func(a *Env, _ string) error { return a.Svc.SetListenPort(ctx, "home", 51999) }},
		{"invite with new port", func(a *Env, _ string) error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51998", Port: 51998})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, reply := runningPair(t)
			before := a.Snapshot()
			running := a.Eng.Config("home").Clone()
			saves := 0
			a.SaveHook = func(*conf.Config) error { saves++; return errDiskFull }
			err := tc.change(a, reply)
			if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("error = %v, want the save error and \"nothing was changed\"", err)
			}
			if saves == 0 {
				t.Fatal("the save hook was never called")
			}
			if diff := cmp.Diff(running.Marshal(), a.Eng.Config("home").Marshal()); diff != "" {
				t.Errorf("failed save changed the running tunnel (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
				t.Errorf("failed save changed files (-before +after):\n%s", diff)
			}
			// Once saving works again, the same change goes through.
			a.SaveHook = nil
			if err := tc.change(a, reply); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if diff := cmp.Diff(a.Load("home").Marshal(), a.Eng.Config("home").Marshal()); diff != "" {
				t.Errorf("after retry, file and running tunnel differ (-file +running):\n%s", diff)
			}
		})
	}
}

// TestFailedApplyRestoresFile: when the running tunnel refuses the new
// config, the saved file goes back to what it was; if even that fails, the
// error says so and what to do.
func TestFailedApplyRestoresFile(t *testing.T) {
	a, reply := runningPair(t)
	before := a.Snapshot()
	a.Eng.FailUp = errors.New("device busy (test)")
	_, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: reply})
	if err == nil || !strings.Contains(err.Error(), "device busy") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("error = %v, want the engine error and \"nothing was changed\"", err)
	}
	if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
		t.Errorf("failed apply left files changed (-before +after):\n%s", diff)
	}

	// The restore fails too: the error must not claim nothing changed.
	saves := 0
	a.SaveHook = func(*conf.Config) error {
		if saves++; saves > 1 {
			return errDiskFull
		}
		return nil
	}
	err = a.Svc.SetListenPort(ctx, "home", 51999)
	if err == nil || strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "restoring the saved file failed too") || !strings.Contains(err.Error(), "wgpunch down home") {
		t.Fatalf("error = %v, want it to say the restore failed and what to do", err)
	}
}
