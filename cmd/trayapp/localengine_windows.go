package main

import (
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"github.com/wgpunch/wgpunch/tunnel/winsvc"
)

// localEngine is the engine a daemon-less CLI/GUI uses. On Windows the
// tunnels are Windows services (one UAC prompt to install), so the app
// itself can bring them up; nil if that is unavailable. Status comes from
// wgctrl when elevated, else from each tunnel service's status pipe
// (WireGuardNT's device opens only for SYSTEM and Administrators).
func localEngine() (engine.Engine, monitor.DeviceReader) {
	eng, err := engine.New(engine.Options{})
	if err != nil {
		return nil, nil
	}
	return eng, winsvc.NewDeviceReader()
}
