package netinfo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

const (
	procRoute  = "/proc/net/route"
	procRoute6 = "/proc/net/ipv6_route"
)

// tableRoutes returns the IPv4 and IPv6 routing tables (/proc/net/route,
// /proc/net/ipv6_route) without default routes.
func tableRoutes() []Route {
	var out []Route
	if data, err := os.ReadFile(procRoute); err == nil {
		out = parseProcRoutes(data)
	}
	if data, err := os.ReadFile(procRoute6); err == nil {
		out = append(out, parseProcRoutes6(data)...)
	}
	return out
}

// IPv6 route flags (linux/ipv6_route.h) of entries that route nothing
// anywhere: this machine's own addresses and reject (unreachable) routes.
const (
	rtfReject = 0x0200
	rtfLocal  = 0x80000000
)

// parseProcRoutes6 parses /proc/net/ipv6_route: per line destination (32
// hex digits), prefix length (hex), source, source length, next hop,
// metric, refcount, use, flags (hex) and interface. Default, link-local,
// multicast, local and reject entries are left out: none is a subnet a
// tunnel could take over.
func parseProcRoutes6(data []byte) []Route {
	var out []Route
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		dst, err1 := hex.DecodeString(f[0])
		bits, err2 := strconv.ParseUint(f[1], 16, 8)
		flags, err3 := strconv.ParseUint(f[8], 16, 32)
		if err1 != nil || err2 != nil || err3 != nil || len(dst) != 16 || bits == 0 || bits > 128 {
			continue
		}
		if flags&(rtfReject|rtfLocal) != 0 || f[9] == "lo" {
			continue
		}
		addr := netip.AddrFrom16([16]byte(dst))
		if addr.IsLinkLocalUnicast() || addr.IsMulticast() {
			continue
		}
		out = append(out, Route{Prefix: netip.PrefixFrom(addr, int(bits)).Masked(), Iface: f[9]})
	}
	return out
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
