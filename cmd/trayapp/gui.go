//go:build !nogui

package main

import (
	"fyne.io/fyne/v2/app"

	"github.com/wgpunch/wgpunch/ui"
)

// runGUI opens the window and the tray and runs until Quit. Closing the
// window keeps WG Punch in the tray; with --tray it starts there.
func runGUI(g guiOptions) int {
	a := app.NewWithID("io.github.wgpunch")
	u := ui.New(a, ui.Options{Connect: g.Connect, Icons: guiIcons(), StartInTray: g.Tray, HasTray: hasTray})
	u.Start()
	a.Run()
	u.Stop()
	return 0
}
