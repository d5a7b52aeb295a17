//go:build nogui

package main

import (
	"fmt"
	"os"
)

// runGUI reports that this binary has no GUI (built with -tags nogui).
func runGUI(g guiOptions) int {
	fmt.Fprintln(os.Stderr, "wgpunch: built without GUI (-tags nogui); use the command line: wgpunch help")
	return 2
}
