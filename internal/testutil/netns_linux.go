package testutil

import (
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// IP runs `ip args...` and returns its output; it fails t with the output
// when ip fails.
func IP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// RequireNetNS skips t unless it runs as root, and fails it without ip
// (iproute2): what NetNS and Veth need.
func RequireNetNS(t testing.TB) {
	t.Helper()
	RequireRoot(t, "network namespaces")
	RequireTool(t, "ip", "iproute2")
}

// NetNS creates network namespace name with its loopback up, and deletes
// it when t ends. A namespace of that name left by a killed run is deleted
// first.
func NetNS(t testing.TB, name string) {
	t.Helper()
	exec.Command("ip", "netns", "del", name).Run()
	IP(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	IP(t, "-n", name, "link", "set", "lo", "up")
}

// VethEnd is one end of a veth pair: its namespace, device name and
// addresses (CIDR; IPv6 ones without duplicate address detection, so they
// work at once).
type VethEnd struct {
	NS, Dev string
	Addrs   []string
}

// Veth joins two namespaces with a veth pair, sets the addresses and brings
// both ends up. The pair is created inside a.NS, so its names never meet
// the devices of the host or of other tests; it goes with the namespaces.
func Veth(t testing.TB, a, b VethEnd) {
	t.Helper()
	IP(t, "-n", a.NS, "link", "add", a.Dev, "type", "veth", "peer", "name", b.Dev, "netns", b.NS)
	for _, end := range []VethEnd{a, b} {
		for _, addr := range end.Addrs {
			args := []string{"-n", end.NS, "addr", "add", addr, "dev", end.Dev}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			IP(t, args...)
		}
	}
	IP(t, "-n", a.NS, "link", "set", a.Dev, "up")
	IP(t, "-n", b.NS, "link", "set", b.Dev, "up")
}

// ServeName listens on TCP addr (host:port) inside the network namespace
// at nsPath (/run/netns/NAME, or /proc/PID/ns/net) and answers every
// connection with answer and a newline, then closes it: a LAN service
// that says which office it is in. It stops when t ends.
func ServeName(t testing.TB, nsPath, addr, answer string) {
	t.Helper()
	ln, err := listenIn(nsPath, addr)
	if err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, nsPath, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(answer + "\n"))
			c.Close()
		}
	}()
}

// listenIn opens a TCP listener in another network namespace: the socket
// belongs to the namespace of the thread that creates it, and keeps it.
func listenIn(nsPath, addr string) (net.Listener, error) {
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		return nil, err
	}
	ln, lerr := net.Listen("tcp", addr)
	if err := netns.Set(orig); err != nil {
		// This thread must not go back to the pool in the wrong namespace.
		panic(fmt.Sprintf("return to the original network namespace: %v", err))
	}
	return ln, lerr
}
