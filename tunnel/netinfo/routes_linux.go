package netinfo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"strings"
)

const procRoute = "/proc/net/route"

// tableRoutes returns the IPv4 routing table (/proc/net/route) without the
// default route.
func tableRoutes() []Route {
	data, err := os.ReadFile(procRoute)
	if err != nil {
		return nil
	}
	return parseProcRoutes(data)
}

// parseProcRoutes parses /proc/net/route: a header line, then one route a
// line with destination and mask in little-endian hex.
func parseProcRoutes(data []byte) []Route {
	var out []Route
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		dst, err1 := hex.DecodeString(f[1])
		mask, err2 := hex.DecodeString(f[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		var b, mb [4]byte
		binary.BigEndian.PutUint32(b[:], binary.LittleEndian.Uint32(dst))
		binary.BigEndian.PutUint32(mb[:], binary.LittleEndian.Uint32(mask))
		ones, _ := net.IPMask(mb[:]).Size()
		if ones == 0 {
			continue // default route
		}
		out = append(out, Route{Prefix: netip.PrefixFrom(netip.AddrFrom4(b), ones).Masked(), Iface: f[0]})
	}
	return out
}

// defaultIface is the interface of the IPv4 default route, "" if none.
func defaultIface() string {
	data, err := os.ReadFile(procRoute)
	if err != nil {
		return ""
	}
	return parseDefaultIface(data)
}

func parseDefaultIface(data []byte) string {
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000" {
			return f[0]
		}
	}
	return ""
}
