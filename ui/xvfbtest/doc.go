// Package xvfbtest runs the real wgpunch binary in a virtual X display
// (Xvfb) inside a network namespace of its own, drives it with xdotool,
// screenshots it with ImageMagick, decodes the invite QR code from the
// screenshot with zbarimg and reads the tray menu over D-Bus as a desktop
// panel would. It has only tests; they skip when a tool is missing or the
// user is not root (a network namespace needs root).
//
// Environment:
//
//	WGPUNCH_BIN    a built wgpunch (default: the tests build ./cmd/trayapp)
//	WGPUNCH_SHOTS  a directory to copy the screenshots to (e.g. docs/screenshots)
package xvfbtest
