package ports

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// bindErr is what net.ListenPacket returns for a failed bind.
func bindErr(errno syscall.Errno) error {
	return &net.OpError{Op: "listen", Net: "udp4", Err: os.NewSyscallError("bind", errno)}
}

func TestBindError(t *testing.T) {
	for _, tt := range []struct {
		goos string
		err  error
		want error
	}{
		// Hyper-V, WSL and Docker reserve excluded port ranges: WSAEACCES.
		{"windows", bindErr(wsaEACCES), ErrReserved},
		{"windows", bindErr(wsaEADDRINUSE), ErrInUse},
		{"linux", bindErr(syscall.EADDRINUSE), ErrInUse},
		{"linux", bindErr(syscall.EACCES), ErrNotAllowed},
		{"darwin", bindErr(syscall.EPERM), ErrNotAllowed},
		{"linux", errors.New("something else"), ErrInUse},
	} {
		t.Run(fmt.Sprintf("%s/%v", tt.goos, tt.err), func(t *testing.T) {
			err := BindError(tt.goos, 51820, tt.err)
			for _, why := range []error{ErrInUse, ErrReserved, ErrNotAllowed} {
				if errors.Is(err, why) != (why == tt.want) {
					t.Errorf("BindError = %v; errors.Is(%v) = %v", err, why, !(why == tt.want))
				}
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("BindError = %v, does not wrap the cause", err)
			}
			if got := Reason(err); got != tt.want.Error() {
				t.Errorf("Reason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckInUse(t *testing.T) {
	c, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	err = Check(port)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("Check(%d) while held = %v, want ErrInUse", port, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("UDP port %d is in use", port)) {
		t.Errorf("Check(%d) = %q", port, err)
	}
}

// The error of PickUsable says "no free UDP port found" once.
func TestPickUsableMessage(t *testing.T) {
	_, err := PickUsable(func(uint16) bool { return false })
	if err == nil || strings.Count(err.Error(), "no free UDP port found") != 1 {
		t.Errorf("PickUsable with no port free = %v", err)
	}
}
