package lanpeers

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// reuse lets our socket share UDP 5353 with the Windows mDNS service and
// Bonjour, which also bind it with SO_REUSEADDR.
func reuse(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = windows.SetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_REUSEADDR, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
