package main

import (
	"io"
	"os"

	"golang.org/x/sys/windows"

	"github.com/wgpunch/wgpunch/tunnel/winsvc"
)

// platformMain runs the Windows entry points that must win over the normal
// command line: "/tunnelservice CONF" (the per-tunnel Windows service),
// "/elevated DIR" (the UAC-elevated helper) and "/uninstall-services" (run
// by the MSI on uninstall). main calls it first; handled false means "not
// mine, carry on".
//
// wgpunch.exe is a GUI-subsystem program (no console window for the tray
// app), so for a CLI command it attaches to the console of the shell that
// started it, unless its output is already redirected.
func platformMain(args []string) (handled bool, exitCode int) {
	if handled, code := winsvc.Main(args); handled {
		return true, code
	}
	if len(args) > 0 {
		attachParentConsole()
	}
	return false, 0
}

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

func attachParentConsole() {
	if h, err := windows.GetStdHandle(windows.STD_OUTPUT_HANDLE); err == nil && h != 0 && h != windows.InvalidHandle {
		return // redirected to a file or pipe: keep it
	}
	const attachParentProcess = ^uintptr(0)
	if r, _, _ := procAttachConsole.Call(attachParentProcess); r == 0 {
		return // started from Explorer: no console to attach to
	}
	if out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = out, out
	}
	if in, err := os.OpenFile("CONIN$", os.O_RDONLY, 0); err == nil {
		os.Stdin = in
	}
}

// serviceLog prints the tunnel services' ring log ("wgpunch log").
func serviceLog(w io.Writer, follow bool) error { return winsvc.DumpLog(w, follow) }
