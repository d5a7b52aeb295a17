package control_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/ports"
)

// TestStatusPortSharedSameHostname: a LAN neighbour with our host name but
// another installation ID gets a port-shared warning on every tunnel on
// its port, up or down; an announcement with our ID (under any name) is
// ours and gets none.
func TestStatusPortSharedSameHostname(t *testing.T) {
	now := time.Now()
	lan := &fakeLAN{peers: []lanpeers.Announcement{
		{Host: "raspberrypi", Install: "bbbbbbbbbbbbbbbb", Addr: netip.MustParseAddr("192.168.1.21"), Tunnel: "x", Port: 51830, Seen: now},
		{Host: "raspberrypi", Install: "bbbbbbbbbbbbbbbb", Addr: netip.MustParseAddr("192.168.1.21"), Tunnel: "y", Port: 51831, Seen: now},
		{Host: "renamed", Install: "aaaaaaaaaaaaaaaa", Addr: netip.MustParseAddr("192.168.1.10"), Tunnel: "work", Port: 51840, Seen: now},
	}}
	a := NewEnv(t, true, func(o *ServiceOptions) {
		o.LAN = lan
		o.Hostname = "raspberrypi"
		o.InstallID = "aaaaaaaaaaaaaaaa"
	})
	lan.svc = func() *Service { return a.Svc }
	for _, tn := range []struct {
		name string
		port uint16
	}{{"home", 51830}, {"office", 51831}, {"work", 51840}} {
		if _, err := a.Svc.Invite(ctx, InviteRequest{Name: tn.name, Port: tn.port, Endpoint: "198.51.100.1:1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Svc.Up(ctx, "office"); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Svc.Status(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tu := range rep.Tunnels {
		for _, w := range tu.Warnings {
			if w.Code == ports.CodePortShared {
				got[tu.Name] = append(got[tu.Name], w.Message)
			}
		}
	}
	want := map[string][]string{
		"home":   {`Tunnel "home" uses UDP port 51830, and so does another machine named "raspberrypi" like this one (192.168.1.21) on this network (its tunnel "x"). Behind one router two machines on the same port disturb each other's connections; switch to port 51820.`},
		"office": {`Tunnel "office" uses UDP port 51831, and so does another machine named "raspberrypi" like this one (192.168.1.21) on this network (its tunnel "y"). Behind one router two machines on the same port disturb each other's connections; switch to port 51820.`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("port-shared warnings (-want +got):\n%s", diff)
	}
}
