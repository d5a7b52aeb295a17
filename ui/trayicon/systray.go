package trayicon

import (
	"context"

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
}

func (s *sysMenu) SetIcon(o ui.Overall) { systray.SetIcon(osIcon(s.icons.for_(o))) }

func (s *sysMenu) SetMenu(entries []ui.TrayEntry) {
	systray.ResetMenu() // closes the old items' ClickedCh, ending their goroutines
	for _, e := range entries {
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
		go func(e ui.TrayEntry, ch <-chan struct{}) {
			for range ch {
				s.click(e)
			}
		}(e, item.ClickedCh)
	}
}

// Run shows the tray until Quit is called (by the menu's Quit, or by
// stop). It must run on the main goroutine (systray locks it to the main
// thread, as Win32 wants). ready runs once the tray is up.
func Run(o Options, icons Icons, ready func(t *Tray, stop func())) {
	menu := &sysMenu{icons: icons}
	o.Menu = menu
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
		if ready != nil {
			ready(t, o.Quit)
		}
	}, cancel)
}
