//go:build !nogui

package main

import (
	"fmt"
	"os"
)

// runGUI is a placeholder until the Fyne GUI (H6) replaces this file.
func runGUI(g guiOptions) int {
	fmt.Fprintln(os.Stderr, "wgpunch: GUI not built yet; see `wgpunch help` for the command line")
	return 2
}
