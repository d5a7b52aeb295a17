// Command wgpunch is WG Punch: a tray app and CLI that links two computers
// behind ordinary NATs with a direct WireGuard tunnel.
//
//	wgpunch                      starts the GUI
//	wgpunch --tray               starts the GUI in the tray (at login)
//	wgpunch [global flags] COMMAND [ARGS]   see `wgpunch help`
package main

import (
	"io"
	"os"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/internal/locale"
	"github.com/wgpunch/wgpunch/tunnel/control"
)

// guiOptions is what the GUI (gui.go) gets from main.
type guiOptions struct {
	// StateDir is --state-dir ("" when not given).
	StateDir string
	// Socket is the daemon socket (--socket or ipc.DefaultSocket()).
	Socket string
	// Connect returns the daemon Client if a daemon answers on Socket,
	// otherwise a local Service on the state directory that can edit
	// tunnels but not bring them up (Up/Down return control.ErrNeedDaemon).
	Connect func() (control.Controller, error)
	// Tray is --tray: start with only the tray icon, the window hidden.
	Tray bool
	// Window is --window: be the window process the tray process starts
	// (README "Running"); closing the window ends it.
	Window bool
	// Daemon returns the daemon's Client if a daemon answers on Socket and
	// serves our state directory.
	Daemon func() (control.Controller, bool)
	// Args are the global flags to start the window process with.
	Args []string
	// Ask is what this start asks an app that already runs: ActionShow,
	// or what a wgpunch: link asked for (uri.go). Without a running app
	// the start is a plain one.
	Ask instance.Request
}

func main() {
	// Package locale's init kept Fyne's init from logging a locale error
	// (LANG=C.UTF-8); the CLI and daemon roles give the processes they
	// start the user's environment back. runGUI applies it again.
	locale.Restore()
	// Windows entry points (tunnel service, elevated helper) come first;
	// platformMain may also attach the parent console, replacing os.Std*.
	if handled, code := platformMain(os.Args[1:]); handled {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without os.Exit, for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newCLI(stdin, stdout, stderr).main(args)
}
