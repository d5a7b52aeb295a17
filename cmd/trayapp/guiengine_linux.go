package main

import (
	"fmt"
	"os"

	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// guiEngine is the engine the GUI runs tunnels with when no daemon answers.
// As root it may create interfaces itself, so it gets the Linux engine: the
// tunnels then live as long as the GUI does. Anyone else gets none, and
// connecting asks for the daemon. close releases what it made.
func guiEngine() (eng engine.Engine, reader monitor.DeviceReader, closeFn func(), err error) {
	if os.Geteuid() != 0 {
		return nil, nil, func() {}, nil
	}
	eng, err = engine.New(engine.Options{Logf: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "wgpunch: "+format+"\n", args...)
	}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("start tunnels in this process: %w", err)
	}
	wg, err := wgctrl.New()
	if err != nil {
		eng.Close()
		return nil, nil, nil, fmt.Errorf("read tunnel status: %w", err)
	}
	return eng, wg, func() { wg.Close(); eng.Close() }, nil
}
