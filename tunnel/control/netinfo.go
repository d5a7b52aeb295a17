package control

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

// LocalRoute is a prefix this machine reaches directly or routes somewhere.
type LocalRoute struct {
	Prefix netip.Prefix
	Iface  string
}

// NetInfo answers questions about this machine's addresses. The default
// reads the OS; tests substitute fixed answers.
type NetInfo interface {
	// Routes returns interface subnets and routing-table entries (never the
	// default route).
	Routes() []LocalRoute
	// PrimaryIPv4 is the address other machines on the LAN reach us at
	// (the default route's interface if known); invalid if none.
	PrimaryIPv4(skipIfaces map[string]bool) netip.Addr
}

type osNetInfo struct{}

func (osNetInfo) Routes() []LocalRoute {
	var out []LocalRoute
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		for _, a := range ifaceAddrs(ifc) {
			p := a.Masked()
			if p.Addr().IsLoopback() || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			out = append(out, LocalRoute{Prefix: p, Iface: ifc.Name})
		}
	}
	return append(out, procRoutes()...)
}

// ifaceAddrs returns an interface's addresses with their prefix lengths
// (IPv4-mapped ones unmapped); none if they cannot be read.
func ifaceAddrs(ifc net.Interface) []netip.Prefix {
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		addr, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(addr.Unmap(), ones))
	}
	return out
}

// procRoutes parses /proc/net/route (Linux; nothing elsewhere).
func procRoutes() []LocalRoute {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil
	}
	var out []LocalRoute
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
		d := binary.LittleEndian.Uint32(dst)
		m := binary.LittleEndian.Uint32(mask)
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], d)
		var mb [4]byte
		binary.BigEndian.PutUint32(mb[:], m)
		ones, _ := net.IPMask(mb[:]).Size()
		if ones == 0 {
			continue // default route
		}
		out = append(out, LocalRoute{Prefix: netip.PrefixFrom(netip.AddrFrom4(b), ones).Masked(), Iface: f[0]})
	}
	return out
}

// defaultRouteIface is the interface of the IPv4 default route, "" if none.
func defaultRouteIface() string {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000" {
			return f[0]
		}
	}
	return ""
}

func (osNetInfo) PrimaryIPv4(skip map[string]bool) netip.Addr {
	ifs, _ := net.Interfaces()
	def := defaultRouteIface()
	var best netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || skip[ifc.Name] {
			continue
		}
		for _, p := range ifaceAddrs(ifc) {
			addr := p.Addr()
			if !addr.Is4() || addr.IsLoopback() || addr.IsLinkLocalUnicast() {
				continue
			}
			if ifc.Name == def {
				return addr
			}
			if !best.IsValid() {
				best = addr
			}
		}
	}
	return best
}
