package ui

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPeerIP(t *testing.T) {
	for in, want := range map[string]string{"10.77.12.2/32": "10.77.12.2", "10.77.12.2": "10.77.12.2", "fd00::2/128": "fd00::2"} {
		got, err := PeerIP(in)
		if err != nil || got.String() != want {
			t.Errorf("PeerIP(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := PeerIP(""); err == nil {
		t.Error("PeerIP(\"\") gave no error")
	}
}

func TestProbeRDP(t *testing.T) {
	ip := netip.MustParseAddr("10.77.12.2")
	var dialed string
	ok := func(network, addr string, _ time.Duration) (net.Conn, error) {
		dialed = network + " " + addr
		c, s := net.Pipe()
		s.Close()
		return c, nil
	}
	if err := ProbeRDP(ip, time.Second, ok); err != nil || dialed != "tcp 10.77.12.2:3389" {
		t.Errorf("ProbeRDP = %v, dialed %q", err, dialed)
	}
	refused := func(string, string, time.Duration) (net.Conn, error) { return nil, errors.New("connection refused") }
	if err := ProbeRDP(ip, time.Second, refused); err == nil {
		t.Error("ProbeRDP succeeded although nothing answers")
	}
	// And a real listener on loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	real := func(network, _ string, d time.Duration) (net.Conn, error) {
		return net.DialTimeout(network, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String(), d)
	}
	if err := ProbeRDP(ip, time.Second, real); err != nil {
		t.Errorf("ProbeRDP against a listener: %v", err)
	}
}

func TestRDPClient(t *testing.T) {
	ip := netip.MustParseAddr("10.77.12.2")
	have := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			for _, x := range names {
				if x == n {
					return "/usr/bin/" + n, nil
				}
			}
			return "", errors.New("not found")
		}
	}
	tests := []struct {
		goos string
		look func(string) (string, error)
		want []string
	}{
		{"windows", have(), []string{"mstsc", "/v:10.77.12.2"}},
		{"linux", have("remmina", "xfreerdp"), []string{"/usr/bin/xfreerdp", "/v:10.77.12.2", "/dynamic-resolution"}},
		{"linux", have("remmina"), []string{"/usr/bin/remmina", "-c", "rdp://10.77.12.2"}},
		{"linux", have(), nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, RDPClient(tt.goos, ip, tt.look)); diff != "" {
			t.Errorf("RDPClient(%s) (-want +got):\n%s", tt.goos, diff)
		}
	}
	if got := string(RDPFile(ip)); !strings.HasPrefix(got, "full address:s:10.77.12.2\r\n") {
		t.Errorf("RDPFile = %q", got)
	}
	if h := RDPHelp(ip); !strings.Contains(h, "Settings > System > Remote Desktop") || !strings.Contains(h, "xrdp") {
		t.Errorf("RDPHelp lacks the how-to: %q", h)
	}
}
