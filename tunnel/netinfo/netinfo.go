// Package netinfo reads what the operating system knows about this
// machine's networks: interfaces with their addresses, the routing table
// and the default route. The reads are per OS (routes_linux.go,
// routes_windows.go, routes_default.go); the rules on top of them — which
// subnets count as a LAN, which address is the primary one — are pure and
// stand here once, for the Service and (through the Controller) the UI.
package netinfo

import (
	"net"
	"net/netip"
)

// Route is a prefix this machine reaches directly or routes somewhere.
type Route struct {
	Prefix netip.Prefix
	Iface  string
}

// LAN is a local subnet worth sharing through a tunnel.
type LAN struct {
	Prefix netip.Prefix `json:"prefix"` // e.g. 192.168.1.0/24
	Iface  string       `json:"iface"`  // e.g. eth0
}

// Iface is one interface's name, flags and addresses (with their prefix
// lengths, IPv4-mapped ones unmapped).
type Iface struct {
	Name  string
	Flags net.Flags
	Addrs []netip.Prefix
}

// Info answers questions about this machine's addresses. OS() reads the
// operating system; tests substitute fixed answers.
type Info interface {
	// Routes returns interface subnets and routing-table entries (never the
	// default route).
	Routes() []Route
	// PrimaryIPv4 is the address other machines on the LAN reach us at
	// (the default route's interface if known); invalid if none.
	PrimaryIPv4(skipIfaces map[string]bool) netip.Addr
	// LANs lists the IPv4 subnets this machine sits on that could be
	// shared (FilterLANs' rules), skipping the interfaces named in skip.
	LANs(skip []string) []LAN
}

// OS returns the Info of the running operating system.
func OS() Info { return osInfo{} }

type osInfo struct{}

func (osInfo) Routes() []Route {
	var out []Route
	for _, ifc := range Interfaces() {
		for _, a := range ifc.Addrs {
			p := a.Masked()
			if p.Addr().IsLoopback() || p.Addr().IsLinkLocalUnicast() {
				continue
			}
			out = append(out, Route{Prefix: p, Iface: ifc.Name})
		}
	}
	return append(out, tableRoutes()...)
}

func (osInfo) PrimaryIPv4(skip map[string]bool) netip.Addr {
	return PrimaryIPv4(Interfaces(), defaultIface(), skip)
}

func (osInfo) LANs(skip []string) []LAN { return FilterLANs(Interfaces(), skip) }

// Interfaces lists the interfaces with their addresses; an interface whose
// addresses cannot be read has none.
func Interfaces() []Iface {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	out := make([]Iface, 0, len(ifs))
	for _, ifc := range ifs {
		out = append(out, Iface{Name: ifc.Name, Flags: ifc.Flags, Addrs: ifaceAddrs(ifc)})
	}
	return out
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

// PrimaryIPv4 picks, among the interfaces that are up and not loopback or
// in skip, the IPv4 address of def (the default route's interface), else
// the first usable one; invalid if none.
func PrimaryIPv4(ifs []Iface, def string, skip map[string]bool) netip.Addr {
	var best netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || skip[ifc.Name] {
			continue
		}
		for _, p := range ifc.Addrs {
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
