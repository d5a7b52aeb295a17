//go:build !linux

package main

import (
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// guiEngine is the engine the GUI uses when no daemon answers: the same as
// the CLI's (WireGuard tunnel services on Windows, none elsewhere).
func guiEngine() (engine.Engine, monitor.DeviceReader, func(), error) {
	eng, reader := localEngine()
	return eng, reader, func() {}, nil
}
