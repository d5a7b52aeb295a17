package ipc

import (
	"errors"
	"fmt"
	"net"
	"os/user"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// peerCred reads SO_PEERCRED (uid, gid, pid) and SO_PEERGROUPS
// (supplementary groups) of the process that connected, as the kernel
// recorded them at connect time. Where the kernel lacks SO_PEERGROUPS
// (before Linux 4.13), the groups come from the group database for the
// uid. Nothing is read from /proc: a PID can be reused by another process
// once the caller exits, so it must not decide anything.
func peerCred(c net.Conn) Cred {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Cred{}
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Cred{}
	}
	var cr *unix.Ucred
	var groups []uint32
	var gerr, perr error
	if err := raw.Control(func(fd uintptr) {
		cr, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if gerr == nil {
			groups, perr = peerGroups(int(fd))
		}
	}); err != nil || gerr != nil || cr == nil {
		return Cred{}
	}
	if perr != nil {
		groups = dbGroups(cr.Uid)
	}
	return Cred{Known: true, UID: cr.Uid, GID: cr.Gid, PID: cr.Pid, Groups: groups}
}

// peerGroups reads SO_PEERGROUPS: the supplementary groups of the peer
// when it connected (or, for a socketpair, when the pair was made).
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 64)
	for {
		n := uint32(len(buf) * 4)
		var p unsafe.Pointer
		if len(buf) > 0 {
			p = unsafe.Pointer(&buf[0])
		}
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(p), uintptr(unsafe.Pointer(&n)), 0)
		switch {
		case e == 0:
			if int(n/4) > len(buf) {
				return nil, fmt.Errorf("getsockopt SO_PEERGROUPS: length %d exceeds buffer %d", n, len(buf)*4)
			}
			return buf[:n/4], nil
		case errors.Is(e, unix.ERANGE) && int(n/4) > len(buf) && n <= 65536*4:
			buf = make([]uint32, n/4) // n is the size needed
		default:
			return nil, fmt.Errorf("getsockopt SO_PEERGROUPS: %w", e)
		}
	}
}

// dbGroups is uid's group list from the group database (nil if unknown).
func dbGroups(uid uint32) []uint32 {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return nil
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil
	}
	var out []uint32
	for _, id := range ids {
		if g, err := strconv.ParseUint(id, 10, 32); err == nil {
			out = append(out, uint32(g))
		}
	}
	return out
}
