package engine

// LAN sharing: when this side shares LAN subnets (cfg.Interface.Meta.LANs),
// packets the peer sends through the tunnel to those subnets are forwarded
// onto the LAN and masqueraded to this machine's LAN address, so LAN hosts
// answer without any route to the tunnel. Everything else the peer sends
// for forwarding is dropped.
//
// Rules live in the nftables table "inet wgpunch", one pair of base chains
// per tunnel:
//
//	chain fwd-NAME { type filter hook forward priority filter; policy accept;
//		iifname NAME ip daddr LAN accept            # per shared LAN
//		oifname NAME ct state established,related accept
//		iifname NAME counter drop                   # nothing else
//	}
//	chain nat-NAME { type nat hook postrouting priority srcnat; policy accept;
//		iifname NAME ip daddr LAN masquerade        # per shared LAN
//	}
//
// A tunnel that shares nothing still gets fwd-NAME with the drop, so
// forwarding turned on for another tunnel (or by the host) never lets its
// peer reach further than this machine.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// ShareTable is the nftables table (family inet) that holds the engine's
// forwarding and masquerading rules.
const ShareTable = "wgpunch"

// defaultForwardingPaths are the forwarding switches, IPv4 and IPv6
// (Options.ForwardingPaths can point elsewhere).
func defaultForwardingPaths() [2]string {
	return [2]string{
		"/proc/sys/net/ipv4/ip_forward",
		"/proc/sys/net/ipv6/conf/all/forwarding",
	}
}

// lanShare is the engine's sharing state. It is only touched under
// linuxEngine.op (field lan).
type lanShare struct {
	tunnels map[string]*shareState // by interface name: chains installed
	fwd     [2]forwarding          // IPv4, IPv6
	guard   chan struct{}          // closed to stop the guard goroutine
}

// defaultGuardInterval is how often the engine checks that its rules are
// still in place (Options.GuardInterval can shorten it).
const defaultGuardInterval = 5 * time.Second

// shareState is what one tunnel has installed.
type shareState struct {
	lans []netip.Prefix
	nat  bool // nat-NAME exists
}

// forwarding is one family's forwarding switch, turned on while any tunnel
// shares a LAN of that family.
type forwarding struct {
	users   map[string]bool
	old     string // value before we changed it
	changed bool   // we wrote "1" over "0"
}

var shareTable = &nftables.Table{Name: ShareTable, Family: nftables.TableFamilyINet}

func fwdChain(name string) *nftables.Chain {
	return &nftables.Chain{
		Name: "fwd-" + name, Table: shareTable, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter,
		Policy: policyRef(nftables.ChainPolicyAccept),
	}
}

func natChain(name string) *nftables.Chain {
	return &nftables.Chain{
		Name: "nat-" + name, Table: shareTable, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
		Policy: policyRef(nftables.ChainPolicyAccept),
	}
}

func policyRef(p nftables.ChainPolicy) *nftables.ChainPolicy { return &p }

// minLANBits is the shortest prefix a shared LAN may have, IPv4 and IPv6
// (conf.MinLANBits; the invite side refuses wider ones too).
const minLANBits = conf.MinLANBits

