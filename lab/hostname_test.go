package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// TestWGPunchSameHostname: two hosts both called raspberrypi behind one
// NAT, forced onto one port, each show port-shared in `status --json`,
// naming the other by its address: LAN announcements tell machines apart
// by installation ID, not by host name. One tunnel is up, the other not.
func TestWGPunchSameHostname(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	o := in.Office("p", 1, NATHome)
	p1, p2 := o.HostNamed("p1", "raspberrypi"), o.HostNamed("p2", "raspberrypi")
	for _, h := range []*Host{p1, p2} {
		if got := strings.TrimSpace(h.Must("hostname")); got != "raspberrypi" {
			t.Fatalf("%s: hostname %q, want raspberrypi", h.Name, got)
		}
		h.StartDaemon()
		if _, _, err := h.WGP("invite", "pi", "--port", "51820", "--endpoint", o.WAN+":51820"); err != nil {
			t.Fatalf("%s: invite: %v", h.Name, err)
		}
	}
	if _, stderr, err := p2.WGP("up", "pi"); err != nil {
		t.Fatalf("p2: up: %v %s", err, stderr)
	}
	if p1.TunnelStatus("pi").Up || !p2.TunnelStatus("pi").Up {
		t.Fatalf("want p1's tunnel down and p2's up: p1 %+v, p2 %+v", p1.TunnelStatus("pi"), p2.TunnelStatus("pi"))
	}
	for _, c := range []struct{ h, other *Host }{{p1, p2}, {p2, p1}} {
		want := fmt.Sprintf(`another machine named "raspberrypi" like this one (%s)`, c.other.Addr)
		d, err := testutil.WaitFor(30*time.Second, 500*time.Millisecond, func() (bool, string) {
			st := c.h.TunnelStatus("pi")
			for _, w := range st.Warnings {
				if w.Code == "port-shared" && strings.Contains(w.Message, want) {
					if w.FixPort == 0 || w.FixPort == 51820 {
						return false, fmt.Sprintf("port-shared warning without a usable fix port: %+v", w)
					}
					return true, ""
				}
			}
			return false, fmt.Sprintf("%s pi (up %v) warnings: %+v", c.h.Name, st.Up, st.Warnings)
		})
		if err != nil {
			t.Errorf("%s: no port-shared warning naming %s: %v", c.h.Name, c.other.Addr, err)
		} else {
			t.Logf("%s: port-shared naming %s after %v", c.h.Name, c.other.Addr, d.Round(time.Millisecond))
		}
	}
}
