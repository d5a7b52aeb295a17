package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui/internal/fakectl"
)

// trayApp is a test app with a system tray (the test driver has none): it
// records the tray menu and how often the main window was shown.
type trayApp struct {
	fyne.App
	menu *fyne.Menu
	wins []*countWin
}

func (a *trayApp) SetSystemTrayMenu(m *fyne.Menu)  { a.menu = m }
func (a *trayApp) SetSystemTrayIcon(fyne.Resource) {}
func (a *trayApp) SetSystemTrayWindow(fyne.Window) {}
func (a *trayApp) NewWindow(title string) fyne.Window {
	w := &countWin{Window: a.App.NewWindow(title)}
	a.wins = append(a.wins, w)
	return w
}

type countWin struct {
	fyne.Window
	shows int
}

func (w *countWin) Show() { w.shows++; w.Window.Show() }

func (a *trayApp) item(t *testing.T, label string) *fyne.MenuItem {
	t.Helper()
	if a.menu == nil {
		t.Fatal("no tray menu")
	}
	for _, it := range a.menu.Items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("tray menu has no %q", label)
	return nil
}

func TestStartInTray(t *testing.T) {
	yes := func() bool { return true }
	no := func() bool { return false }
	tests := []struct {
		name    string
		tray    bool // the app has a system tray
		inTray  bool // Options.StartInTray
		hasTray func() bool
		shows   int // main window Show calls after Start
	}{
		{"plain start", true, false, yes, 1},
		{"--tray with a tray", true, true, yes, 0},
		{"--tray, tray presence unknown", true, true, nil, 0},
		{"--tray without a tray watcher", true, true, no, 1},
		{"--tray on an app without tray support", false, true, yes, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakectl.New()
			f.Silent = true
			f.AddTunnel(control.TunnelStatus{Name: "Office", ListenPort: 51820})
			ta := &trayApp{App: test.NewTempApp(t)}
			var fa fyne.App = ta
			if !tt.tray {
				fa = struct{ fyne.App }{ta} // hides the tray methods
			}
			asked := false
			opts := Options{Connect: func() (control.Controller, error) { return f, nil }, Now: func() time.Time { return t0 },
				NoAnimation: true, Sync: true, StartInTray: tt.inTray}
			if tt.hasTray != nil {
				opts.HasTray = func() bool { asked = true; return tt.hasTray() }
			}
			a := New(fa, opts)
			t.Cleanup(a.Stop)
			a.Start()
			win := ta.wins[0]
			if win.shows != tt.shows {
				t.Fatalf("main window shown %d times after Start, want %d", win.shows, tt.shows)
			}
			if asked != (tt.tray && tt.inTray && tt.hasTray != nil) {
				t.Errorf("HasTray asked = %v", asked)
			}
			if !tt.tray {
				return
			}
			// The tray lists the link even while the window is hidden, and
			// "Open WG Punch" shows the window, drawn up to date.
			if a.tray.Items == nil || a.tray.Items[0].Tunnel != "Office" {
				t.Errorf("tray model = %+v, want Office listed", a.tray)
			}
			ta.item(t, "Open WG Punch").Action()
			if win.shows != tt.shows+1 {
				t.Errorf("Open WG Punch: window shown %d times, want %d", win.shows, tt.shows+1)
			}
			if a.hidden {
				t.Error("window still marked hidden after Open WG Punch")
			}
			if a.list.cards.get("Office") == nil {
				t.Error("window opened from the tray does not list Office")
			}
		})
	}
}

// A tray that never turns up opens the window, but not over a window the
// user already opened and closed again from the tray meanwhile.
func TestStartInTrayLateVerdict(t *testing.T) {
	ta := &trayApp{App: test.NewTempApp(t)}
	var a *App
	// The verdict comes after the user opened the window from the tray and
	// closed it again.
	lateNo := func() bool {
		ta.item(t, "Open WG Punch").Action()
		a.hide()
		return false
	}
	f := fakectl.New()
	f.Silent = true
	a = New(ta, Options{Connect: func() (control.Controller, error) { return f, nil }, NoAnimation: true,
		Sync: true, StartInTray: true, HasTray: lateNo})
	t.Cleanup(a.Stop)
	a.Start()
	if win := ta.wins[0]; win.shows != 1 {
		t.Errorf("window shown %d times, want 1 (only by Open WG Punch)", win.shows)
	}
	if !a.hidden {
		t.Error("the window the user closed was opened again")
	}
}
