//go:build !nogui

package main

import (
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/wgpunch/wgpunch/internal/locale"
	"github.com/wgpunch/wgpunch/ui"
)

// runGUI opens the window and the tray and runs until Quit. Closing the
// window keeps WG Punch in the tray; with --tray it starts there. SIGINT and
// SIGTERM quit as the tray's Quit does, so in-process tunnels go down cleanly.
func runGUI(g guiOptions) int {
	// Fyne reads the locale again while it runs (widgets, fonts): keep
	// LANG=C.UTF-8 and the like reading as English, not as the tag "C".
	locale.Apply()
	a := app.NewWithID("io.github.wgpunch")
	u := ui.New(a, ui.Options{Connect: g.Connect, Icons: guiIcons(), StartInTray: g.Tray, HasTray: hasTray})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; ok {
			fyne.Do(a.Quit)
		}
	}()
	u.Start()
	a.Run()
	signal.Stop(sig)
	close(sig)
	u.Stop()
	return 0
}
