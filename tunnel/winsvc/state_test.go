package winsvc

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

func TestStateOfService(t *testing.T) {
	for _, tt := range []struct {
		state uint32
		want  TunnelState
	}{
		{stateStopped, TunnelDown},
		{stateStartPending, TunnelStarting},
		{stateStopPending, TunnelDown},
		{stateRunning, TunnelRunning},
		{stateContinuePending, TunnelDown},
		{statePausePending, TunnelDown},
		{statePaused, TunnelDown},
		{0, TunnelDown},
	} {
		if got := StateOfService(tt.state); got != tt.want {
			t.Errorf("StateOfService(%d) = %v, want %v", tt.state, got, tt.want)
		}
	}
}

// START_PENDING is "starting", not "has disappeared".
func TestDeviceErrorStarting(t *testing.T) {
	gone := fmt.Errorf("tunnel %q is not running: %w", "office", fs.ErrNotExist)
	err := deviceError("office", TunnelStarting, gone)
	if !errors.Is(err, monitor.ErrStarting) {
		t.Errorf("starting service: %v, want monitor.ErrStarting", err)
	}
	if err := deviceError("office", TunnelDown, gone); errors.Is(err, monitor.ErrStarting) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stopped service: %v, want ErrNotExist only", err)
	}
	if err := deviceError("office", TunnelRunning, gone); errors.Is(err, monitor.ErrStarting) {
		t.Errorf("running service: %v, want no ErrStarting", err)
	}
}
