package control

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzAccept: whatever is pasted, Accept either works or fails with a
// Controller error, never panics, and a failure changes no file.
func FuzzAccept(f *testing.F) {
	seed := newEnv(f, false)
	inv, err := seed.svc.Invite(ctx, InviteRequest{Name: "seed", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(inv.Token)
	f.Add(inv.Token[:20])
	f.Add("WGP1R-")
	f.Add("")
	e := newEnv(f, false)
	if _, err := e.svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51821"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		before := readDir(t, e.dir)
		res, err := e.svc.Accept(ctx, AcceptRequest{Name: "fz", Token: token})
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) && !errors.Is(err, ErrExists) && !errors.Is(err, ErrNotFound) {
				t.Errorf("Accept(%q) = %v: not a Controller error", token, err)
			}
			if diff := cmp.Diff(before, readDir(t, e.dir)); diff != "" {
				t.Errorf("failed Accept changed files:\n%s", diff)
			}
			return
		}
		// A valid invite got through: undo for the next input.
		if err := e.svc.Remove(ctx, res.Tunnel); err != nil {
			t.Fatal(err)
		}
	})
}
