package engine

import "github.com/wgpunch/wgpunch/tunnel/winsvc"

// New returns the Windows engine: one WireGuardNT tunnel service per
// tunnel, installed through a UAC prompt when the app is not elevated (see
// package winsvc). Close leaves the services running.
func New(opts Options) (Engine, error) {
	e, err := winsvc.NewWindowsEngine(opts.Logf)
	if err != nil {
		return nil, err
	}
	return e, nil
}
