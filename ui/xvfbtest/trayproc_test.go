package xvfbtest

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/ui"
)

// trayItem is the tray icon's bus name and menu path of the tray process
// pid, as fyne.io/systray names it on the bus.
func trayItem(t testing.TB, l *lab, conn *dbus.Conn, pid int) (string, dbus.ObjectPath) {
	t.Helper()
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid)
	var menu dbus.ObjectPath
	l.waitFor(t, "the tray process's StatusNotifierItem on the bus", 30*time.Second, func() bool {
		v, err := conn.Object(name, "/StatusNotifierItem").GetProperty("org.kde.StatusNotifierItem.Menu")
		if err != nil {
			return false
		}
		menu, _ = v.Value().(dbus.ObjectPath)
		return menu != ""
	})
	return name, menu
}

// windowPID is the _NET_WM_PID of an X window.
func (l *lab) windowPID(t testing.TB, win string) int {
	t.Helper()
	out := strings.TrimSpace(l.ns_(t, "xdotool", "getwindowpid", win))
	pid, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("window %s pid %q: %v", win, out, err)
	}
	return pid
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// TestTrayInPanel runs `wgpunch --tray` with a real StatusNotifier host
// (xfce4-panel on a dbus-launch bus) and a daemon with two links: the
// panel shows the state icon; the menu toggles a link over D-Bus; "Open
// WG Punch" shows the window in a process of its own, and closing it leaves
// the tray running with the GL driver gone; a second start raises the
// first window instead of opening another.
func TestTrayInPanel(t *testing.T) {
	needTools(t, "dbus-launch", "xfce4-panel")
	l := newLab(t)
	a, b := l.pair(t)
	link(t, a, b, "office", 51820, true)
	link(t, a, b, "lab", 51821, false)
	bus, conn := l.panel(t)
	empty := l.panelShot(t)
	if best, _, _ := trayIconIn(empty); best != "" {
		t.Fatalf("the panel shows an icon (%s) before WG Punch starts", best)
	}

	tray := l.appFlags(t, []string{"--tray"}, "DBUS_SESSION_BUS_ADDRESS="+bus)
	pid := tray.Process.Pid

	// The icon in the panel is the state icon of the daemon's status
	// (office is up with a live peer: connected, unless a warning stands).
	var got, want string
	var diffs map[string]float64
	var last image.Image
	if _, err := testutil.WaitFor(60*time.Second, 100*time.Millisecond, func() (bool, string) {
		want = ui.BuildTray(a.status(t), time.Now()).Overall.String()
		last = l.panelShot(t)
		got, diffs, _ = trayIconIn(last)
		return got == want && clearlyBest(diffs, got), fmt.Sprintf("the panel shows %q, the status says %q (differences %v)", got, want, diffs)
	}); err != nil {
		t.Fatalf("the panel does not show the state icon (screenshot %s): %v", l.savePanelShot(t, last, "tray-panel-failed"), err)
	}
	t.Logf("state %s", want)
	shot := l.panelShot(t)
	_, diffs, box := trayIconIn(shot)
	t.Logf("panel icon at %v; mean difference from each state icon: %v", box, diffs)
	l.savePanelShot(t, shot, "tray-panel")
	if ids := l.windows(t, "WG Punch", false); len(ids) > 0 {
		t.Fatalf("wgpunch --tray made a window (%v)", ids)
	}

	// The menu, as the panel reads it, toggles lab up over D-Bus.
	sender, menuPath := trayItem(t, l, conn, pid)
	l.waitFor(t, "office connected in the menu", 30*time.Second, func() bool {
		it, ok := findItem(readMenu(t, conn, sender, menuPath), "office: connected")
		return ok && it.Toggled
	})
	t.Logf("tray menu: %+v", readMenu(t, conn, sender, menuPath))
	clickItem(t, conn, sender, menuPath, "lab: off")
	l.waitFor(t, "lab up in the daemon", 20*time.Second, func() bool { return a.tunnel(t, "lab").Up })
	l.waitFor(t, "lab ticked in the menu", 20*time.Second, func() bool {
		it, ok := findItem(readMenu(t, conn, sender, menuPath), "lab:")
		return ok && it.Toggled
	})

	// The menu's ages move when the panel opens the menu (dbusmenu "opened").
	it0, _ := findItem(readMenu(t, conn, sender, menuPath), "office:")
	l.waitFor(t, "office's age to move after the menu opens", 40*time.Second, func() bool {
		conn.Object(sender, menuPath).Call("com.canonical.dbusmenu.Event", 0, int32(0), "opened", dbus.MakeVariant(""), uint32(time.Now().Unix()))
		it, ok := findItem(readMenu(t, conn, sender, menuPath), "office: connected")
		return ok && it.Label != it0.Label
	})

	// Open: the window is another process; closing it ends that process only.
	clickItem(t, conn, sender, menuPath, "Open WG Punch")
	win := l.window(t, "WG Punch", 30*time.Second)
	wpid := l.windowPID(t, win)
	if wpid == pid {
		t.Fatalf("the window belongs to the tray process %d; want a window process", pid)
	}
	l.closeWindow(t, win)
	l.waitFor(t, "the window process to end", 20*time.Second, func() bool { return !alive(wpid) || isZombie(wpid) })
	if ids := l.windows(t, "WG Punch", false); len(ids) > 0 {
		t.Fatalf("a WG Punch window is left after closing it: %v", ids)
	}
	if !alive(pid) {
		t.Fatal("closing the window ended the tray")
	}
	if _, ok := findItem(readMenu(t, conn, sender, menuPath), "Open WG Punch"); !ok {
		t.Fatal("the tray menu no longer answers after the window closed")
	}
	if maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid)); err == nil && bytes.Contains(maps, []byte("dri")) {
		t.Error("the tray process has a GL driver (dri) mapped")
	}

	// Open again, then a second start raises that window: no second window.
	clickItem(t, conn, sender, menuPath, "Open WG Punch")
	win = l.window(t, "WG Punch", 30*time.Second)
	panelWin := strings.Fields(l.ns_(t, "xdotool", "search", "--onlyvisible", "--class", "xfce4-panel"))[0]
	l.ns_(t, "xdotool", "windowfocus", panelWin)
	start := time.Now()
	second := l.nsCmd(t.Context(), l.bin, "--state-dir", l.stateDir, "--socket", l.socket)
	second.Env = append(append([]string(nil), l.env...), "DBUS_SESSION_BUS_ADDRESS="+bus)
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second start: %v\n%s", err, out)
	}
	t.Logf("second start returned after %v", time.Since(start).Round(time.Millisecond))
	l.waitFor(t, "the first window to get the focus", 20*time.Second, func() bool {
		out, err := l.nsCmd(t.Context(), "xdotool", "getwindowfocus").Output()
		return err == nil && strings.TrimSpace(string(out)) == win
	})
	if ids := l.windows(t, "WG Punch", false); len(ids) != 1 {
		t.Fatalf("after a second start: %d WG Punch windows (%v), want the first one only", len(ids), ids)
	}
}

