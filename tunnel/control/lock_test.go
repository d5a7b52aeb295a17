package control_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// sameDir returns another Service on e's state directory, through its own
// store.Open (its own lock file description), as the command line next to
// a running tray app has.
func sameDir(t *testing.T, e *Env, role string) *Service {
	t.Helper()
	st, err := store.Open(e.Dir)
	if err != nil {
		t.Fatal(err)
	}
	st.SetRole(role)
	svc, err := NewService(ServiceOptions{Store: st, Hostname: "cli", NetInfo: FakeNet{
		RouteList: []netinfo.Route{{Prefix: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}},
		Primary:   netip.MustParseAddr("192.168.1.10"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestLockNoLostUpdate is the lost update of issue 10: the tray app
// re-issues an invite (its NAT check takes a while) while the command line
// adds the peer that answered it. Both changes must survive: the tray app
// plans again under the lock, after its NAT check.
func TestLockNoLostUpdate(t *testing.T) {
	checking, release := make(chan struct{}), make(chan struct{})
	var gate sync.Once
	gui := NewEnv(t, false, func(o *ServiceOptions) {
		o.NATCheck = func(ctx context.Context, opts natcheck.Options) (*natcheck.Report, error) {
			gate.Do(func() { close(checking); <-release })
			return &natcheck.Report{PublicEndpoint: "198.51.100.1:51820", LocalPort: opts.LocalPort,
				Mapping: natcheck.MappingEndpointIndependent, Verdict: natcheck.VerdictOK}, nil
		}
	})
	gui.St.SetRole("the tray app")
	cli := sameDir(t, gui, "the command line")
	peer := NewEnv(t, false)

	inv, err := gui.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := peer.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	reissued := make(chan error, 1)
	go func() {
		_, err := gui.Svc.Invite(ctx, InviteRequest{Name: "home"}) // runs a NAT check
		reissued <- err
	}()
	<-checking
	if _, err := cli.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply}); err != nil {
		t.Fatalf("command line Accept(reply): %v", err)
	}
	close(release)
	if err := <-reissued; err != nil {
		t.Fatalf("tray app Invite: %v", err)
	}
	cfg := gui.Load("home")
	if len(cfg.Peers) != 1 || cfg.Peers[0].PublicKey != peer.Load("work").Interface.PrivateKey.PublicKey() {
		t.Fatalf("peers %+v: the command line's new peer was lost", cfg.Peers)
	}
	if cfg.Interface.Meta.PendingInviteID == "" || cfg.Interface.Meta.PendingInviteID == cfg.Peers[0].Meta.InviteID {
		t.Errorf("pending invite %q, want a new invite for one more peer", cfg.Interface.Meta.PendingInviteID)
	}
}

// TestLockConcurrentChanges: two Services on one state directory change
// the same tunnel at the same time (one adds the peer that answered its
// invite, the other sets its port; both save STUN servers); every change
// survives, and the settings are one writer's whole list.
func TestLockConcurrentChanges(t *testing.T) {
	gui := NewEnv(t, false)
	cli := sameDir(t, gui, "the command line")
	inv, err := gui.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := NewEnv(t, false).Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, err := gui.Svc.Accept(ctx, AcceptRequest{Token: acc.Reply})
		errs <- err
		errs <- gui.Svc.SetSettings(ctx, Settings{STUNServers: []string{"a.example.org"}})
	}()
	go func() {
		defer wg.Done()
		errs <- cli.SetListenPort(ctx, "home", 40000)
		errs <- cli.SetSettings(ctx, Settings{STUNServers: []string{"b.example.org"}})
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	c := gui.Load("home")
	if len(c.Peers) != 1 || c.Interface.ListenPort != 40000 || c.Interface.Meta.PendingInviteID != "" {
		t.Errorf("home: %d peers, port %d, pending %q; want the peer and port 40000", len(c.Peers), c.Interface.ListenPort, c.Interface.Meta.PendingInviteID)
	}
	set, err := gui.Svc.Settings(ctx)
	if err != nil || len(set.STUNServers) != 1 {
		t.Errorf("settings %+v, %v", set, err)
	}
}
