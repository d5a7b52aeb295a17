package netinfo

import (
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// tunnelPrefixes are interface names that are tunnels or virtual plumbing,
// never a LAN worth sharing.
var tunnelPrefixes = []string{"wg", "tun", "tap", "utun", "docker", "veth", "virbr", "br-", "lo", "zt", "tailscale"}

// FilterLANs lists the IPv4 subnets of ifs worth sharing, sorted: it skips
// loopback, point-to-point, down and tunnel interfaces and any named in
// skip (our tunnels), link-local addresses, and subnets wider than a shared
// LAN may be (conf.MinLANBits) or narrower than /30.
func FilterLANs(ifs []Iface, skip []string) []LAN {
	seen := map[string]bool{}
	var out []LAN
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagPointToPoint != 0 || i.Flags&net.FlagUp == 0 {
			continue
		}
		if isTunnelName(i.Name) || slices.Contains(skip, i.Name) {
			continue
		}
		for _, p := range i.Addrs {
			a := p.Addr()
			if !a.Is4() || a.IsLoopback() || a.IsLinkLocalUnicast() || p.Bits() < conf.MinLANBits || p.Bits() > 30 {
				continue
			}
			s := p.Masked().String()
			if seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, LAN{Prefix: p.Masked(), Iface: i.Name})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Prefix.String() < out[b].Prefix.String() })
	return out
}

func isTunnelName(name string) bool {
	for _, p := range tunnelPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
