//go:build !windows

package main

import (
	"errors"
	"io"
)

// platformMain has no special entry points outside Windows.
func platformMain(args []string) (handled bool, exitCode int) { return false, 0 }

// errNoServiceLog: "wgpunch log" reads the Windows services' log only.
var errNoServiceLog = errors.New(`"wgpunch log" prints the Windows tunnel services' log; here the daemon logs to the system journal: journalctl -u wgpunch  (add -f to follow)`)

func serviceLog(io.Writer, bool) error { return errNoServiceLog }
