package ui

import (
	"net"
	"net/netip"
	"sort"
	"strings"
)

// IfaceAddrs is one interface's name, flags and addresses, as net.Interfaces
// reports them; split out so DetectLANs' rules can be tested.
type IfaceAddrs struct {
	Name  string
	Flags net.Flags
	Addrs []netip.Prefix
}

// tunnelPrefixes are interface names that are tunnels or virtual plumbing,
// never a LAN worth sharing.
var tunnelPrefixes = []string{"wg", "tun", "tap", "utun", "docker", "veth", "virbr", "br-", "lo", "zt", "tailscale"}

// DetectLANs lists the IPv4 subnets this computer sits on, skipping loopback,
// point-to-point and tunnel interfaces and any named in skip (our tunnels).
func DetectLANs(skip []string) []LAN {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var all []IfaceAddrs
	for _, i := range ifs {
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		ia := IfaceAddrs{Name: i.Name, Flags: i.Flags}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ip, ok := netip.AddrFromSlice(n.IP)
				if !ok {
					continue
				}
				ones, _ := n.Mask.Size()
				ia.Addrs = append(ia.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
			}
		}
		all = append(all, ia)
	}
	return FilterLANs(all, skip)
}

// FilterLANs applies DetectLANs' rules to a list of interfaces.
func FilterLANs(ifs []IfaceAddrs, skip []string) []LAN {
	seen := map[string]bool{}
	var out []LAN
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagPointToPoint != 0 || i.Flags&net.FlagUp == 0 {
			continue
		}
		if hasPrefix(i.Name, tunnelPrefixes) || contains(skip, i.Name) {
			continue
		}
		for _, p := range i.Addrs {
			a := p.Addr()
			if !a.Is4() || a.IsLoopback() || a.IsLinkLocalUnicast() || p.Bits() < 8 || p.Bits() > 30 {
				continue
			}
			s := p.Masked().String()
			if seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, LAN{Prefix: s, Iface: i.Name})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Prefix < out[b].Prefix })
	return out
}

func hasPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
