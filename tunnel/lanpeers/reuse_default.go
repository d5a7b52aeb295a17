//go:build !linux && !windows

package lanpeers

import "syscall"

// reuse does nothing on platforms we do not ship for; binding 5353 there
// fails while another responder holds it, and Start says so.
func reuse(network, address string, c syscall.RawConn) error { return nil }
