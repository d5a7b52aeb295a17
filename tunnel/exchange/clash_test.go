package exchange

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

// Never take over a route, at accept time: an invite or reply whose
// tunnel subnet or LANs equal, contain or lie inside a route of another
// interface or another of our tunnels is refused, naming the clash and
// what to do; a route wider than /8 (a default-like route) is no clash.
func TestAcceptRefusesRouteTakeover(t *testing.T) {
	other := home() // tunnel "home": 10.9.8.0/24, peer bob 10.9.8.2/32
	other.Peers[0].AllowedIPs = append(other.Peers[0].AllowedIPs, pfx("192.168.60.0/24"))
	routes := []netinfo.Route{
		{Prefix: pfx("0.0.0.0/1"), Iface: "vpn0"},
		{Prefix: pfx("192.168.1.0/24"), Iface: "eth0"},
		{Prefix: pfx("172.20.0.0/16"), Iface: "docker0"},
		{Prefix: pfx("10.9.8.0/24"), Iface: "home"}, // tunnel home's own route, named by its config
	}
	for _, tt := range []struct {
		name string
		edit func(*invite.Invite)
		want string // "" accepted
	}{
		{"fine", nil, ""},
		{"subnet equals a LAN", func(i *invite.Invite) { retarget(i, "192.168.1.0/24") }, "tunnel subnet 192.168.1.0/24 overlaps 192.168.1.0/24, which this machine already reaches through eth0 (the same subnet)"},
		{"subnet inside a route", func(i *invite.Invite) { retarget(i, "172.20.5.0/24") }, "through docker0 (a wider subnet that contains it)"},
		{"subnet of another tunnel", func(i *invite.Invite) { retarget(i, "10.9.8.0/24") }, `your tunnel "home" already routes`},
		{"LAN equals ours", func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx("192.168.1.0/24")} }, "carol shares its LAN 192.168.1.0/24, which overlaps 192.168.1.0/24, which this machine already reaches through eth0"},
		{"LAN inside ours", func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx("192.168.1.128/25")} }, "a wider subnet that contains it"},
		{"LAN containing ours", func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx("192.168.0.0/16")} }, "a narrower subnet inside it"},
		{"LAN another tunnel routes", func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx("192.168.60.0/24")} }, `your tunnel "home" already routes`},
		{"LAN we share", func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx("172.31.9.0/24")} }, "overlaps 172.31.9.0/24 that this machine shares"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInvite()
			if tt.edit != nil {
				tt.edit(inv)
			}
			f := facts(other.Clone())
			f.Routes = routes
			_, err := f.PlanAcceptInvite(Request{Name: "work", NewKey: key(8), LANs: []netip.Prefix{pfx("172.31.9.0/24")}}, inv)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.want) || !strings.Contains(strings.ToLower(err.Error()), "nothing was saved") {
				t.Fatalf("error %v, want Invalid with %q and that nothing was saved", err, tt.want)
			}
		})
	}

	// The inviter is told which subnet to use instead: one free here.
	inv := testInvite()
	retarget(inv, "192.168.1.0/24")
	f := facts(other.Clone())
	f.Routes = routes
	_, err := f.PlanAcceptInvite(Request{Name: "work", NewKey: key(8)}, inv)
	s := f.SuggestSubnet()
	if err == nil || !s.IsValid() || !strings.Contains(err.Error(), "--subnet "+s.String()) {
		t.Errorf("error %v, want a suggestion of the free subnet %s", err, s)
	}
	if what, bad := f.RouteClash(s, ""); bad {
		t.Errorf("suggested subnet %s clashes with %s", s, what)
	}
}

// retarget moves an invite to another tunnel subnet.
func retarget(i *invite.Invite, subnet string) {
	s := pfx(subnet)
	i.Subnet, i.InviterAddress, i.InviteeAddress = s, HostAddr(s, 1), HostAddr(s, 2)
}

// The reply side refuses a reply LAN that would take over a route,
// and the invite stays pending.
func TestAcceptReplyRefusesRouteTakeover(t *testing.T) {
	pending := home()
	pending.Interface.Meta.PendingInviteID = "inv2"
	pending.Interface.Meta.PendingPeerAddress = pfx("10.9.8.3/24")
	for _, tt := range []struct{ lan, want string }{
		{"192.168.1.0/24", "through eth0 (the same subnet)"},
		{"192.168.1.64/26", "a wider subnet that contains it"},
		{"10.50.0.0/16", `your tunnel "work" already routes`},
		{"192.168.8.0/24", ""},
	} {
		work := &conf.Config{Name: "work", Interface: conf.Interface{PrivateKey: key(3), Addresses: []netip.Prefix{pfx("10.50.0.1/24")}}}
		f := facts(pending.Clone(), work)
		r := &invite.Reply{InviteID: "inv2", Name: "dave", PublicKey: key(6), Endpoint: conf.Endpoint{Host: "203.0.113.6", Port: 5000}, LANs: []netip.Prefix{pfx(tt.lan)}}
		_, err := f.PlanAcceptReply("", r, false)
		if tt.want == "" {
			if err != nil {
				t.Errorf("LAN %s refused: %v", tt.lan, err)
			}
			continue
		}
		if kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "still waits for a reply") {
			t.Errorf("LAN %s: error %v, want Invalid with %q and that the invite still waits", tt.lan, err, tt.want)
		}
	}
}

// invite --subnet: the chosen subnet is used when it is private, the right
// size and free; otherwise refused with the reason and a free one.
func TestInviteSubnet(t *testing.T) {
	for _, tt := range []struct{ subnet, want string }{
		{"172.22.5.0/24", ""},
		{"10.200.0.0/16", ""},
		{"192.168.1.0/24", "through eth0"},
		{"10.9.8.0/25", `your tunnel "home" already routes`},
		{"8.8.8.0/24", "public internet address space"},
		{"10.1.0.0/12", "from /16 to /30"},
		{"10.1.2.3/24", "host bits set; did you mean 10.1.2.0/24"},
		{"fd00:1::/64", "must be an IPv4 subnet"},
		{"172.31.9.0/24", "which you share"},
	} {
		f := facts(home())
		p, err := f.PlanInvite(Request{Name: "new", NewKey: key(9), NewID: "id1", Subnet: netip.MustParsePrefix(tt.subnet), LANs: []netip.Prefix{pfx("172.31.9.0/24")}})
		if tt.want == "" {
			if err != nil {
				t.Errorf("subnet %s refused: %v", tt.subnet, err)
				continue
			}
			if p.Config.Interface.Meta.Subnet.String() != tt.subnet || p.Config.Interface.Addresses[0] != HostAddr(pfx(tt.subnet), 1) || p.PeerAddr != HostAddr(pfx(tt.subnet), 2) {
				t.Errorf("subnet %s: planned %v, addresses %v, peer %v", tt.subnet, p.Config.Interface.Meta.Subnet, p.Config.Interface.Addresses, p.PeerAddr)
			}
			continue
		}
		if kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("subnet %s: error %v, want Invalid with %q", tt.subnet, err, tt.want)
		}
	}
	// An existing tunnel's subnet cannot change.
	_, err := facts(home()).PlanInvite(Request{Name: "home", Subnet: pfx("172.22.5.0/24")})
	if kindOf(err) != Exists || !strings.Contains(err.Error(), "cannot change") {
		t.Errorf("re-invite with another subnet: %v, want Exists saying the subnet cannot change", err)
	}
}
