package diagnose

import (
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// Each situation gets its code, and words that name the peer and say what
// to do; the first cause that applies wins.
func TestFor(t *testing.T) {
	base := Facts{Peer: "carol", Tunnel: "office", State: monitor.StateConnecting, UpFor: 95 * time.Second}
	for _, tc := range []struct {
		name string
		edit func(*Facts)
		code string
		want []string // in message or action
	}{
		{"connected", func(f *Facts) { f.State = monitor.StateConnected; f.OwnAddressChanged = true }, "", nil},
		{"down", func(f *Facts) { f.State = monitor.StateDown; f.UDPBlocked = true }, TunnelDown, []string{"switched off", "wgpunch up office"}},
		{"own address changed", func(f *Facts) { f.OwnAddressChanged, f.OwnAddress, f.UDPBlocked = true, "203.0.113.12:51820", true }, OwnAddressChanged, []string{"now 203.0.113.12:51820", "Send carol the update", "WGP1U-"}},
		{"udp blocked", func(f *Facts) { f.UDPBlocked = true; f.RecoveringFor = time.Minute }, UDPBlocked, []string{"does not let", "phone hotspot"}},
		{"recovering", func(f *Facts) { f.RecoveringFor = 61 * time.Second; f.PeerVerdict = "fail" }, RecoveringStuckMapping, []string{"No answer from carol yet", "wrong entry", "WG Punch open", "next try is in about 61 seconds"}},
		// Connected before: the recovery keeps trying, but "silent" says
		// more (off or asleep, or their address changed).
		{"silent while recovering", func(f *Facts) {
			f.State, f.EverConnected, f.SinceContact, f.RecoveringFor = monitor.StateStale, true, 4*time.Minute, 30*time.Second
		}, PeerSilent, []string{"was connected"}},
		{"peer cannot punch", func(f *Facts) { f.PeerVerdict, f.PeerMapping = "fail", "endpoint-dependent" }, PeerNATCannotPunch, []string{"Carol's own check", "new port", "IPv6"}},
		{"never connected", nil, NeverConnected, []string{"No answer from carol in the 95 seconds since", "open WG Punch"}},
		{"never connected, peer warned", func(f *Facts) { f.PeerVerdict = "warn" }, NeverConnected, []string{"Carol's own check warned"}},
		{"silent", func(f *Facts) {
			f.State, f.EverConnected, f.SinceContact, f.PeerVerdict = monitor.StateStale, true, 7*time.Minute+time.Second, "fail"
		}, PeerSilent, []string{"was connected", "for 8 minutes", "update to send you"}},
		{"no name", func(f *Facts) { f.Peer = "" }, NeverConnected, []string{"the other computer"}},
		{"peer only IPv6, no IPv6 here", func(f *Facts) { f.PeerOnly, f.NoOwnIPv6, f.RecoveringFor = "ipv6", true, time.Minute }, NoCommonPath, []string{"Carol can only be reached over IPv6 and this computer has no IPv6 internet connection", "hotspot"}},
		{"peer only IPv4, no IPv4 here", func(f *Facts) { f.PeerOnly, f.NoOwnIPv4, f.UDPBlocked = "ipv4", true, true }, NoCommonPath, []string{"Carol can only be reached over IPv4 and this computer has no IPv4 internet connection", "link from a network with IPv6"}},
		{"peer only IPv6, IPv6 here", func(f *Facts) { f.PeerOnly, f.NoOwnIPv4 = "ipv6", true }, NeverConnected, nil},
		{"no common path but connected before", func(f *Facts) {
			f.PeerOnly, f.NoOwnIPv6, f.State, f.EverConnected, f.SinceContact = "ipv6", true, monitor.StateStale, true, time.Minute
		}, PeerSilent, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			if tc.edit != nil {
				tc.edit(&f)
			}
			d := For(f)
			if tc.code == "" {
				if d != nil {
					t.Fatalf("For = %+v, want none", d)
				}
				return
			}
			if d == nil || d.Code != tc.code {
				t.Fatalf("For = %+v, want code %s", d, tc.code)
			}
			if d.Message == "" || d.Action == "" {
				t.Fatalf("empty words: %+v", d)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Message+" "+d.Action, w) {
					t.Errorf("%+v lacks %q", d, w)
				}
			}
		})
	}
}
