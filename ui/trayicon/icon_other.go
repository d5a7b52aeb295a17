//go:build !windows

package trayicon

// osIcon is the icon as the tray wants it: a PNG on Linux and macOS.
func osIcon(png []byte) []byte { return png }
