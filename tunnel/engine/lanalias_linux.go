package engine

// LAN aliases (issue 13): two offices that both use 192.168.1.0/24 reach
// each other's LAN through an alias subnet of the same size agreed in the
// exchange (conf.LANAlias, PeerMeta.ReachAs/ServeAs; docs/engine.md,
// "LAN aliases"). Both halves live in the tunnel's chains of table
// inet wgpunch:
//
//	chain dnat-NAME { type nat hook prerouting priority dstnat; policy accept;
//		iifname NAME ip saddr PEER ip daddr AS dnat ip prefix to LAN   # per ServeAs
//	}
//	chain nat-NAME { ...
//		oifname NAME ip daddr AS masquerade                            # per ReachAs
//	}
//	chain fwd-NAME { ...
//		iifname NAME ip saddr AS ct state established,related accept   # per ReachAs
//	}
//
// Serving side (this side shares LAN, the peer reaches it as AS): what the
// peer sends from its tunnel address to AS+n becomes LAN+n before routing,
// so the sharing rules (forward accept, LAN-side masquerade) apply as for
// the real LAN; conntrack turns the answers' source back into AS+n.
// Reaching side (the peer's LAN is reached here as AS): what this office's
// LAN hosts send to AS leaves through the tunnel with this machine's tunnel
// address as source, the only source besides our own LANs that the peer's
// WireGuard accepts from us; the answers come back from AS and are let
// through to the LAN host that asked.

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// sharePlan is what one tunnel's chains carry.
type sharePlan struct {
	lans  []netip.Prefix  // this side's shared LANs (sharedLANs)
	serve []serveRule     // shared LANs that peers reach through an alias
	reach []conf.LANAlias // peers' LANs that this side reaches through an alias
}

// serveRule translates what peer address from sends to alias.As onto
// alias.LAN.
type serveRule struct {
	from  netip.Addr
	alias conf.LANAlias
}

// natNeeded says whether nat-NAME (postrouting masquerade) has rules.
func (p sharePlan) natNeeded() bool { return len(p.lans) > 0 || len(p.reach) > 0 }

// dnatNeeded says whether dnat-NAME (prerouting prefix DNAT) has rules.
func (p sharePlan) dnatNeeded() bool { return len(p.serve) > 0 }

// empty says the tunnel only gets its drop rule.
func (p sharePlan) empty() bool { return !p.natNeeded() && !p.dnatNeeded() }

// forwards says whether the tunnel needs forwarding switches.
func (p sharePlan) forwards() bool { return p.natNeeded() }

// reachLANs are this side's own subnets that the aliases stand in for:
// the LAN hosts that use an alias are on them.
func (p sharePlan) reachLANs() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range p.reach {
		if !slices.Contains(out, a.LAN) {
			out = append(out, a.LAN)
		}
	}
	return out
}

// describe says what a plan does, for errors: "192.168.1.0/24, and the
// LAN aliases 10.7.3.0/24, 10.9.1.0/24".
func (p sharePlan) describe() string {
	s := prefixList(p.lans)
	var as []netip.Prefix
	for _, r := range p.serve {
		if !slices.Contains(as, r.alias.As) {
			as = append(as, r.alias.As)
		}
	}
	for _, a := range p.reach {
		as = append(as, a.As)
	}
	if len(as) == 0 {
		return s
	}
	if s != "" {
		s += ", and "
	}
	return s + "the LAN aliases " + prefixList(as)
}

// planShare reads cfg's sharing and aliases, logging in plain words what
// will be translated and what is left out and why.
func planShare(cfg *conf.Config, logf func(string, ...any)) sharePlan {
	p := sharePlan{lans: sharedLANs(cfg, logf)}
	for _, peer := range cfg.Peers {
		who := peerLabel(peer)
		for _, a := range peer.Meta.ServeAs {
			if !aliasOK(a) {
				logf("tunnel %s: ignoring the LAN alias %s of peer %s: a LAN and its alias must be valid subnets of one family and size", cfg.Name, a, who)
				continue
			}
			if !slices.Contains(p.lans, a.LAN) {
				// An alias only ever reaches a LAN this side shares.
				logf("tunnel %s: peer %s would reach %s as %s, but this tunnel does not share %s: nothing is translated for it (share the LAN again to let the peer in)", cfg.Name, who, a.LAN, a.As, a.LAN)
				continue
			}
			var from []netip.Addr
			for _, ip := range peer.AllowedIPs {
				if ip.IsSingleIP() && ip.Addr().Is4() == a.LAN.Addr().Is4() {
					from = append(from, ip.Addr())
				}
			}
			if len(from) == 0 {
				logf("tunnel %s: peer %s has no %s tunnel address, so it cannot reach %s through its alias %s", cfg.Name, who, familyName(a.LAN), a.LAN, a.As)
				continue
			}
			for _, f := range from {
				p.serve = append(p.serve, serveRule{from: f, alias: a})
			}
			logf("tunnel %s: peer %s reaches this side's LAN %s as %s: what it sends to %s is handed on to %s (same host number; e.g. %s is %s), and the answers go back as coming from %s",
				cfg.Name, who, a.LAN, a.As, a.As, a.LAN, a.As.Addr().Next(), a.LAN.Addr().Next(), a.As)
		}
		for _, a := range peer.Meta.ReachAs {
			if !aliasOK(a) {
				logf("tunnel %s: ignoring the LAN alias %s of peer %s: a LAN and its alias must be valid subnets of one family and size", cfg.Name, a, who)
				continue
			}
			p.reach = append(p.reach, a)
			logf("tunnel %s: peer %s's LAN %s is reached here as %s (it overlaps a subnet on this side): what this machine or a computer routed through it sends to %s leaves through the tunnel with this machine's tunnel address as the sender, and the peer hands it on to its %s",
				cfg.Name, who, a.LAN, a.As, a.As, a.LAN)
		}
	}
	return p
}

