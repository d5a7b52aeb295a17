//go:build !nogui

package main

import (
	"time"

	"github.com/godbus/dbus/v5"
)

// trayWatcher is the D-Bus name of the StatusNotifierWatcher that Fyne's
// tray (fyne.io/systray) registers its icon with; a desktop without it
// (GNOME without the AppIndicator extension, a bare window manager) shows
// no tray icon at all.
const trayWatcher = "org.kde.StatusNotifierWatcher"

// trayWait is how long hasTray waits for a panel that starts with the
// session, as autostart entries may run before it. The tray re-registers
// when the watcher appears later, so waiting costs nothing but the window.
const trayWait = 5 * time.Second

// hasTray reports whether a StatusNotifierWatcher owns its name on the
// session bus within trayWait. No session bus means no tray; the bus is
// never autolaunched here.
func hasTray() bool {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	if err := conn.Hello(); err != nil {
		return false
	}
	deadline := time.Now().Add(trayWait)
	for {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, trayWatcher).Store(&owned)
		if err == nil && owned {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}
