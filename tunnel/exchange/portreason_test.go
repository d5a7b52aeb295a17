package exchange

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/wgpunch/wgpunch/tunnel/ports"
)

// A port Windows reserves (WSAEACCES in an excluded range) is not called
// "in use by another program"; one the system refuses is "not allowed".
func TestPortReasons(t *testing.T) {
	const reserved, refused, busy = 50000, 50001, 50002
	f := facts(home())
	f.PortCheck = func(p uint16) error {
		switch p {
		case reserved:
			return ports.BindError("windows", p, syscall.Errno(10013))
		case refused:
			return ports.BindError("linux", p, syscall.EACCES)
		case busy:
			return ports.BindError("linux", p, syscall.EADDRINUSE)
		}
		return nil
	}
	for _, tt := range []struct {
		port      uint16
		want, not string
	}{
		{reserved, "UDP port 50000 is reserved by Windows", "in use"},
		{refused, "UDP port 50001 is not allowed on this machine", "in use"},
		{busy, "UDP port 50002 is in use by another program on this machine", "reserved"},
	} {
		_, err := f.CheckPort(tt.port, "x")
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.not) {
			t.Errorf("CheckPort(%d) = %v, want %q and not %q", tt.port, err, tt.want, tt.not)
		}
		if err := f.CheckUpPort("home", tt.port); err == nil || !strings.Contains(err.Error(), tt.want[len("UDP port 50000 "):]) {
			t.Errorf("CheckUpPort(%d) = %v, want %q", tt.port, err, tt.want)
		}
		if err := f.CheckCheckPort(tt.port); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckCheckPort(%d) = %v, want %q", tt.port, err, tt.want)
		}
	}
}

// "no free UDP port found" is said once.
func TestPickPortMessageOnce(t *testing.T) {
	f := facts(home())
	f.PortCheck = func(p uint16) error { return ports.ErrInUse }
	_, err := f.PickPort()
	if err == nil || strings.Count(err.Error(), "no free UDP port found") != 1 {
		t.Errorf("PickPort with no port free = %v, want \"no free UDP port found\" once", err)
	}
	if kindOf(err) != PortInUse || errors.Is(err, ports.ErrReserved) {
		t.Errorf("PickPort error kind %d", kindOf(err))
	}
}
