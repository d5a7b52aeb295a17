package xvfbtest

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// watcher is a minimal org.kde.StatusNotifierWatcher, the part of a desktop
// panel that tray icons register with.
type watcher struct {
	mu    sync.Mutex
	items []string // "sender|path"
}

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append(w.items, string(sender)+"|"+service)
	return nil
}

// sessionBus starts a private D-Bus session bus for the lab and returns its
// address and a connection to it.
func (l *lab) sessionBus(t testing.TB) (string, *dbus.Conn) {
	t.Helper()
	busAddr := "unix:path=" + filepath.Join(l.dir, "bus")
	l.start(t, "dbus", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+busAddr)
	var conn *dbus.Conn
	l.waitFor(t, "session bus", 10*time.Second, func() bool {
		c, err := dbus.Connect(busAddr)
		if err != nil {
			return false
		}
		conn = c
		return true
	})
	t.Cleanup(func() { conn.Close() })
	return busAddr, conn
}

// trayWatcher serves a StatusNotifierWatcher on conn's bus, as a panel does.
func (l *lab) trayWatcher(t testing.TB, conn *dbus.Conn) *watcher {
	t.Helper()
	w := &watcher{}
	if err := conn.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.kde.StatusNotifierWatcher: %v %v", reply, err)
	}
	return w
}

// waitItem waits for a tray icon to register and returns its bus name and
// the path of its menu.
func (w *watcher) waitItem(t testing.TB, l *lab, conn *dbus.Conn) (string, dbus.ObjectPath) {
	t.Helper()
	var sender, itemPath string
	l.waitFor(t, "the tray icon to register with the watcher", 60*time.Second, func() bool {
		var ok bool
		sender, itemPath, ok = w.first()
		return ok
	})
	// The item tells where its menu is, as the StatusNotifierItem spec says.
	v, err := conn.Object(sender, dbus.ObjectPath(itemPath)).GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("read the item's Menu property: %v", err)
	}
	return sender, v.Value().(dbus.ObjectPath)
}

func (w *watcher) first() (string, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.items) == 0 {
		return "", "", false
	}
	sender, path, _ := strings.Cut(w.items[0], "|")
	return sender, path, true
}

// menuItem is one dbusmenu entry.
type menuItem struct {
	ID      int32
	Label   string
	Toggled bool // toggle-state == 1
}

// readMenu calls com.canonical.dbusmenu.GetLayout like a panel does.
func readMenu(t testing.TB, conn *dbus.Conn, dest string, path dbus.ObjectPath) []menuItem {
	t.Helper()
	var rev uint32
	var layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	call := conn.Object(dest, path).Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		t.Fatalf("GetLayout: %v", call.Err)
	}
	if err := call.Store(&rev, &layout); err != nil {
		t.Fatalf("GetLayout reply: %v", err)
	}
	var items []menuItem
	for _, c := range layout.Children {
		f, ok := c.Value().([]any)
		if !ok || len(f) != 3 {
			continue
		}
		props, _ := f[1].(map[string]dbus.Variant)
		it := menuItem{ID: f[0].(int32)}
		if v, ok := props["label"]; ok {
			it.Label, _ = v.Value().(string)
		}
		if v, ok := props["toggle-state"]; ok {
			n, _ := v.Value().(int32)
			it.Toggled = n == 1
		}
		if v, ok := props["visible"]; ok {
			if vis, _ := v.Value().(bool); !vis {
				continue
			}
		}
		items = append(items, it)
	}
	return items
}

// clickItem clicks the menu item whose label starts with prefix, as a panel
// does (com.canonical.dbusmenu.Event "clicked").
func clickItem(t testing.TB, conn *dbus.Conn, sender string, menuPath dbus.ObjectPath, prefix string) {
	t.Helper()
	it, ok := findItem(readMenu(t, conn, sender, menuPath), prefix)
	if !ok {
		t.Fatalf("no menu item %q", prefix)
	}
	call := conn.Object(sender, menuPath).Call("com.canonical.dbusmenu.Event", 0, it.ID, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
	if call.Err != nil {
		t.Fatalf("click %q: %v", prefix, call.Err)
	}
}

func findItem(items []menuItem, prefix string) (menuItem, bool) {
	for _, it := range items {
		if strings.HasPrefix(it.Label, prefix) {
			return it, true
		}
	}
	return menuItem{}, false
}

// TestTrayOverDBus reads the tray menu over D-Bus as a panel would and
// clicks a tunnel's item: the tunnel goes up, then down again.
func TestTrayOverDBus(t *testing.T) {
	needTools(t, "dbus-daemon")
	l := newLab(t)
	a, b := l.pair(t)
	link(t, a, b, "office", 51820, true)
	link(t, a, b, "lab", 51821, false)

	busAddr, conn := l.sessionBus(t)
	w := l.trayWatcher(t, conn)

	l.app(t, "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	mainWin := l.window(t, "WG Punch", 60*time.Second)
	sender, menuPath := w.waitItem(t, l, conn)

	var items []menuItem
	l.waitFor(t, "office connected in the tray menu", 30*time.Second, func() bool {
		items = readMenu(t, conn, sender, menuPath)
		it, ok := findItem(items, "office: connected")
		return ok && it.Toggled
	})
	if it, ok := findItem(items, "lab: off"); !ok || it.Toggled {
		t.Fatalf("lab should be listed as off and unticked: %+v", items)
	}
	for _, want := range []string{"Open WG Punch", "Link another computer…", "Quit"} {
		if _, ok := findItem(items, want); !ok {
			t.Errorf("menu lacks %q: %+v", want, items)
		}
	}
	l.shotWindow(t, mainWin, "main-connected")
	t.Logf("tray menu: %+v", items)

	click := func(prefix string) { t.Helper(); clickItem(t, conn, sender, menuPath, prefix) }
	click("lab: off")
	l.waitFor(t, "lab up in the daemon", 20*time.Second, func() bool { return a.tunnel(t, "lab").Up })
	l.waitFor(t, "lab ticked in the tray menu", 20*time.Second, func() bool {
		it, ok := findItem(readMenu(t, conn, sender, menuPath), "lab:")
		return ok && it.Toggled
	})
	l.waitFor(t, "lab connected (handshake with B)", 30*time.Second, func() bool {
		it, ok := findItem(readMenu(t, conn, sender, menuPath), "lab: connected")
		return ok && it.Toggled
	})
	l.shotWindow(t, mainWin, "main-two-connected")
	click("lab:")
	l.waitFor(t, "lab down in the daemon", 20*time.Second, func() bool { return !a.tunnel(t, "lab").Up })
	l.waitFor(t, "lab unticked in the tray menu", 20*time.Second, func() bool {
		it, ok := findItem(readMenu(t, conn, sender, menuPath), "lab: off")
		return ok && !it.Toggled
	})
	if !a.tunnel(t, "office").Up {
		t.Error("office went down although only lab was clicked")
	}
}
