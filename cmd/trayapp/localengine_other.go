//go:build !windows

package main

import (
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// localEngine is the engine a daemon-less CLI/GUI uses: none outside
// Windows — a tunnel must outlive the command, so the daemon runs it.
func localEngine() (engine.Engine, monitor.DeviceReader) { return nil, nil }
