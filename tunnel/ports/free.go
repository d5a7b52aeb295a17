// Package ports picks free UDP listen ports and warns when two tunnels,
// here or on another machine behind the same NAT, share one.
package ports

import (
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
)

// LocalTunnel is one of our tunnels and its listen port. It is defined in
// lanpeers (which ports imports) to avoid an import cycle.
type LocalTunnel = lanpeers.LocalTunnel

const (
	// FirstPort is the first port Pick tries: WireGuard's usual port.
	FirstPort = 51820
	// LastPreferred is the last port of the preferred range.
	LastPreferred = 51999
	// random ports are drawn from the dynamic range.
	randomLow, randomHigh = 49152, 65535
	randomTries           = 500
)

// Free reports whether Check finds port free.
func Free(port uint16) bool { return Check(port) == nil }

// haveIPv6 reports whether this machine can bind IPv6 UDP at all, which
// tells "IPv6 is off here" from "the port is taken" on every platform.
func haveIPv6() bool {
	c, err := net.ListenPacket("udp6", "[::]:0")
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Pick returns a free port that avoid (may be nil) does not reject:
// the first one from 51820 to 51999, else a random one from 49152-65535.
func Pick(avoid func(uint16) bool) (uint16, error) {
	return PickUsable(func(p uint16) bool { return (avoid == nil || !avoid(p)) && Free(p) })
}

// PickUsable is Pick with the whole check given: ok says whether port p
// may be used, and no bind check is made besides (so a caller's fake
// check is the only one).
func PickUsable(ok func(uint16) bool) (uint16, error) {
	for p := uint16(FirstPort); p <= LastPreferred; p++ {
		if ok(p) {
			return p, nil
		}
	}
	for range randomTries {
		p := uint16(randomLow + rand.IntN(randomHigh-randomLow+1))
		if ok(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free UDP port found in %d-%d or %d random tries in %d-%d; close some programs using UDP ports or set a port by hand",
		FirstPort, LastPreferred, randomTries, randomLow, randomHigh)
}
