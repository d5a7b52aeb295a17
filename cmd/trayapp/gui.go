//go:build !nogui

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/internal/locale"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/ui"
)

// oneProcessEnv set to 1 keeps the whole GUI in one Fyne process, as
// before the tray process existed (tests, and a fallback).
const oneProcessEnv = "WGPUNCH_ONE_PROCESS"

// liveEvery is ui.Options.LiveEvery: traffic counters that moved without
// a packet arriving (sent only) and handshake ages show in the window every
// 15 s; a packet arriving pulses its dot at once, and everything else shows
// at once too. See docs/ui.md.
const liveEvery = 15 * time.Second

// pulseEvery is ui.Options.PulseEvery: the keepalive interval, so a link
// pulses its dot once per keepalive, and several links pulse together in
// one pair of frames instead of one pair each. See docs/ui.md.
const pulseEvery = conf.DefaultKeepalive * time.Second

// runGUI starts the app. With a daemon it is two processes: this one
// becomes the tray (fyne.io/systray, no GL driver; gui_tray.go) and starts
// the window as `wgpunch --window` when asked, which exits when closed.
// Without a daemon (tunnels in this process, or a local service that can
// only edit) or with WGPUNCH_ONE_PROCESS=1 it is the one Fyne process of
// before. Either way a second start raises the first app's window.
func runGUI(g guiOptions) int {
	if g.Window {
		return runWindow(g)
	}
	path, err := instance.Path("app", instanceKey(g))
	var srv *instance.Server
	if err == nil {
		srv, err = instance.Listen(path)
	}
	switch {
	case errors.Is(err, instance.ErrRunning):
		if g.Tray {
			fmt.Fprintln(os.Stderr, "wgpunch: WG Punch is already running")
			return 0
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ask := g.Ask
		if ask.Action == "" {
			ask.Action = instance.ActionShow
		}
		if err := instance.Send(ctx, path, ask); err != nil {
			fmt.Fprintf(os.Stderr, "wgpunch: WG Punch is already running but does not open its window: %v\n", err)
			return 1
		}
		return 0
	case err != nil:
		// Not fatal: this start just cannot be found by the next one.
		fmt.Fprintf(os.Stderr, "wgpunch: %v (a second start will open a second app)\n", err)
	}
	if srv != nil {
		defer srv.Close()
	}
	if os.Getenv(oneProcessEnv) != "1" {
		if ctl, ok := g.Daemon(); ok {
			return runTray(g, ctl, srv)
		}
	}
	return runOneProcess(g, srv)
}

// instanceKey names the app by the daemon socket and state directory it
// serves: one app per user for each.
func instanceKey(g guiOptions) string {
	dir := g.StateDir
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	return g.Socket + "\x00" + dir
}

// runOneProcess opens the window and the tray in one Fyne app and runs
// until Quit. Closing the window keeps WG Punch in the tray; with --tray
// it starts there. SIGINT and SIGTERM quit as the tray's Quit does, so
// in-process tunnels go down cleanly.
func runOneProcess(g guiOptions, srv *instance.Server) int {
	// Fyne reads the locale again while it runs (widgets, fonts): keep
	// LANG=C.UTF-8 and the like reading as English, not as the tag "C".
	locale.Apply()
	a := app.NewWithID("io.github.wgpunch")
	u := ui.New(a, ui.Options{Connect: g.Connect, Icons: guiIcons(), StartInTray: g.Tray, HasTray: hasTray, LiveEvery: liveEvery, PulseEvery: pulseEvery})
	if srv != nil {
		go srv.Serve(func(r instance.Request) { fyne.Do(func() { handleWindowRequest(a, u, r) }) })
	}
	return runFyne(a, u)
}

// runFyne runs a started-to-be UI until the app quits or a signal comes.
func runFyne(a fyne.App, u *ui.App) int {
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

// handleWindowRequest does what another process asked of the window; it
// runs on the Fyne goroutine.
func handleWindowRequest(a fyne.App, u *ui.App, r instance.Request) {
	switch r.Action {
	case instance.ActionShow:
		u.ShowWindow()
	case instance.ActionUpdate:
		u.ShowAddressUpdate(r.Peer, r.Update)
	case instance.ActionWizard:
		u.ShowWindow()
		u.ShowWizard()
	case instance.ActionQuit:
		u.Stop()
		a.Quit()
	}
}