func aliasOK(a conf.LANAlias) bool {
	return a.LAN.IsValid() && a.As.IsValid() && a.LAN == a.LAN.Masked() && a.As == a.As.Masked() &&
		a.LAN.Addr().Is4() == a.As.Addr().Is4() && a.LAN.Bits() == a.As.Bits() &&
		a.LAN.Bits() >= minLANBits && !a.LAN.Overlaps(a.As)
}

func familyName(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// dnatExprs is `iifname NAME ip saddr FROM ip daddr AS dnat ip prefix to LAN`.
func dnatExprs(ifname string, r serveRule) []expr.Any {
	proto := uint32(unix.NFPROTO_IPV4)
	if r.alias.LAN.Addr().Is6() {
		proto = unix.NFPROTO_IPV6
	}
	host := netip.PrefixFrom(r.from, r.from.BitLen())
	return slices.Concat(
		matchIfname(expr.MetaKeyIIFNAME, ifname),
		matchSaddr(host),
		matchDaddr(r.alias.As),
		[]expr.Any{
			&expr.Immediate{Register: 1, Data: r.alias.LAN.Addr().AsSlice()},
			&expr.Immediate{Register: 2, Data: lastAddr(r.alias.LAN).AsSlice()},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: proto, RegAddrMin: 1, RegAddrMax: 2, Prefix: true},
		})
}

// reachMasqExprs is `oifname NAME ip daddr AS masquerade`.
func reachMasqExprs(ifname string, a conf.LANAlias) []expr.Any {
	return slices.Concat(matchIfname(expr.MetaKeyOIFNAME, ifname), matchDaddr(a.As), []expr.Any{&expr.Masq{}})
}

// reachReplyExprs is `iifname NAME ip saddr AS ct state established,related
// accept`: the answers to what this side's LAN hosts sent to the alias.
func reachReplyExprs(ifname string, a conf.LANAlias) []expr.Any {
	return slices.Concat(matchIfname(expr.MetaKeyIIFNAME, ifname), matchSaddr(a.As), matchEstablished(), []expr.Any{accept()})
}

// reachDropPolicies is dropPolicies for the reaching direction: a
// forward-hook base chain of another firewall with policy drop stops what
// this side's LAN hosts send to the aliases (new connections going out
// through the tunnel), and the answers coming back.
func reachDropPolicies(chains []*nftables.Chain, ifname string, aliases []netip.Prefix) []string {
	var out []string
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name == ShareTable || ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookForward {
			continue
		}
		if ch.Policy == nil || *ch.Policy != nftables.ChainPolicyDrop {
			continue
		}
		fam := familyWord(ch.Table.Family)
		hint := fmt.Sprintf("nft insert rule %s %s %s oifname %q accept; nft insert rule %s %s %s iifname %q ct state established,related accept",
			fam, ch.Table.Name, ch.Name, ifname, fam, ch.Table.Name, ch.Name, ifname)
		if ch.Table.Name == "filter" && ch.Name == "FORWARD" && (fam == "ip" || fam == "ip6") {
			cmd := "iptables"
			if fam == "ip6" {
				cmd = "ip6tables"
			}
			hint = fmt.Sprintf("%s -I FORWARD -o %s -j ACCEPT; %s -I FORWARD -i %s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT (with ufw: ufw route allow out on %s)",
				cmd, ifname, cmd, ifname, ifname)
		}
		out = append(out, fmt.Sprintf("the firewall chain %q in table %s %s drops forwarded packets by default, so computers on this side's LAN cannot reach the peer's LAN through its alias %s until it is allowed there: %s",
			ch.Name, fam, ch.Table.Name, prefixList(aliases), hint))
	}
	return out
}
