//go:build !windows

package trayicon

// menuOpenedEvents: dbusmenu's "opened" event (and macOS's) reach
// systray.TrayOpenedCh, so the menu's ages can wait for it.
const menuOpenedEvents = true
