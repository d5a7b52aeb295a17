package control_test

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
)

// fakeLAN is LAN discovery: it reports fixed announcements and, on
// Refresh, records what the Service's LocalTunnels says at that moment —
// what a real Discovery would announce.
type fakeLAN struct {
	peers []lanpeers.Announcement
	svc   func() *Service

	mu        sync.Mutex
	announced []string // one entry per Refresh: "name:port,..."
}

func (f *fakeLAN) Peers() []lanpeers.Announcement { return f.peers }

func (f *fakeLAN) Refresh() {
	var parts []string
	for _, t := range f.svc().LocalTunnels() {
		parts = append(parts, fmt.Sprintf("%s:%d", t.Name, t.Port))
	}
	f.mu.Lock()
	f.announced = append(f.announced, strings.Join(parts, ","))
	f.mu.Unlock()
}

func (f *fakeLAN) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.announced...)
}

// TestLANRefreshOnChange: every change to a tunnel's existence or port is
// announced at once, with the change already visible to LocalTunnels;
// failed changes and reads announce nothing.
func TestLANRefreshOnChange(t *testing.T) {
	lan := &fakeLAN{peers: []lanpeers.Announcement{
		{Host: "other-pc", Addr: netip.MustParseAddr("192.168.1.20"), Tunnel: "x", Port: 51820, Seen: time.Now()},
	}}
	a := NewEnv(t, true, func(o *ServiceOptions) { o.LAN = lan })
	lan.svc = func() *Service { return a.Svc }
	b := NewEnv(t, false)

	// 51820 is announced by other-pc, so the new tunnel gets 51821 (port
	// 1 of the endpoint is busy here, so it is not taken as the port).
	a.Busy[1] = true
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.ListenPort != 51821 {
		t.Errorf("port %d, want 51821 (51820 is announced on the LAN)", inv.ListenPort)
	}
	if err := a.Svc.SetListenPort(ctx, "home", 51900); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.SetListenPort(ctx, "home", 0); err == nil {
		t.Fatal("SetListenPort(0) succeeded")
	}
	if _, err := a.Svc.Show(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	inv2, err := b.Svc.Invite(ctx, InviteRequest{Name: "far", Endpoint: "203.0.113.1:51830", Port: 51830})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Name: "link", Token: inv2.Token, Port: 51910, Endpoint: "198.51.100.1:51910"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Rename(ctx, "link", "link2"); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Remove(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Remove(ctx, "home"); err == nil {
		t.Fatal("second Remove succeeded")
	}
	want := []string{
		"home:51821",             // Invite
		"home:51900",             // SetListenPort
		"home:51900,link:51910",  // Accept(invite)
		"home:51900,link2:51910", // Rename
		"link2:51910",            // Remove
	}
	if diff := cmp.Diff(want, lan.log()); diff != "" {
		t.Errorf("announcements (-want +got):\n%s", diff)
	}
}
