package exchange

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

// cgnatFacts is facts() on a machine with an address in 100.64.0.0/10.
func cgnatFacts() *Facts {
	f := facts()
	f.Routes = append(f.Routes, netinfo.Route{Prefix: pfx("100.100.1.0/24"), Iface: "tailscale0"})
	return f
}

// TestPrivateOnly: every prefix a link routes or shares lies in private
// space unless this side opts in; the refusal names the prefix and the rule.
func TestPrivateOnly(t *testing.T) {
	const public = "public internet address space: WG Punch only routes private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7)"
	for _, tt := range []struct {
		name  string
		f     *Facts
		p     string
		allow bool
		want  string // "" ok, else a part of the reason
	}{
		{"public IPv4", facts(), "8.8.8.0/24", false, public},
		{"public IPv6 /8", facts(), "2000::/8", false, "wider than /48"},
		{"public IPv6 2a00::/8", facts(), "2a00::/8", false, "wider than /48"},
		{"public IPv6 /48", facts(), "2a00:1450:4001::/48", false, public},
		{"private IPv6 too wide", facts(), "fd00::/40", false, "wider than /48"},
		{"private IPv6 /48", facts(), "fd12:3456:789a::/48", false, ""},
		{"private IPv4", facts(), "192.168.50.0/24", false, ""},
		{"10/8", facts(), "10.0.0.0/8", false, ""},
		{"wider than 172.16/12", facts(), "172.0.0.0/8", false, public},
		{"CGNAT, none here", facts(), "100.64.0.0/24", false, ""},
		{"CGNAT, used here", cgnatFacts(), "100.64.0.0/24", false, "carrier-grade NAT space (100.64.0.0/10) this machine itself uses"},
		{"opt-in allows public", facts(), "8.8.8.0/24", true, ""},
		{"opt-in allows CGNAT used here", cgnatFacts(), "100.64.0.0/24", true, ""},
		{"opt-in keeps the IPv6 width", facts(), "2000::/8", true, "wider than /48"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f.NotPrivate(pfx(tt.p), tt.allow)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("NotPrivate(%s, %v) = %q, want %q", tt.p, tt.allow, got, tt.want)
			}
		})
	}
}

// TestPrivateOnlyPlans: the accepting side refuses the inviter's public
// LANs and subnet, the inviter the reply's, either side its own public
// --lan; the opt-in on that side lets them through.
func TestPrivateOnlyPlans(t *testing.T) {
	lan := func(s string) func(*invite.Invite) {
		return func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx(s)} }
	}
	subnet := func(i *invite.Invite) {
		i.Subnet, i.InviterAddress, i.InviteeAddress = pfx("8.8.8.0/24"), pfx("8.8.8.1/24"), pfx("8.8.8.2/24")
	}
	for _, tt := range []struct {
		name  string
		f     *Facts
		edit  func(*invite.Invite)
		own   string
		allow bool
		want  string
	}{
		{"public LAN", facts(), lan("8.8.8.0/24"), "", false, "the invite asks to route 8.8.8.0/24 into the tunnel, but that is public internet address space"},
		{"public tunnel subnet", facts(), subnet, "", false, "the invite asks to route 8.8.8.0/24 into the tunnel, but that is public"},
		{"public IPv6 LAN", facts(), lan("2a00::/8"), "", false, "2a00::/8 into the tunnel, but an IPv6 network wider than /48"},
		{"private IPv6 LAN too wide", facts(), lan("fd00::/40"), "", false, "fd00::/40 into the tunnel"},
		{"CGNAT LAN, used here", cgnatFacts(), lan("100.64.0.0/24"), "", false, "carrier-grade NAT"},
		{"CGNAT LAN, none here", facts(), lan("100.64.0.0/24"), "", false, ""},
		{"private IPv6 /48", facts(), lan("fd12:3456:789a::/48"), "", false, ""},
		{"private LAN", facts(), lan("192.168.50.0/24"), "", false, ""},
		{"opt-in allows LAN", facts(), lan("8.8.8.0/24"), "", true, ""},
		{"opt-in allows subnet", facts(), subnet, "", true, ""},
		{"own public LAN", facts(), nil, "8.8.8.0/24", false, "you asked to share 8.8.8.0/24, but that is public"},
		{"own public LAN opted in", facts(), nil, "8.8.8.0/24", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInvite()
			if tt.edit != nil {
				tt.edit(inv)
			}
			in := Request{Name: "work", NewKey: key(8), AllowPublicRoutes: tt.allow}
			if tt.own != "" {
				in.LANs = []netip.Prefix{pfx(tt.own)}
			}
			p, err := tt.f.PlanAcceptInvite(in, inv)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("PlanAcceptInvite: %v", err)
				}
				if p.Routing.Routes()[0] != inv.Subnet.String() {
					t.Errorf("Routes = %v, want the subnet %s first", p.Routing.Routes(), inv.Subnet)
				}
				return
			}
			if err == nil || kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "Nothing was saved") {
				t.Fatalf("PlanAcceptInvite err = %v, want Invalid with %q", err, tt.want)
			}
			if tt.own == "" {
				if _, err := tt.f.PlanInvite(Request{Name: "x", NewKey: key(9), LANs: []netip.Prefix{pfx("8.8.8.0/24")}}); err == nil || !strings.Contains(err.Error(), "you asked to share 8.8.8.0/24") {
					t.Errorf("PlanInvite with a public --lan: err = %v, want a refusal", err)
				}
			}
		})
	}
	t.Run("inviter refuses a public reply LAN", func(t *testing.T) {
		c := home()
		c.Interface.Meta.PendingInviteID = "inv2"
		c.Interface.Meta.PendingPeerAddress = pfx("10.9.8.3/24")
		r := &invite.Reply{InviteID: "inv2", Name: "dave", PublicKey: key(6), Endpoint: conf.Endpoint{Host: "203.0.113.6", Port: 5000}, LANs: []netip.Prefix{pfx("8.8.8.0/24")}}
		if _, err := facts(c).PlanAcceptReply("", r, false); err == nil || !strings.Contains(err.Error(), "the reply asks to route 8.8.8.0/24 into the tunnel, but that is public") {
			t.Fatalf("PlanAcceptReply err = %v, want a refusal", err)
		}
		p, err := facts(c).PlanAcceptReply("", r, true)
		if err != nil {
			t.Fatalf("PlanAcceptReply opted in: %v", err)
		}
		if got := p.Routing.Routes(); len(got) != 2 || got[1] != "8.8.8.0/24" {
			t.Errorf("Routes = %v", got)
		}
	})
}

func TestRoutingSummary(t *testing.T) {
	r := Routing{Peer: "carol", Subnet: pfx("10.77.3.0/24"), PeerLANs: []netip.Prefix{pfx("192.168.20.0/24")}, Self: netip.MustParseAddr("10.77.3.2"), Shared: []netip.Prefix{pfx("192.168.1.0/24")}}
	want := "This link sends 10.77.3.0/24 (the tunnel) and carol's 192.168.20.0/24 (its shared LAN) into the tunnel, nothing else. carol reaches this computer at 10.77.3.2 and your shared 192.168.1.0/24."
	if got := r.Summary(); got != want {
		t.Errorf("Summary =\n%s\nwant\n%s", got, want)
	}
	r.PeerLANs, r.Shared = nil, nil
	want = "This link sends 10.77.3.0/24 (the tunnel) into the tunnel, nothing else. carol reaches this computer at 10.77.3.2 only (you share no LAN)."
	if got := r.Summary(); got != want {
		t.Errorf("Summary =\n%s\nwant\n%s", got, want)
	}
}