// sharedLANs returns cfg's shared LAN subnets, masked and without repeats.
// A default route cannot be shared (it would forward the peer to the
// internet), nor anything wider than /8 (minLANBits), which is not a LAN
// but a large part of the internet: they are logged and left out.
func sharedLANs(cfg *conf.Config, logf func(string, ...any)) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range cfg.Interface.Meta.LANs {
		if !p.IsValid() {
			continue
		}
		p = p.Masked()
		if p.Bits() == 0 {
			logf("tunnel %s: not sharing %s: sharing everything (a default route) is not supported; list the LAN subnets instead", cfg.Name, p)
			continue
		}
		if p.Bits() < minLANBits {
			logf("tunnel %s: not sharing %s: it is wider than /%d, so it is not a LAN but much of the internet; list the LAN subnets instead", cfg.Name, p, minLANBits)
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// shareLANs makes the forwarding rules and forwarding switches of tunnel ifname
// match cfg's shared LANs. Rules go in before forwarding is turned on, so
// there is never a moment with forwarding on and the drop missing. A tunnel
// that shares LANs fails to come up if that cannot be done; one that shares
// nothing only logs (its drop rule guards against forwarding that someone
// else turned on). After an error the tunnel has its previous rules, or
// only the drop; the caller of a fresh tunnel calls unshareLANs.
func (e *linuxEngine) shareLANs(ifname string, cfg *conf.Config) error {
	s := &e.lan
	if s.tunnels == nil {
		s.tunnels = make(map[string]*shareState)
	}
	lans := sharedLANs(cfg, e.logf)
	if err := s.install(ifname, lans); err != nil {
		if len(lans) == 0 {
			e.logf("tunnel %s: could not add the rule that stops the peer from reaching beyond this machine: %v", ifname, err)
			return nil
		}
		// The transaction failed as a whole: what this tunnel had
		// before (rules and forwarding) is still in place and consistent.
		return fmt.Errorf("share LAN %s: %w (LAN sharing needs nftables in the kernel: load it with modprobe nf_tables nft_masq, or stop sharing LANs in this tunnel)", prefixList(lans), err)
	}
	e.startGuard()
	var need [2]bool
	for _, p := range lans {
		need[family(p)] = true
	}
	for f := range s.fwd {
		if !need[f] {
			e.releaseForwarding(f, ifname)
			continue
		}
		if err := e.holdForwarding(f, ifname); err != nil {
			// Share nothing, but keep the drop.
			for f := range s.fwd {
				e.releaseForwarding(f, ifname)
			}
			if ierr := s.install(ifname, nil); ierr != nil {
				e.logf("tunnel %s: stop sharing: %v", ifname, ierr)
			}
			return fmt.Errorf("share LAN %s: %w", prefixList(lans), err)
		}
	}
	if len(lans) > 0 {
		e.logf("tunnel %s: sharing LAN %s with the peer (forwarded and masqueraded; nothing else is forwarded)", ifname, prefixList(lans))
		for _, w := range forwardWarnings(ifname, lans) {
			e.logf("tunnel %s: warning: %s", ifname, w)
		}
	}
	return nil
}

// unshareLANs removes tunnel ifname's chains, turns forwarding back off if it
// was the last tunnel that needed it and we turned it on, and deletes the
// table once no tunnel has chains in it. Failures are logged.
func (e *linuxEngine) unshareLANs(ifname string) {
	s := &e.lan
	for f := range s.fwd {
		e.releaseForwarding(f, ifname)
	}
	st, ok := s.tunnels[ifname]
	if !ok {
		return
	}
	delete(s.tunnels, ifname)
	if len(s.tunnels) == 0 {
		e.stopGuard()
	}
	c, err := nftables.New()
	if err != nil {
		e.logf("tunnel %s: remove forwarding rules: %v", ifname, err)
		return
	}
	if len(s.tunnels) == 0 {
		c.DelTable(shareTable)
	} else {
		for _, ch := range []*nftables.Chain{fwdChain(ifname), natChain(ifname)} {
			if ch.Type == nftables.ChainTypeNAT && !st.nat {
				continue
			}
			c.FlushChain(ch)
			c.DelChain(ch)
		}
	}
	if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		e.logf("tunnel %s: remove forwarding rules from nftables table inet %s: %v", ifname, ShareTable, err)
	}
}

// dropShareTable deletes the table whatever is in it (Close).
func (e *linuxEngine) dropShareTable() {
	for f := range e.lan.fwd {
		for name := range e.lan.fwd[f].users {
			e.releaseForwarding(f, name)
		}
	}
	e.lan.tunnels = nil
	e.stopGuard()
	c, err := nftables.New()
	if err != nil {
		return
	}
	if t, err := c.ListTableOfFamily(ShareTable, nftables.TableFamilyINet); err != nil || t == nil {
		return
	}
	c.DelTable(shareTable)
	if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		e.logf("remove nftables table inet %s: %v", ShareTable, err)
	}
}

// startGuard starts the goroutine that puts the rules back when something
// else removed them: `nft flush ruleset`, as in Debian's nftables.service
// restart, takes our drop rule with it while forwarding stays on.
func (e *linuxEngine) startGuard() {
	if e.lan.guard != nil {
		return
	}
	stop := make(chan struct{})
	e.lan.guard = stop
	go func() {
		tick := time.NewTicker(e.tune.guardInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			e.op.Lock()
			select {
			case <-stop:
				e.op.Unlock()
				return
			default:
			}
			e.restoreRules()
			e.op.Unlock()
		}
	}()
}