// clearlyBest: the icon is much more like the state icon best than any
// other (scaling and antialiasing leave some difference even for the
// right one; the state icons differ in colour and shape).
func clearlyBest(diffs map[string]float64, best string) bool {
	if diffs[best] > 45 {
		return false
	}
	for name, d := range diffs {
		if name != best && d < 2*diffs[best] {
			return false
		}
	}
	return true
}

// isZombie: the process ended but its parent has not reaped it yet.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

// TestTrayProcessWithoutTray starts `wgpunch --tray` with a daemon on a bus
// without a StatusNotifierWatcher: the tray process opens the window anyway
// (nothing else could), and closing it ends the app, leaving no process
// behind that nobody can reach.
func TestTrayProcessWithoutTray(t *testing.T) {
	needTools(t, "dbus-daemon")
	l := newLab(t)
	a := &side{l: l, ns: l.ns, stateDir: l.stateDir, socket: l.socket, host: "machine-a"}
	a.start(t)
	busAddr, _ := l.sessionBus(t)
	tray := l.appFlags(t, []string{"--tray"}, "DBUS_SESSION_BUS_ADDRESS="+busAddr)
	win := l.window(t, "WG Punch", 60*time.Second)
	if wpid := l.windowPID(t, win); wpid == tray.Process.Pid {
		t.Fatalf("the window is the tray process's own (%d): want the window process", wpid)
	}
	l.closeWindow(t, win)
	l.waitFor(t, "the tray process to end with its window", 20*time.Second, func() bool {
		return !alive(tray.Process.Pid) || isZombie(tray.Process.Pid)
	})
}
