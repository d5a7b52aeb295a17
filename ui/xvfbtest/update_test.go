package xvfbtest

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// TestAddressUpdateShown is issue 11 in the window and the tray. A links
// with B by a STUN-discovered address; B never comes up, so A's peer
// shows why (no answer yet) under it and in the tray. Then A's public
// address moves (the lab's STUN server says so, and a local address change
// makes the daemon look at once): the window shows the
// public-address-changed banner, the tray offers "Send Home your new
// internet address…", and clicking it opens the update as a QR code. The
// QR read from the screen is the daemon's update, and B takes it: only
// its endpoint for A moves.
func TestAddressUpdateShown(t *testing.T) {
	needTools(t, "dbus-daemon", "zbarimg")
	l := newLab(t)
	a, b := l.pair(t)
	var moved atomic.Pointer[netip.Addr] // the lab's STUN answers: A's address moved
	var servers []string
	for _, port := range []int{3480, 3481} {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		pc, err := listenInNetns(l.ns, addr)
		if err != nil {
			t.Fatalf("STUN server %s: %v", addr, err)
		}
		t.Cleanup(func() { pc.Close() })
		go serveSTUN(pc, &moved)
		servers = append(servers, addr)
	}
	a.cli(t, "settings", "--stun", strings.Join(servers, ","))
	inv := a.cli(t, "invite", "office", "--port", "51820", "--name", "Office")
	reply := b.cli(t, "accept", "office-b", inv, "--port", "51820", "--endpoint", b.addr+":51820", "--name", "Home")
	a.cli(t, "accept", "office", reply)
	a.cli(t, "up", "office")

	busAddr, conn := l.sessionBus(t)
	w := l.trayWatcher(t, conn)
	l.app(t, "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	mainWin := l.window(t, "WG Punch", 60*time.Second)
	sender, menuPath := w.waitItem(t, l, conn)

	// Never connected: the tray says so in a few words; the window has
	// the same report, with the whole diagnosis under the peer.
	l.waitFor(t, "the tray to say no answer from Home yet", 30*time.Second, func() bool {
		_, ok := findItem(readMenu(t, conn, sender, menuPath), "office: no answer from Home yet")
		return ok
	})
	// (After 10 s without an answer the engine starts pausing now and then
	// in case a router holds a wrong entry: recovering-stuck-mapping, with
	// the same first words.)
	if d := a.tunnel(t, "office").Peers[0].Diagnosis; d == nil || (d.Code != "never-connected" && d.Code != "recovering-stuck-mapping") || !strings.HasPrefix(d.Message, "No answer from Home") {
		t.Fatalf("A's diagnosis %+v, want never-connected or recovering-stuck-mapping, saying no answer from Home", d)
	}
	l.shotWindow(t, mainWin, "main-diagnosis")

	// A's public address moves.
	next := netip.MustParseAddr("203.0.113.77")
	moved.Store(&next)
	l.ns_(t, "ip", "addr", "add", "10.98.0.1/32", "dev", "lo") // a netlink change: the watch looks at once
	var warn control.Warning
	l.waitFor(t, "public-address-changed on A", 40*time.Second, func() bool {
		for _, x := range a.tunnel(t, "office").Warnings {
			if x.Code == "public-address-changed" && x.Update != "" {
				warn = x
				return true
			}
		}
		return false
	})
	if !strings.Contains(warn.Message, "now 203.0.113.77:51820") || warn.Peer != "Home" {
		t.Errorf("warning %+v, want the new address and the peer Home", warn)
	}
	l.waitFor(t, "the tray to offer the update", 20*time.Second, func() bool {
		_, ok := findItem(readMenu(t, conn, sender, menuPath), "Send Home your new internet address")
		return ok
	})
	if _, ok := findItem(readMenu(t, conn, sender, menuPath), "office: your internet address changed; send Home the update"); !ok {
		t.Errorf("the tray's office line does not say the address changed: %+v", readMenu(t, conn, sender, menuPath))
	}
	l.shotWindow(t, mainWin, "main-address-changed")

	// The tray item opens the update, as a QR code a phone can read.
	clickItem(t, conn, sender, menuPath, "Send Home your new internet address")
	var tok string
	l.waitFor(t, "the update's QR code on the screen", 30*time.Second, func() bool {
		p := l.shot(t, "screen-update")
		out, err := exec.CommandContext(context.Background(), "zbarimg", "--quiet", "--raw", p).Output()
		if err != nil {
			return false
		}
		tok = strings.TrimSpace(string(out))
		return tok != ""
	})
	l.shotWindow(t, mainWin, "update-dialog")
	if tok != warn.Update {
		t.Fatalf("the QR code on the screen holds %q, the daemon's update is %q", tok, warn.Update)
	}
	before := b.tunnel(t, "office-b").Peers[0]
	b.cli(t, "accept", "office-b", tok)
	after := b.tunnel(t, "office-b").Peers[0]
	if after.Endpoint != "203.0.113.77:51820" {
		t.Errorf("B's endpoint for A is %q after the update (was %q), want 203.0.113.77:51820", after.Endpoint, before.Endpoint)
	}
	if after.PublicKey != before.PublicKey || fmt.Sprint(after.AllowedIPs) != fmt.Sprint(before.AllowedIPs) {
		t.Errorf("the update changed more than the endpoint: %+v -> %+v", before, after)
	}
}
