package control

import (
	"net"
	"net/netip"
	"testing"
)

// TestIfaceAddrs: the loopback interface's 127.0.0.1/8 comes back with its
// prefix length, and PrimaryIPv4 never picks a loopback address.
func TestIfaceAddrs(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Skip(err)
	}
	found := false
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback == 0 {
			continue
		}
		for _, p := range ifaceAddrs(ifc) {
			if p == netip.MustParsePrefix("127.0.0.1/8") {
				found = true
			}
		}
	}
	if !found {
		t.Skip("no loopback interface with 127.0.0.1/8 here")
	}
	if a := (osNetInfo{}).PrimaryIPv4(nil); a.IsValid() && (a.IsLoopback() || !a.Is4()) {
		t.Errorf("PrimaryIPv4 = %v, want a non-loopback IPv4 address", a)
	}
	for _, r := range (osNetInfo{}).Routes() {
		if r.Prefix != r.Prefix.Masked() {
			t.Errorf("route %v is not masked", r.Prefix)
		}
	}
}
