package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPortInUseError checks that the advice for a taken port is
// ErrPortInUse and keeps wireguard-go's cause (TestPortInUse sees only the
// text, through a child process).
func TestPortInUseError(t *testing.T) {
	cause := fmt.Errorf("listen udp4 :51921: bind: %w", unix.EADDRINUSE)
	err := uapiError(cause, 51921)
	if !errors.Is(err, ErrPortInUse) || !errors.Is(err, unix.EADDRINUSE) {
		t.Errorf("uapiError = %v; want ErrPortInUse wrapping EADDRINUSE", err)
	}
	if want := "UDP port 51921 is already in use by another program or tunnel: pick another listen port: " + cause.Error(); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	other := errors.New("bad key")
	if err := uapiError(other, 1); err != other {
		t.Errorf("uapiError(other) = %v, want it unchanged", err)
	}
}

// TestDownNotUp checks that Down of a tunnel the engine does not have up
// is ErrNotUp.
func TestDownNotUp(t *testing.T) {
	e := &linuxEngine{logf: t.Logf, tunnels: make(map[string]*tunnel)}
	err := e.Down("office")
	if !errors.Is(err, ErrNotUp) || !strings.Contains(err.Error(), `"office"`) {
		t.Errorf("Down of a tunnel not up = %v, want ErrNotUp naming it", err)
	}
}
