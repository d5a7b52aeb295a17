package natcheck

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
)

// parseRoutes picks the gateways of default routes (destination 0) out of
// /proc/net/route's lines: "Iface Destination Gateway ..." in hex, in the
// machine's byte order (little-endian on every Linux WG Punch runs on).
func parseRoutes(sc *bufio.Scanner) []netip.Addr {
	var out []netip.Addr
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[1] != "00000000" {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil || len(b) != 4 {
			continue
		}
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], binary.LittleEndian.Uint32(b))
		if a := netip.AddrFrom4(ip); !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out
}
