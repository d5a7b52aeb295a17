package main

import (
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"golang.zx2c4.com/wireguard/wgctrl"
)

// localEngine is the engine a daemon-less CLI/GUI uses. On Windows the
// tunnels are Windows services (one UAC prompt to install), so the app
// itself can bring them up; nil if that is unavailable.
func localEngine() (engine.Engine, monitor.DeviceReader) {
	eng, err := engine.New(engine.Options{})
	if err != nil {
		return nil, nil
	}
	if wg, err := wgctrl.New(); err == nil {
		return eng, wg
	}
	return eng, nil
}
