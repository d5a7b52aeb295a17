package control_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// FuzzAccept: whatever is pasted, Accept either works or fails with a
// Controller error, never panics, and a failure changes no file.
func FuzzAccept(f *testing.F) {
	seed := NewEnv(f, false)
	inv, err := seed.Svc.Invite(ctx, InviteRequest{Name: "seed", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(inv.Token)
	f.Add(inv.Token[:20])
	f.Add("WGP1R-")
	f.Add("")
	e := NewEnv(f, false)
	if _, err := e.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51821"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		before := ReadDir(t, e.Dir)
		res, err := e.Svc.Accept(ctx, AcceptRequest{Name: "fz", Token: token})
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) && !errors.Is(err, ErrExists) && !errors.Is(err, ErrNotFound) {
				t.Errorf("Accept(%q) = %v: not a Controller error", token, err)
			}
			if diff := cmp.Diff(before, ReadDir(t, e.Dir)); diff != "" {
				t.Errorf("failed Accept changed files:\n%s", diff)
			}
			return
		}
		// A valid invite got through: undo for the next input.
		if err := e.Svc.Remove(ctx, res.Tunnel); err != nil {
			t.Fatal(err)
		}
	})
}
