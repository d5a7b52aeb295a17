package trayicon

// menuOpenedEvents: fyne.io/systray's Win32 backend does not say when the
// menu opens, so the menu's ages stay live there.
const menuOpenedEvents = false
