package ipc

import "slices"

// Cred is who is on the other end of a socket connection, as the kernel
// recorded it when the connection was made. Nothing in it is read later
// from the process (whose PID may by then belong to someone else).
type Cred struct {
	Known bool // false: the OS could not tell
	UID   uint32
	GID   uint32
	PID   int32 // for logs only; never used to look anything up
	// Groups are the caller's supplementary groups: those the connecting
	// process held at connect time (Linux SO_PEERGROUPS), or, on kernels
	// without it, the user's groups from the group database.
	Groups []uint32
}

// inGroup reports whether the caller holds group gid: its primary gid or
// one of its supplementary groups, both as recorded in c.
func inGroup(c Cred, gid uint32) bool {
	return c.Known && (c.GID == gid || slices.Contains(c.Groups, gid))
}
