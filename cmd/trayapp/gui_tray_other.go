//go:build !nogui && !linux

package main

// hasTray is nil where the tray is part of the OS shell (Windows
// notification area, macOS menu bar): the UI takes nil to mean "yes".
var hasTray func() bool
