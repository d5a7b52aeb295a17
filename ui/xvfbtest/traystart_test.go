package xvfbtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// windows lists the X windows titled exactly title; visible: mapped only.
func (l *lab) windows(t testing.TB, title string, visible bool) []string {
	t.Helper()
	args := []string{"search"}
	if visible {
		args = append(args, "--onlyvisible")
	}
	out, _ := l.nsCmd(context.Background(), "xdotool", append(args, "--name", "^"+title+"$")...).Output()
	return strings.Fields(string(out)) // xdotool exits 1 when nothing matches
}

// TestStartInTray starts `wgpunch --tray` as the login entries do, with a
// panel's StatusNotifierWatcher on the session bus: the tray icon registers
// and no window shows, until the tray's "Open WG Punch" is clicked.
func TestStartInTray(t *testing.T) {
	needTools(t, "dbus-daemon")
	l := newLab(t)
	busAddr, conn := l.sessionBus(t)
	w := l.trayWatcher(t, conn)
	l.appFlags(t, []string{"--tray"}, "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	sender, menuPath := w.waitItem(t, l, conn)
	l.waitFor(t, "Open WG Punch in the tray menu", 20*time.Second, func() bool {
		_, ok := findItem(readMenu(t, conn, sender, menuPath), "Open WG Punch")
		return ok
	})
	// The app is up (its tray menu answers); give a window that would
	// show at start time to map, then look. A fixed window on purpose:
	// the assertion is that no window appears, which has no sign to wait on.
	time.Sleep(3 * time.Second)
	if ids := l.windows(t, "WG Punch", true); len(ids) > 0 {
		l.shot(t, "tray-start-screen")
		t.Fatalf("wgpunch --tray shows a window at start (%v); want only the tray icon", ids)
	}
	t.Logf("WG Punch windows at start: %d mapped, %d in all", 0, len(l.windows(t, "WG Punch", false)))

	clickItem(t, conn, sender, menuPath, "Open WG Punch")
	win := l.window(t, "WG Punch", 20*time.Second)
	// It is the real main window, not an empty shell: Ctrl+N opens the wizard.
	l.key(t, win, "ctrl+n")
	l.window(t, "Link another computer", 10*time.Second)
}

// TestStartInTrayWithoutTray starts `wgpunch --tray` on a session bus
// without a StatusNotifierWatcher (a desktop with no tray): the window
// shows anyway, after the app has waited for a panel to turn up.
func TestStartInTrayWithoutTray(t *testing.T) {
	needTools(t, "dbus-daemon")
	l := newLab(t)
	busAddr, conn := l.sessionBus(t)
	start := time.Now()
	l.appFlags(t, []string{"--tray"}, "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	l.window(t, "WG Punch", 60*time.Second)
	t.Logf("window shown %.1f s after start (no tray on the bus)", time.Since(start).Seconds())
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&owned); err != nil || owned {
		t.Fatalf("the lab bus has a tray watcher after all (%v, %v)", owned, err)
	}
}
