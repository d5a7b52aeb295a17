package ipc

import (
	"net"
	"os"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// socketPair returns the two ends of a connected Unix socket pair as
// *net.UnixConn; the kernel records this process, as it is now, as the
// peer of each end.
func socketPair(t *testing.T) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c.(*net.UnixConn)
		t.Cleanup(func() { c.Close() })
	}
	return conns[0], conns[1]
}

// TestPeerCredGroupsFromConnection: the groups that count are those the
// peer held when it connected, not those the process with the recorded PID
// holds now. A caller that connects, hands the socket on and exits must not
// gain a group because a member's process later gets its PID; here the
// recorded PID is this very process, which gains group g only after the
// connection was made (what /proc/PID/status would then show).
func TestPeerCredGroupsFromConnection(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change this process's supplementary groups")
	}
	orig, err := syscall.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	const g = 4242017
	if slices.Contains(orig, g) || os.Getgid() == g {
		t.Skipf("this process already has group %d", g)
	}
	t.Cleanup(func() {
		if err := syscall.Setgroups(orig); err != nil {
			t.Errorf("restore groups %v: %v", orig, err)
		}
	})

	_, before := socketPair(t) // made without g
	if err := syscall.Setgroups(append(slices.Clone(orig), g)); err != nil {
		t.Fatal(err)
	}
	_, after := socketPair(t) // made with g

	cb := peerCred(before)
	if !cb.Known || cb.PID != int32(os.Getpid()) || cb.UID != uint32(os.Geteuid()) {
		t.Fatalf("peerCred = %+v, want this process (pid %d)", cb, os.Getpid())
	}
	if inGroup(cb, g) {
		t.Errorf("connection made without group %d counts as a member (groups %v): groups were read from the process now, not from the connection", g, cb.Groups)
	}
	ca := peerCred(after)
	if !inGroup(ca, g) {
		t.Errorf("connection made with group %d does not count as a member (groups %v)", g, ca.Groups)
	}
	for _, o := range orig {
		if !inGroup(ca, uint32(o)) || !inGroup(cb, uint32(o)) {
			t.Errorf("group %d of this process missing: before %v, after %v", o, cb.Groups, ca.Groups)
		}
	}
}

// TestPeerGroupsManyGroups: a peer with more groups than the first buffer
// holds gets all of them (ERANGE grows the buffer).
func TestPeerGroupsManyGroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change this process's supplementary groups")
	}
	orig, err := syscall.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setgroups(orig) })
	var many []int
	for i := range 300 {
		many = append(many, 5000000+i)
	}
	if err := syscall.Setgroups(many); err != nil {
		t.Fatal(err)
	}
	_, c := socketPair(t)
	if err := syscall.Setgroups(orig); err != nil {
		t.Fatal(err)
	}
	cr := peerCred(c)
	if len(cr.Groups) != len(many) {
		t.Fatalf("got %d groups, want %d", len(cr.Groups), len(many))
	}
	for _, g := range many {
		if !inGroup(cr, uint32(g)) {
			t.Errorf("group %d missing", g)
		}
	}
}
