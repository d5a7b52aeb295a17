package control

import (
	"bufio"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// peerCred reads SO_PEERCRED: the uid, gid and pid of the process that
// connected, as the kernel recorded them at connect time.
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
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		cr, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || gerr != nil || cr == nil {
		return Cred{}
	}
	return Cred{Known: true, UID: cr.Uid, GID: cr.Gid, PID: cr.Pid}
}

// inGroup reports whether the caller holds group gid: its primary gid, or
// a supplementary group of the calling process (/proc/PID/status "Groups:",
// the same set the kernel checks file permissions against). If the process
// is gone, the user's groups from the group database are used instead.
func inGroup(c Cred, gid uint32) bool {
	if c.GID == gid {
		return true
	}
	if groups, ok := procGroups(c.PID); ok {
		for _, g := range groups {
			if g == gid {
				return true
			}
		}
		return false
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(c.UID), 10))
	if err != nil {
		return false
	}
	ids, err := u.GroupIds()
	if err != nil {
		return false
	}
	want := strconv.FormatUint(uint64(gid), 10)
	for _, id := range ids {
		if id == want {
			return true
		}
	}
	return false
}

func procGroups(pid int32) ([]uint32, bool) {
	if pid <= 0 {
		return nil, false
	}
	f, err := os.Open("/proc/" + strconv.Itoa(int(pid)) + "/status")
	if err != nil {
		return nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Groups:")
		if !ok {
			continue
		}
		var out []uint32
		for _, f := range strings.Fields(rest) {
			g, err := strconv.ParseUint(f, 10, 32)
			if err == nil {
				out = append(out, uint32(g))
			}
		}
		return out, true
	}
	return nil, false
}
