//go:build !nogui && !linux

package main

// hasTray is always true where the tray is part of the OS shell (Windows
// notification area, macOS menu bar).
func hasTray() bool { return true }