// stopGuard ends the guard goroutine without waiting for it: it may be
// waiting for op, which the caller holds.
func (e *linuxEngine) stopGuard() {
	if e.lan.guard != nil {
		close(e.lan.guard)
		e.lan.guard = nil
	}
}

// restoreRules reinstalls the chains of every tunnel whose chains are gone.
func (e *linuxEngine) restoreRules() {
	c, err := nftables.New()
	if err != nil {
		return
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		e.logf("check LAN sharing rules: %v", err)
		return
	}
	have := make(map[string]bool)
	for _, ch := range chains {
		if ch.Table != nil && ch.Table.Name == ShareTable {
			have[ch.Name] = true
		}
	}
	names := make([]string, 0, len(e.lan.tunnels))
	for n := range e.lan.tunnels {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		st := e.lan.tunnels[n]
		if have["fwd-"+n] && (!st.nat || have["nat-"+n]) {
			continue
		}
		if err := e.lan.install(n, st.lans); err != nil {
			e.logf("tunnel %s: the forwarding rules in nftables table inet %s were removed from outside and cannot be put back: %v", n, ShareTable, err)
			continue
		}
		e.logf("tunnel %s: the forwarding rules in nftables table inet %s were removed from outside (nft flush ruleset, a firewall reload?); put them back", n, ShareTable)
	}
}

// install replaces tunnel ifname's chains with ones for lans in one atomic
// nftables transaction.
func (s *lanShare) install(ifname string, lans []netip.Prefix) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	st := s.tunnels[ifname]
	c.AddTable(shareTable)
	fwd := c.AddChain(fwdChain(ifname))
	c.FlushChain(fwd)
	for _, p := range lans {
		c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: slices.Concat(
			matchIfname(expr.MetaKeyIIFNAME, ifname), matchDaddr(p), []expr.Any{accept()})})
	}
	c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: slices.Concat(
		matchIfname(expr.MetaKeyOIFNAME, ifname), matchEstablished(), []expr.Any{accept()})})
	c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: slices.Concat(
		matchIfname(expr.MetaKeyIIFNAME, ifname), []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}})})

	nat := natChain(ifname)
	switch {
	case len(lans) > 0:
		c.AddChain(nat)
		c.FlushChain(nat)
		for _, p := range lans {
			c.AddRule(&nftables.Rule{Table: shareTable, Chain: nat, Exprs: slices.Concat(
				matchIfname(expr.MetaKeyIIFNAME, ifname), matchDaddr(p), []expr.Any{&expr.Masq{}})})
		}
	case st != nil && st.nat:
		c.FlushChain(nat)
		c.DelChain(nat)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add rules to nftables table inet %s: %w", ShareTable, err)
	}
	s.tunnels[ifname] = &shareState{lans: lans, nat: len(lans) > 0}
	return nil
}

// holdForwarding turns forwarding of family f on for user ifname,
// remembering the old value.
func (e *linuxEngine) holdForwarding(f int, ifname string) error {
	fw := &e.lan.fwd[f]
	if fw.users[ifname] {
		return nil
	}
	if len(fw.users) == 0 {
		old, err := os.ReadFile(e.tune.forwarding[f])
		if err != nil {
			return fmt.Errorf("read %s forwarding setting: %w", familyName(f), err)
		}
		fw.old = strings.TrimSpace(string(old))
		fw.changed = false
		if fw.old != "1" {
			if err := os.WriteFile(e.tune.forwarding[f], []byte("1\n"), 0o644); err != nil {
				return fmt.Errorf("turn on %s forwarding (%s): %w", familyName(f), e.tune.forwarding[f], err)
			}
			fw.changed = true
			e.logf("turned on %s forwarding (%s was %s) for LAN sharing", familyName(f), e.tune.forwarding[f], fw.old)
			if f == 1 {
				if ifs := raIgnored(); len(ifs) > 0 {
					e.logf("warning: with IPv6 forwarding on, Linux ignores router advertisements on %s (accept_ra=1): set net.ipv6.conf.IF.accept_ra=2 there to keep IPv6 autoconfiguration", strings.Join(ifs, ", "))
				}
			}
		}
	}
	if fw.users == nil {
		fw.users = make(map[string]bool)
	}
	fw.users[ifname] = true
	return nil
}

