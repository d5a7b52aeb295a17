package control_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// A tunnel saved before routes were checked (here: a peer LAN that is the
// same as this machine's LAN 192.168.1.0/24 on eth0) is named in status:
// subnet-overlap while down; route-clash once up, saying the route was
// left to eth0.
func TestRouteClashWarnings(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, true)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", Endpoint: "198.51.100.1:51820", LANs: []string{"192.168.77.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"}); err != nil {
		t.Fatal(err)
	}
	warnings := func() map[string]string {
		t.Helper()
		rep, err := b.Svc.Status(ctx, "work")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, w := range rep.Tunnels[0].Warnings {
			out[w.Code] += w.Message
		}
		return out
	}
	if w := warnings(); len(w) != 0 {
		t.Fatalf("warnings before the clash: %v", w)
	}

	cfg := b.Load("work")
	lan := netip.MustParsePrefix("192.168.1.0/24")
	cfg.Peers[0].AllowedIPs = append(cfg.Peers[0].AllowedIPs, lan)
	cfg.Peers[0].Meta.LANs = append(cfg.Peers[0].Meta.LANs, lan)
	if err := b.St.Save(cfg); err != nil {
		t.Fatal(err)
	}
	if w := warnings()["subnet-overlap"]; !strings.Contains(w, "alice's LAN 192.168.1.0/24 overlaps 192.168.1.0/24 on this machine's eth0 (the same subnet)") {
		t.Errorf("down: subnet-overlap %q, want it to name the LAN, eth0 and how they relate", w)
	}
	if err := b.Svc.Up(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	w := warnings()
	if !strings.Contains(w["route-clash"], "alice's LAN 192.168.1.0/24 is not routed through the tunnel, because 192.168.1.0/24 on eth0 overlaps it") {
		t.Errorf("up: route-clash %q, want the LAN left to eth0", w["route-clash"])
	}
	if strings.Contains(w["route-clash"], "192.168.77.0/24") {
		t.Errorf("up: route-clash names the LAN that clashes with nothing: %q", w["route-clash"])
	}
}

// invite --subnet: the chosen subnet is saved; one that is not a subnet,
// or that takes over this machine's LAN, is refused with nothing saved.
func TestInviteSubnet(t *testing.T) {
	a := NewEnv(t, false)
	for _, bad := range []struct{ subnet, want string }{
		{"lan", "is not a subnet like 10.42.7.0/24"},
		{"192.168.1.0/24", "through eth0"},
	} {
		before := a.Snapshot()
		_, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Subnet: bad.subnet})
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("subnet %q: %v, want ErrInvalidInput with %q", bad.subnet, err, bad.want)
		}
		if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
			t.Errorf("subnet %q changed files:\n%s", bad.subnet, diff)
		}
	}
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Subnet: "172.22.5.0/24"}); err != nil {
		t.Fatal(err)
	}
	if got := a.Load("home").Interface.Meta.Subnet.String(); got != "172.22.5.0/24" {
		t.Errorf("saved subnet %s, want 172.22.5.0/24", got)
	}
}
