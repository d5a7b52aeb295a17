package trayicon

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/ui"
)

const (
	notifyName = "org.freedesktop.Notifications"
	notifyPath = "/org/freedesktop/Notifications"
)

// Notifier sends desktop notifications over org.freedesktop.Notifications
// and turns a click on one into a request for the window.
type Notifier struct {
	conn *dbus.Conn
	icon string // an icon file path or name, may be ""

	mu      sync.Mutex
	pending map[uint32]instance.Request
}

// NewNotifier connects to the session bus on a connection of its own
// (fyne.io/systray's shared one stops listening at signals it does not
// expect) and calls open when a notification is clicked. icon is an icon
// file path for the notifications ("" for none).
func NewNotifier(icon string, open func(instance.Request)) (*Notifier, error) {
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, fmt.Errorf("notifications: session bus: %w", err)
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notifications: session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notifications: session bus: %w", err)
	}
	n := &Notifier{conn: conn, icon: icon, pending: map[uint32]instance.Request{}}
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(notifyPath), dbus.WithMatchInterface(notifyName)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notifications: listen for clicks: %w", err)
	}
	sig := make(chan *dbus.Signal, 8)
	conn.Signal(sig)
	go func() {
		for s := range sig {
			if len(s.Body) < 1 {
				continue
			}
			id, _ := s.Body[0].(uint32)
			n.mu.Lock()
			req, ok := n.pending[id]
			delete(n.pending, id)
			n.mu.Unlock()
			if ok && s.Name == notifyName+".ActionInvoked" {
				go open(req)
			}
		}
	}()
	return n, nil
}

// Notify shows a notification; clicking it (its default action) sends
// click to the open function. Errors are dropped: a desktop without a
// notification service shows none, as with Fyne's own.
func (n *Notifier) Notify(note ui.Notice, click instance.Request) {
	actions := []string{"default", "Open WG Punch"}
	hints := map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant("io.github.wgpunch")}
	var id uint32
	err := n.conn.Object(notifyName, notifyPath).Call(notifyName+".Notify", 0,
		"WG Punch", uint32(0), n.icon, note.Title, note.Body, actions, hints, int32(-1)).Store(&id)
	if err != nil {
		return
	}
	n.mu.Lock()
	if len(n.pending) > 64 { // the service never told us these were closed
		clear(n.pending)
	}
	n.pending[id] = click
	n.mu.Unlock()
}

// Close ends the connection.
func (n *Notifier) Close() error { return n.conn.Close() }
