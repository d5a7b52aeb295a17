package exchange

import (
	"net/netip"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// TestTunnelClash: what a new peer's LAN may not overlap inside its
// tunnel. (Invite tokens whose LANs overlap their own subnet are already
// refused by the invite package, so acceptInvite's check is a second line.)
func TestTunnelClash(t *testing.T) {
	cfg := &conf.Config{
		Name: "home",
		Interface: conf.Interface{
			Addresses: []netip.Prefix{netip.MustParsePrefix("10.77.5.1/24")},
			Meta:      conf.InterfaceMeta{Subnet: netip.MustParsePrefix("10.77.5.0/24"), LANs: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}},
		},
		Peers: []conf.Peer{{
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.5.2/32"), netip.MustParsePrefix("192.168.50.0/24")},
			Meta:       conf.PeerMeta{Name: "bob"},
		}},
	}
	for _, tc := range []struct {
		lan  string
		want string // "" = allowed
	}{
		{"192.168.50.128/25", "192.168.50.0/24, already routed to peer bob in tunnel home"},
		{"192.168.0.0/16", "192.168.50.0/24, already routed to peer bob in tunnel home"},
		{"10.0.0.0/8", "the tunnel subnet 10.77.5.0/24"},
		{"10.77.5.2/32", "the tunnel subnet 10.77.5.0/24"},
		{"192.168.51.0/24", ""},
		{"192.168.1.0/24", ""}, // our own LAN: a warning elsewhere, not a clash
	} {
		what, bad := TunnelClash(netip.MustParsePrefix(tc.lan), cfg)
		if bad != (tc.want != "") || what != tc.want {
			t.Errorf("TunnelClash(%s) = %q, %v; want %q", tc.lan, what, bad, tc.want)
		}
	}
}
