package trayicon

import (
	"context"
	"sync"

	"fyne.io/systray"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/ui"
)

// Icons are the state icons as PNG files.
type Icons struct {
	Off, Connected, Connecting, Problem []byte
}

func (i Icons) for_(o ui.Overall) []byte {
	switch o {
	case ui.OverallConnected:
		return i.Connected
	case ui.OverallConnecting:
		return i.Connecting
	case ui.OverallProblem:
		return i.Problem
	}
	return i.Off
}

// sysMenu draws a Tray with fyne.io/systray.
type sysMenu struct {
	icons Icons
	click func(ui.TrayEntry)

	mu      sync.Mutex
	entries []ui.TrayEntry
	items   []*systray.MenuItem // nil for separators
}

func (s *sysMenu) SetIcon(o ui.Overall) { systray.SetIcon(osIcon(s.icons.for_(o))) }

// SetMenu changes the labels and ticks in place when the menu keeps its
// shape (the usual change: "connected, 10 s ago" to "20 s ago"), so the
// panel hears of one item instead of the whole menu; otherwise it
// rebuilds the menu.
func (s *sysMenu) SetMenu(entries []ui.TrayEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sameShape(s.entries, entries) {
		for i, e := range entries {
			old, it := s.entries[i], s.items[i]
			if it == nil {
				continue
			}
			if e.Label != old.Label {
				it.SetTitle(e.Label)
			}
			if e.Checked != old.Checked {
				if e.Checked {
					it.Check()
				} else {
					it.Uncheck()
				}
			}
		}
		s.entries = entries
		return
	}
	systray.ResetMenu() // closes the old items' ClickedCh, ending their goroutines
	s.entries, s.items = entries, make([]*systray.MenuItem, len(entries))
	for i, e := range entries {
		var item *systray.MenuItem
		switch {
		case e.Kind == ui.EntrySeparator:
			systray.AddSeparator()
			continue
		case e.Checkable:
			item = systray.AddMenuItemCheckbox(e.Label, "", e.Checked)
		default:
			item = systray.AddMenuItem(e.Label, "")
		}
		s.items[i] = item
		go func(i int, ch <-chan struct{}) {
			for range ch {
				s.mu.Lock()
				e := s.entries[i]
				s.mu.Unlock()
				s.click(e)
			}
		}(i, item.ClickedCh)
	}
}

// sameShape: the same entries in the same order, up to labels and ticks.
func sameShape(a, b []ui.TrayEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Checkable != b[i].Checkable || a[i].Item.Tunnel != b[i].Item.Tunnel {
			return false
		}
	}
	return true
}

// Run shows the tray until Quit is called (by the menu's Quit, or by
// stop). It must run on the main goroutine (systray locks it to the main
// thread, as Win32 wants). ready runs once the tray is up.
func Run(o Options, icons Icons, ready func(t *Tray, stop func())) {
	menu := &sysMenu{icons: icons}
	o.Menu = menu
	o.LazyAges = menuOpenedEvents
	quit := o.Quit
	o.Quit = func() {
		if quit != nil {
			quit()
		}
		systray.Quit()
	}
	t := New(o)
	menu.click = t.Click
	ctx, cancel := context.WithCancel(context.Background())
	systray.Run(func() {
		systray.SetTitle("WG Punch")
		systray.SetTooltip("WG Punch")
		// A click on the icon itself opens the window, as the menu's Open does.
		systray.SetOnTapped(func() { go o.Open(instance.Request{Action: instance.ActionShow}) })
		t.Apply(nil)
		go t.Watch(ctx)
		go func() {
			for range systray.TrayOpenedCh {
				t.MenuOpened()
			}
		}()
		if ready != nil {
			ready(t, o.Quit)
		}
	}, cancel)
}
