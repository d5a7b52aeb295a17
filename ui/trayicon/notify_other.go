//go:build !linux && !windows

package trayicon

import (
	"errors"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/ui"
)

// Notifier is not implemented outside Linux (notify_linux.go, desktop
// notifications over D-Bus) and Windows (notify_windows.go, toasts):
// fyne.io/systray has no notification call, so the tray-only process on
// other platforms (macOS) shows none; the window process still does,
// through Fyne. See docs/ui.md.
type Notifier struct{}

// NewNotifier says notifications are not available here.
func NewNotifier(icon string, open func(instance.Request)) (*Notifier, error) {
	return nil, errors.New("notifications from the tray process are not available on this system")
}

// Notify does nothing.
func (n *Notifier) Notify(ui.Notice, instance.Request) {}

// Close does nothing.
func (n *Notifier) Close() error { return nil }
