// Package assets holds WG Punch's icons. The SVG sources are in svg/; the
// PNGs (and app.ico for Windows) are generated from them with rsvg-convert
// by "make icons" and committed, so builds need no SVG renderer.
//
// Tray icons differ in shape as well as colour, so they read without
// colour: connected = two dots joined by a bar (green), connecting = a dot
// reaching towards a ring with an arrow (amber), problem = two dots with the
// link crossed out (red), off = two hollow rings (grey).
package assets

import _ "embed"

// AppIconPNG is the application icon, 512x512.
//
//go:embed app.png
var AppIconPNG []byte

// TrayConnectedPNG is the tray icon while every tunnel that is up has a
// live peer, 64x64.
//
//go:embed tray-connected.png
var TrayConnectedPNG []byte

// TrayConnectingPNG is the tray icon while a tunnel waits for its first
// handshake, 64x64.
//
//go:embed tray-connecting.png
var TrayConnectingPNG []byte

// TrayProblemPNG is the tray icon when a tunnel has a problem, 64x64.
//
//go:embed tray-problem.png
var TrayProblemPNG []byte

// TrayOffPNG is the tray icon when no tunnel is up, 64x64.
//
//go:embed tray-off.png
var TrayOffPNG []byte
