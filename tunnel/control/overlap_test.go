package control_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	planner "github.com/wgpunch/wgpunch/tunnel/exchange"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// replyFor makes the reply another machine would send to invite token,
// sharing lans.
func replyFor(t *testing.T, token, name string, lans ...string) string {
	t.Helper()
	msg, err := invite.Decode(token)
	if err != nil || msg.Invite == nil {
		t.Fatalf("decode invite: %v", err)
	}
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	r := &invite.Reply{
		InviteID:  msg.Invite.ID,
		Name:      name,
		PublicKey: key.PublicKey(),
		Endpoint:  conf.Endpoint{Host: "203.0.113.50", Port: 51900},
	}
	for _, l := range lans {
		r.LANs = append(r.LANs, netip.MustParsePrefix(l))
	}
	tok, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLANOverlapInTunnelRefused: in a tunnel with several peers, a later
// peer may not share a LAN overlapping an earlier peer's AllowedIPs (it
// would take over that peer's traffic) or the tunnel subnet; the reply is
// refused with nothing saved and the invite still pending. So is one that
// would take over a route of this machine.
func TestLANOverlapInTunnelRefused(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, DisplayName: "bob", Endpoint: "203.0.113.9:51999", LANs: []string{"192.168.50.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply}); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	subnet := a.Load("home").Interface.Meta.Subnet
	inv2, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		lans []string
		msg  string
	}{
		{"halves of an earlier peer's LAN", []string{"192.168.50.0/25", "192.168.50.128/25"}, "already routed to peer bob in tunnel home"},
		{"wider than an earlier peer's LAN", []string{"192.168.0.0/16"}, "already routed to peer bob"},
		{"the tunnel subnet", []string{subnet.String()}, "the tunnel subnet " + subnet.String()},
		{"an earlier peer's tunnel address", []string{planner.HostAddr(subnet, 2).Addr().String() + "/32"}, "overlaps the tunnel subnet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Snapshot()
			running := a.Eng.Config("home")
			_, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: replyFor(t, inv2.Token, "mallory", tc.lans...)})
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "Nothing was saved") {
				t.Fatalf("Accept(reply) = %v, want ErrInvalidInput mentioning %q", err, tc.msg)
			}
			if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
				t.Errorf("refused reply changed files (-before +after):\n%s", diff)
			}
			if got := a.Eng.Config("home"); len(got.Peers) != len(running.Peers) {
				t.Errorf("refused reply changed the running tunnel: %d peers, want %d", len(got.Peers), len(running.Peers))
			}
		})
	}
	// The invite is still pending. A reply with a LAN that takes over this
	// machine's own LAN (192.168.1.0/24 here) is refused too, nothing saved;
	// one that clashes with nothing is then taken.
	before := a.Snapshot()
	_, err = a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: replyFor(t, inv2.Token, "carol", "192.168.1.0/24")})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "through eth0") || !strings.Contains(err.Error(), "still waits for a reply") {
		t.Fatalf("reply taking over our own LAN: %v, want ErrInvalidInput naming eth0", err)
	}
	if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
		t.Errorf("refused reply changed files (-before +after):\n%s", diff)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: replyFor(t, inv2.Token, "carol", "192.168.70.0/24")}); err != nil {
		t.Fatalf("reply with a free LAN: %v", err)
	}
	if n := len(a.Load("home").Peers); n != 2 {
		t.Errorf("%d peers saved, want 2", n)
	}
}
