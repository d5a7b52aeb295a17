package ui

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"time"
)

// RDPPort is the Remote Desktop port.
const RDPPort = 3389

// PeerIP is the tunnel address of a peer without its prefix length.
func PeerIP(address string) (netip.Addr, error) {
	address = strings.TrimSpace(address)
	if p, err := netip.ParsePrefix(address); err == nil {
		return p.Addr(), nil
	}
	a, err := netip.ParseAddr(address)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("the peer has no tunnel address (%q)", address)
	}
	return a, nil
}

// ProbeRDP checks that something answers on TCP 3389 at ip within timeout.
func ProbeRDP(ip netip.Addr, timeout time.Duration, dial func(network, addr string, timeout time.Duration) (net.Conn, error)) error {
	if dial == nil {
		dial = net.DialTimeout
	}
	c, err := dial("tcp", netip.AddrPortFrom(ip, RDPPort).String(), timeout)
	if err != nil {
		return err
	}
	return c.Close()
}

// RDPClient picks the platform's remote desktop client: mstsc on Windows,
// xfreerdp (or xfreerdp3) or remmina on Linux. It returns nil when none is
// installed.
func RDPClient(goos string, ip netip.Addr, lookPath func(string) (string, error)) []string {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	host := ip.String()
	switch goos {
	case "windows":
		return []string{"mstsc", "/v:" + host}
	case "darwin":
		return nil
	}
	for _, c := range []struct {
		bin  string
		args []string
	}{
		{"xfreerdp3", []string{"/v:" + host, "/dynamic-resolution"}},
		{"xfreerdp", []string{"/v:" + host, "/dynamic-resolution"}},
		{"remmina", []string{"-c", "rdp://" + host}},
	} {
		if p, err := lookPath(c.bin); err == nil {
			return append([]string{p}, c.args...)
		}
	}
	return nil
}

// RDPFile is a minimal .rdp file for ip.
func RDPFile(ip netip.Addr) []byte {
	return []byte(fmt.Sprintf("full address:s:%s\r\nprompt for credentials:i:1\r\n", ip))
}

// RDPHelp explains how to allow remote desktop on the other computer.
func RDPHelp(ip netip.Addr) string {
	return fmt.Sprintf("Nothing answers on %s port %d.\n\n"+
		"On the other computer, allow remote desktop:\n"+
		"• Windows (Pro): Settings > System > Remote Desktop > turn it on.\n"+
		"• Linux: enable xrdp (sudo apt install xrdp) or GNOME Remote Desktop "+
		"(Settings > Sharing > Remote Desktop).\n"+
		"Then check that its firewall allows TCP port %d from the tunnel.", ip, RDPPort, RDPPort)
}
