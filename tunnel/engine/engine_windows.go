package engine

import (
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/winsvc"
)

// New returns the Windows engine: one WireGuardNT tunnel service per
// tunnel, installed through a UAC prompt when the app is not elevated (see
// package winsvc). Close removes the services this engine brought up.
func New(opts Options) (Engine, error) {
	e, err := winsvc.NewWindowsEngine(opts.Logf)
	if err != nil {
		return nil, err
	}
	return windowsEngine{e}, nil
}

// windowsEngine refuses what a tunnel service cannot do and words winsvc's
// errors as the Engine contract says (services.go).
type windowsEngine struct {
	*winsvc.Engine
}

func (e windowsEngine) Up(cfg *conf.Config) (string, error) {
	if err := refuseSharedLANs(cfg); err != nil {
		return "", err
	}
	return e.Engine.Up(cfg)
}

func (e windowsEngine) Down(name string) error {
	return serviceError(e.Engine.Down(name))
}
