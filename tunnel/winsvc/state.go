package winsvc

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

// The service states of the Win32 API (SERVICE_STATUS.dwCurrentState), so
// that the rules below are tested on every OS.
const (
	stateStopped         uint32 = 1
	stateStartPending    uint32 = 2
	stateStopPending     uint32 = 3
	stateRunning         uint32 = 4
	stateContinuePending uint32 = 5
	statePausePending    uint32 = 6
	statePaused          uint32 = 7
)

// TunnelState is what a tunnel service's state means for the tunnel.
type TunnelState int

const (
	TunnelDown     TunnelState = iota // stopped, stopping, paused or unknown
	TunnelStarting                    // START_PENDING: brought up, not running yet
	TunnelRunning                     // RUNNING
)

// StateOfService maps a service's current state to the tunnel's.
func StateOfService(current uint32) TunnelState {
	switch current {
	case stateRunning:
		return TunnelRunning
	case stateStartPending:
		return TunnelStarting
	}
	return TunnelDown
}

// Up reports whether the engine counts the tunnel as brought up: running
// or starting (a starting tunnel must not be brought up a second time).
func (s TunnelState) Up() bool { return s != TunnelDown }

// deviceError words the error of reading a tunnel's status: while its
// service is starting the status pipe is not there yet, which is
// monitor.ErrStarting, not a tunnel that disappeared.
func deviceError(name string, state TunnelState, err error) error {
	if err == nil || state != TunnelStarting || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return fmt.Errorf("tunnel %q: %w: its Windows service has not finished starting", name, monitor.ErrStarting)
}
