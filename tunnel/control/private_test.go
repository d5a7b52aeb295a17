package control_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// TestTamperedPublicLANRefused: an invite changed on the way to share the
// public 8.8.8.0/24 is refused by the accepting side with nothing saved;
// only this side's explicit opt-in (never the token) lets it through, and
// the result then says what the link routes.
func TestTamperedPublicLANRefused(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := invite.Decode(inv.Token)
	if err != nil || msg.Invite == nil {
		t.Fatalf("decode invite: %v", err)
	}
	msg.Invite.LANs = []netip.Prefix{netip.MustParsePrefix("8.8.8.0/24")}
	tampered, err := msg.Invite.Encode()
	if err != nil {
		t.Fatal(err)
	}
	before := b.Snapshot()
	_, err = b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: tampered, Endpoint: "203.0.113.9:51999"})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "the invite asks to route 8.8.8.0/24 into the tunnel, but that is public internet address space") {
		t.Fatalf("Accept(tampered) err = %v, want ErrInvalidInput naming 8.8.8.0/24", err)
	}
	if d := cmp.Diff(before, b.Snapshot()); d != "" {
		t.Errorf("a refused accept changed the state dir (-before +after):\n%s", d)
	}
	res, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: tampered, Endpoint: "203.0.113.9:51999", AllowPublicRoutes: true, LANs: []string{"192.168.1.0/24"}})
	if err != nil {
		t.Fatalf("Accept opted in: %v", err)
	}
	if !slices.Contains(res.Routes, "8.8.8.0/24") || !slices.Equal(res.Shared, []string{"192.168.1.0/24"}) || !strings.Contains(res.RouteSummary, "8.8.8.0/24") {
		t.Errorf("result Routes %v Shared %v Summary %q", res.Routes, res.Shared, res.RouteSummary)
	}
}
