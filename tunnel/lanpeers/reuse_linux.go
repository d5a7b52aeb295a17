package lanpeers

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reuse lets our socket share UDP 5353 with other mDNS responders
// (avahi, systemd-resolved, another wgpunch): SO_REUSEADDR works with
// holders that set SO_REUSEADDR, SO_REUSEPORT with those (of the same
// user) that set only SO_REUSEPORT. Multicast reaches every such socket.
func reuse(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