// releaseForwarding drops user ifname; the last user restores the value
// found before, if we changed it.
func (e *linuxEngine) releaseForwarding(f int, ifname string) {
	fw := &e.lan.fwd[f]
	if !fw.users[ifname] {
		return
	}
	delete(fw.users, ifname)
	if len(fw.users) > 0 || !fw.changed {
		return
	}
	fw.changed = false
	if err := os.WriteFile(e.tune.forwarding[f], []byte(fw.old+"\n"), 0o644); err != nil {
		e.logf("restore %s forwarding (%s = %s): %v", familyName(f), e.tune.forwarding[f], fw.old, err)
		return
	}
	e.logf("restored %s forwarding (%s = %s)", familyName(f), e.tune.forwarding[f], fw.old)
}

// forwardWarnings reports base chains of other firewalls on the forward hook
// whose policy is drop (iptables-nft's "ip filter FORWARD" as left by ufw,
// firewalld or docker, say). nftables runs every base chain, so our accept
// does not override their drop: the user must allow the traffic there too.
func forwardWarnings(ifname string, lans []netip.Prefix) []string {
	c, err := nftables.New()
	if err != nil {
		return nil
	}
	chains, err := c.ListChains()
	if err != nil {
		return []string{fmt.Sprintf("could not check other firewalls for a forward drop policy: %v", err)}
	}
	return dropPolicies(chains, ifname, lans)
}

func dropPolicies(chains []*nftables.Chain, ifname string, lans []netip.Prefix) []string {
	var out []string
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name == ShareTable || ch.Hooknum == nil || *ch.Hooknum != *nftables.ChainHookForward {
			continue
		}
		if ch.Policy == nil || *ch.Policy != nftables.ChainPolicyDrop {
			continue
		}
		fam := familyWord(ch.Table.Family)
		hint := fmt.Sprintf("nft insert rule %s %s %s iifname %q accept; nft insert rule %s %s %s oifname %q ct state established,related accept",
			fam, ch.Table.Name, ch.Name, ifname, fam, ch.Table.Name, ch.Name, ifname)
		if ch.Table.Name == "filter" && ch.Name == "FORWARD" && (fam == "ip" || fam == "ip6") {
			cmd := "iptables"
			if fam == "ip6" {
				cmd = "ip6tables"
			}
			hint = fmt.Sprintf("%s -I FORWARD -i %s -j ACCEPT; %s -I FORWARD -o %s -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT (with ufw: ufw route allow in on %s)",
				cmd, ifname, cmd, ifname, ifname)
		}
		out = append(out, fmt.Sprintf("the firewall chain %q in table %s %s drops forwarded packets by default, so the peer cannot reach the shared LAN %s until it is allowed there: %s (the wgpunch table still drops everything else from %s)",
			ch.Name, fam, ch.Table.Name, prefixList(lans), hint, ifname))
	}
	return out
}

// raIgnored lists interfaces whose IPv6 autoconfiguration stops with
// forwarding on (accept_ra = 1).
func raIgnored() []string {
	paths, _ := filepath.Glob("/proc/sys/net/ipv6/conf/*/accept_ra")
	var out []string
	for _, p := range paths {
		name := filepath.Base(filepath.Dir(p))
		if name == "all" || name == "default" || name == "lo" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == "1" {
			out = append(out, name)
		}
	}
	return out
}

// Expression builders.

func matchIfname(key expr.MetaKey, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

// matchDaddr matches the destination address against p (the inet table
// sees both families: check the family first).
func matchDaddr(p netip.Prefix) []expr.Any {
	proto, off := byte(unix.NFPROTO_IPV4), uint32(16)
	if p.Addr().Is6() {
		proto, off = unix.NFPROTO_IPV6, 24
	}
	n := uint32(p.Addr().BitLen() / 8)
	mask := netip.PrefixFrom(p.Addr(), p.Bits())
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: maskBytes(mask), Xor: make([]byte, n)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

func maskBytes(p netip.Prefix) []byte {
	b := make([]byte, p.Addr().BitLen()/8)
	for i := 0; i < p.Bits(); i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return b
}

func matchEstablished() []expr.Any {
	bits := make([]byte, 4)
	binary.NativeEndian.PutUint32(bits, expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED)
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATE, Register: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: bits, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

func accept() expr.Any { return &expr.Verdict{Kind: expr.VerdictAccept} }

func family(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

func familyName(f int) string {
	if f == 0 {
		return "IPv4"
	}
	return "IPv6"
}

func familyWord(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyBridge:
		return "bridge"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyNetdev:
		return "netdev"
	}
	return fmt.Sprintf("family%d", f)
}

func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
