package netinfo

import (
	"net"
	"net/netip"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/tunnel/winipcfg"
)

// ipv4Routes reads the IPv4 forwarding table (GetIPForwardTable2) and names
// each route's interface as net.Interfaces does (by index), so routes and
// interface subnets agree on names.
func ipv4Routes() (routes []Route, def string) {
	rows, err := winipcfg.GetIPForwardTable2(windows.AF_INET)
	if err != nil {
		return nil, ""
	}
	names := map[uint32]string{}
	name := func(idx uint32) string {
		if n, ok := names[idx]; ok {
			return n
		}
		n := ""
		if ifc, err := net.InterfaceByIndex(int(idx)); err == nil {
			n = ifc.Name
		}
		names[idx] = n
		return n
	}
	for i := range rows {
		r := &rows[i]
		p := r.DestinationPrefix.Prefix().Masked()
		if !p.IsValid() || r.Loopback {
			continue
		}
		if p.Bits() == 0 {
			if def == "" {
				def = name(r.InterfaceIndex)
			}
			continue
		}
		if a := p.Addr(); a.IsLoopback() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			continue
		}
		routes = append(routes, Route{Prefix: p, Iface: name(r.InterfaceIndex)})
	}
	return routes, def
}

// tableRoutes returns the IPv4 routing table without the default route.
func tableRoutes() []Route {
	r, _ := ipv4Routes()
	return r
}

// defaultIface is the interface of the IPv4 default route, "" if none.
func defaultIface() string {
	_, d := ipv4Routes()
	return d
}
