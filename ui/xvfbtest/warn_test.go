package xvfbtest

import (
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// TestPortSharedWarning puts two WG Punch machines on one LAN (mDNS on the
// lab's link) with a tunnel each on UDP 51820: the window shows the
// port-shared banner, and its fix button moves the tunnel to the suggested
// port, after which the warning goes away.
func TestPortSharedWarning(t *testing.T) {
	needTools(t, "unshare")
	l := newLab(t)
	a, b := l.pairLAN(t, true)
	link(t, a, b, "office", 51820, true)
	var w control.Warning
	l.waitFor(t, "a port-shared warning on A", 40*time.Second, func() bool {
		for _, x := range a.tunnel(t, "office").Warnings {
			if x.Code == "port-shared" && x.FixPort != 0 {
				w = x
				return true
			}
		}
		return false
	})
	l.app(t)
	main := l.window(t, "WG Punch", 60*time.Second)
	// The banner comes with the app's first status: the window redraws.
	// The Tabs below count on it.
	l.changed(t, main, l.frame(t, main), 5*time.Second)
	l.shotWindow(t, main, "main-port-shared")
	// Focus order: the link's switch, Edit…, Export…, Remove…, then the
	// banner's fix button; Space presses it.
	l.key(t, main, "Tab", "Tab", "Tab", "Tab", "Tab", "space")
	l.waitFor(t, "office on the suggested port", 20*time.Second, func() bool {
		return a.tunnel(t, "office").ListenPort == w.FixPort
	})
	l.waitFor(t, "the warning to clear", 40*time.Second, func() bool {
		for _, x := range a.tunnel(t, "office").Warnings {
			if x.Code == "port-shared" {
				return false
			}
		}
		return true
	})
}
