package engine

import (
	"errors"
	"fmt"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/winsvc"
)

// The Windows engine (engine_windows.go) is winsvc.Engine held to the
// Engine contract. What it adds is pure and lives here, so it is tested on
// every OS.

// refuseSharedLANs returns an error wrapping ErrLANSharingUnsupported when
// cfg shares this computer's LAN subnets: a tunnel service cannot forward
// them.
func refuseSharedLANs(cfg *conf.Config) error {
	if cfg == nil || len(cfg.Interface.Meta.LANs) == 0 {
		return nil
	}
	return &lanSharingError{name: cfg.Name}
}

type lanSharingError struct{ name string }

func (e *lanSharingError) Error() string {
	return fmt.Sprintf("bring tunnel %q up: sharing this computer's LAN subnets is not supported on Windows yet: remove them from the link (Edit) or share them from a Linux computer in that office", e.name)
}

func (e *lanSharingError) Unwrap() error { return ErrLANSharingUnsupported }

// serviceError makes winsvc's errors the Engine's: a tunnel without a
// service wraps ErrNotUp.
func serviceError(err error) error {
	if errors.Is(err, winsvc.ErrNotUp) && !errors.Is(err, ErrNotUp) {
		return &notUpError{err: err}
	}
	return err
}

type notUpError struct{ err error }

func (e *notUpError) Error() string   { return e.err.Error() }
func (e *notUpError) Unwrap() []error { return []error{ErrNotUp, e.err} }
