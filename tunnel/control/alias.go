package control

import (
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/exchange"
)

// AliasText explains how this machine reaches l, a LAN peer shares
// (PeerStatus.LANs): for an aliased LAN, the sentence ("Office B's
// 192.168.1.0/24 is reached here as 10.201.1.0/24: a device at
// 192.168.1.50 there is 10.201.1.50 here") and the ways other computers
// of this office reach the alias through this machine at lanAddress
// (TunnelStatus.LANAddress; "" unknown): a Linux command, a Windows
// command, a router's static route. Empty for a LAN without alias.
func AliasText(peer string, l LANStatus, lanAddress string) (sentence string, commands []string) {
	a, ok := parseAlias(l)
	if !ok {
		return "", nil
	}
	via, _ := netip.ParseAddr(lanAddress)
	return exchange.AliasExample(peer, a), exchange.RouteCommands(a.As, via)
}

// ServedText says how peer reaches l, one of our LANs it reaches through
// an alias (PeerStatus.ServeAs).
func ServedText(peer string, l LANStatus) string {
	a, ok := parseAlias(l)
	if !ok {
		return ""
	}
	return exchange.ServedExample(peer, a)
}

func parseAlias(l LANStatus) (conf.LANAlias, bool) {
	lan, err1 := netip.ParsePrefix(l.Prefix)
	as, err2 := netip.ParsePrefix(l.ReachAs)
	if err1 != nil || err2 != nil || lan == as {
		return conf.LANAlias{}, false
	}
	return conf.LANAlias{LAN: lan, As: as}, true
}
