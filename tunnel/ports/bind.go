package ports

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"syscall"
)

// Why a UDP port cannot be bound. Check's errors wrap one of them.
var (
	// ErrInUse: another socket (another program or tunnel) holds the port.
	ErrInUse = errors.New("in use by another program on this machine")
	// ErrReserved: Windows keeps the port in an excluded port range
	// (reserved for Hyper-V, WSL, Docker and the like), so nobody may
	// bind it; binding fails with WSAEACCES.
	ErrReserved = errors.New("reserved by Windows (an excluded port range, kept for Hyper-V, WSL or Docker; list them with: netsh interface ipv4 show excludedportrange protocol=udp)")
	// ErrNotAllowed: the system refused the bind for another reason
	// (permissions, a security policy).
	ErrNotAllowed = errors.New("not allowed on this machine (the system refused to let WG Punch use it)")
)

// The Windows Sockets error numbers (syscall.Errno on Windows), here so
// that BindError is tested on every OS.
const (
	wsaEACCES     syscall.Errno = 10013
	wsaEADDRINUSE syscall.Errno = 10048
)

// BindError says why binding a UDP port failed on goos (runtime.GOOS): it
// wraps ErrInUse, ErrReserved or ErrNotAllowed, and err for the details.
// An error it cannot place is "in use", the usual cause.
func BindError(goos string, port uint16, err error) error {
	var errno syscall.Errno
	why := ErrInUse
	if errors.As(err, &errno) {
		switch {
		case goos == "windows" && errno == wsaEACCES:
			why = ErrReserved
		case goos == "windows" && errno == wsaEADDRINUSE:
			why = ErrInUse
		case goos != "windows" && (errno == syscall.EACCES || errno == syscall.EPERM):
			why = ErrNotAllowed
		}
	}
	return &bindError{port: port, why: why, err: err}
}

type bindError struct {
	port uint16
	why  error
	err  error
}

func (e *bindError) Error() string {
	return fmt.Sprintf("UDP port %d is %v: %v", e.port, e.why, e.err)
}

func (e *bindError) Unwrap() []error { return []error{e.why, e.err} }

// Reason is the plain-words reason a port cannot be used, as in "UDP port
// 51820 is REASON": the ErrInUse, ErrReserved or ErrNotAllowed that err
// wraps, else err itself.
func Reason(err error) string {
	for _, why := range []error{ErrReserved, ErrNotAllowed, ErrInUse} {
		if errors.Is(err, why) {
			return why.Error()
		}
	}
	return err.Error()
}

// Check says whether UDP port can be bound now on the IPv4 and the IPv6
// wildcard address, the way a WireGuard device binds it: nil when it can,
// else an error from BindError. A machine without IPv6 only needs IPv4 to
// be free. Port 0 is never free.
func Check(port uint16) error {
	if port == 0 {
		return fmt.Errorf("UDP port 0 is %w", ErrNotAllowed)
	}
	p := strconv.Itoa(int(port))
	c4, err := net.ListenPacket("udp4", net.JoinHostPort("0.0.0.0", p))
	if err != nil {
		return BindError(runtime.GOOS, port, err)
	}
	defer c4.Close()
	c6, err := net.ListenPacket("udp6", net.JoinHostPort("::", p))
	if err != nil {
		if !haveIPv6() {
			return nil
		}
		return BindError(runtime.GOOS, port, err)
	}
	c6.Close()
	return nil
}
