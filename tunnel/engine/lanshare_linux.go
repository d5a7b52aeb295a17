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
// plus, for LAN aliases, a prerouting chain dnat-NAME and a few more rules
// in these two (lanalias_linux.go).
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
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// ShareTable is the nftables table (family inet) that holds the engine's
// forwarding and masquerading rules.
const ShareTable = "wgpunch"

// defaultSysctlDir is where the forwarding switches live
// (Options.SysctlDir can point elsewhere).
const defaultSysctlDir = "/proc/sys"

// lanShare is the engine's sharing state. It is only touched under
// linuxEngine.op (field lan).
type lanShare struct {
	tunnels map[string]*shareState // by interface name: chains installed
	fwd     map[string]*fwdSwitch  // by sysctl file: forwarding switches held
	guard   chan struct{}          // closed to stop the guard goroutine
}

// defaultGuardInterval is how often the engine checks that its rules are
// still in place (Options.GuardInterval can shorten it).
const defaultGuardInterval = 5 * time.Second

// shareState is what one tunnel has installed.
type shareState struct {
	plan sharePlan
	nat  bool // nat-NAME exists
	dnat bool // dnat-NAME exists
}

// fwdSwitch is one forwarding sysctl file (net/ipv4/conf/IF/forwarding,
// say), turned on while any tunnel needs it.
type fwdSwitch struct {
	users   map[string]bool // tunnels holding it
	old     string          // value before we changed it
	changed bool            // we wrote "1" over it
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

func dnatChain(name string) *nftables.Chain {
	return &nftables.Chain{
		Name: "dnat-" + name, Table: shareTable, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest,
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
	plan := planShare(cfg, e.logf)
	lans := plan.lans
	if err := s.install(ifname, plan); err != nil {
		if plan.empty() {
			e.logf("tunnel %s: could not add the rule that stops the peer from reaching beyond this machine: %v", ifname, err)
			return nil
		}
		// The transaction failed as a whole: what this tunnel had
		// before (rules and forwarding) is still in place and consistent.
		return fmt.Errorf("share LAN %s: %w (LAN sharing needs nftables in the kernel: load it with modprobe nf_tables nft_masq nft_nat, or stop sharing LANs in this tunnel)", plan.describe(), err)
	}
	e.startGuard()
	paths := e.forwardingPaths(ifname, plan, e.logf)
	for _, p := range paths {
		if err := e.holdForwarding(p, ifname); err != nil {
			// Share nothing, but keep the drop.
			e.releaseForwarding(ifname, nil)
			if ierr := s.install(ifname, sharePlan{}); ierr != nil {
				e.logf("tunnel %s: stop sharing: %v", ifname, ierr)
			}
			return fmt.Errorf("share LAN %s: %w", plan.describe(), err)
		}
	}
	// What an earlier config of this tunnel needed and this one does not.
	e.releaseForwarding(ifname, paths)
	if len(lans) > 0 {
		e.logf("tunnel %s: sharing LAN %s with the peer (forwarded and masqueraded; nothing else is forwarded)", ifname, prefixList(lans))
		for _, w := range forwardWarnings(ifname, lans) {
			e.logf("tunnel %s: warning: %s", ifname, w)
		}
	}
	if len(plan.reach) > 0 {
		var as []netip.Prefix
		for _, a := range plan.reach {
			as = append(as, a.As)
		}
		if c, err := nftables.New(); err == nil {
			if chains, err := c.ListChains(); err == nil {
				for _, w := range reachDropPolicies(chains, ifname, as) {
					e.logf("tunnel %s: warning: %s", ifname, w)
				}
			}
		}
	}
	return nil
}

// unshareLANs removes tunnel ifname's chains, turns forwarding back off if it
// was the last tunnel that needed it and we turned it on, and deletes the
// table once no tunnel has chains in it. Failures are logged.
func (e *linuxEngine) unshareLANs(ifname string) {
	s := &e.lan
	e.releaseForwarding(ifname, nil)
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
		for _, ch := range []*nftables.Chain{fwdChain(ifname), natChain(ifname), dnatChain(ifname)} {
			if (ch.Name == "nat-"+ifname && !st.nat) || (ch.Name == "dnat-"+ifname && !st.dnat) {
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
	for _, sw := range e.lan.fwd {
		for name := range sw.users {
			e.releaseForwarding(name, nil)
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
			e.refreshForwarding()
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
		if have["fwd-"+n] && (!st.nat || have["nat-"+n]) && (!st.dnat || have["dnat-"+n]) {
			continue
		}
		if err := e.lan.install(n, st.plan); err != nil {
			e.logf("tunnel %s: the forwarding rules in nftables table inet %s were removed from outside and cannot be put back: %v", n, ShareTable, err)
			continue
		}
		e.logf("tunnel %s: the forwarding rules in nftables table inet %s were removed from outside (nft flush ruleset, a firewall reload?); put them back", n, ShareTable)
	}
}

// install replaces tunnel ifname's chains with ones for plan in one atomic
// nftables transaction. A NAT chain the plan does not need goes, also one
// that an earlier daemon left behind (killed before it could clean up).
func (s *lanShare) install(ifname string, plan sharePlan) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open nftables: %w", err)
	}
	st := s.tunnels[ifname]
	have := make(map[string]bool)
	if st != nil {
		have["nat-"+ifname], have["dnat-"+ifname] = st.nat, st.dnat
	} else if chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet); err == nil {
		for _, ch := range chains {
			if ch.Table != nil && ch.Table.Name == ShareTable {
				have[ch.Name] = true
			}
		}
	}
	lans := plan.lans
	c.AddTable(shareTable)
	fwd := c.AddChain(fwdChain(ifname))
	c.FlushChain(fwd)
	for _, p := range lans {
		c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: slices.Concat(
			matchIfname(expr.MetaKeyIIFNAME, ifname), matchDaddr(p), []expr.Any{accept()})})
	}
	for _, a := range plan.reach {
		c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: reachReplyExprs(ifname, a)})
	}
	c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: slices.Concat(
		matchIfname(expr.MetaKeyOIFNAME, ifname), matchEstablished(), []expr.Any{accept()})})
	c.AddRule(&nftables.Rule{Table: shareTable, Chain: fwd, Exprs: slices.Concat(
		matchIfname(expr.MetaKeyIIFNAME, ifname), []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}})})

	nat := natChain(ifname)
	switch {
	case plan.natNeeded():
		c.AddChain(nat)
		c.FlushChain(nat)
		for _, p := range lans {
			c.AddRule(&nftables.Rule{Table: shareTable, Chain: nat, Exprs: slices.Concat(
				matchIfname(expr.MetaKeyIIFNAME, ifname), matchDaddr(p), []expr.Any{&expr.Masq{}})})
		}
		for _, a := range plan.reach {
			c.AddRule(&nftables.Rule{Table: shareTable, Chain: nat, Exprs: reachMasqExprs(ifname, a)})
		}
	case have[nat.Name]:
		c.FlushChain(nat)
		c.DelChain(nat)
	}
	dnat := dnatChain(ifname)
	switch {
	case plan.dnatNeeded():
		c.AddChain(dnat)
		c.FlushChain(dnat)
		for _, r := range plan.serve {
			c.AddRule(&nftables.Rule{Table: shareTable, Chain: dnat, Exprs: dnatExprs(ifname, r)})
		}
	case have[dnat.Name]:
		c.FlushChain(dnat)
		c.DelChain(dnat)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add rules to nftables table inet %s: %w", ShareTable, err)
	}
	s.tunnels[ifname] = &shareState{plan: plan, nat: plan.natNeeded(), dnat: plan.dnatNeeded()}
	return nil
}

// Forwarding switches. The kernel decides whether to forward a packet by
// the interface it came in on: IPv4 checks net.ipv4.conf.IN.forwarding,
// IPv6 checks net.ipv6.conf.all.forwarding or, since Linux 6.17,
// net.ipv6.conf.IN.force_forwarding. Packets from the peer come in on the
// tunnel; the LAN hosts' replies (masqueraded, so addressed to this
// machine, and turned back into the peer's address by conntrack before
// routing) come in on the LAN-facing interface. Both need the switch, and
// nothing else does: other interfaces keep forwarding off.
// TestForwardingPerInterface shows it on the running kernel.

// forwardingPaths returns the sysctl files (under e.tune.sysctl) that must
// read 1 for the peer of tunnel ifname to reach the shared LANs and for
// this side's LAN hosts to reach the peer's aliased LANs: forwarding of
// the tunnel and of the interfaces the routes to the shared LANs and to
// this side's own copies of the aliased LANs leave by, per family.
// Where the kernel has no per-interface IPv6 switch it returns the
// host-wide one. Shared LANs with no route are logged with logf and left
// out.
func (e *linuxEngine) forwardingPaths(ifname string, plan sharePlan, logf func(string, ...any)) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	ofFamily := func(ps []netip.Prefix, f int) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range ps {
			if family(p) == f {
				out = append(out, p)
			}
		}
		return out
	}
	for f, fam := range []string{"ipv4", "ipv6"} {
		fl, rl := ofFamily(plan.lans, f), ofFamily(plan.reachLANs(), f)
		if len(fl) == 0 && len(rl) == 0 {
			continue
		}
		devs := append([]string{ifname}, lanDevices(ifname, fl, logf)...)
		for _, d := range lanDevices(ifname, rl, nil) {
			if !slices.Contains(devs, d) {
				devs = append(devs, d)
			}
		}
		if f == 1 && !e.perInterfaceIPv6(ifname) {
			add(filepath.Join(e.tune.sysctl, "net/ipv6/conf/all/forwarding"))
			continue
		}
		file := "forwarding"
		if f == 1 {
			file = "force_forwarding"
		}
		for _, d := range devs {
			add(filepath.Join(e.tune.sysctl, "net", fam, "conf", d, file))
		}
	}
	return out
}

// perInterfaceIPv6 reports whether the kernel has net.ipv6.conf.IF.force_forwarding
// (Linux 6.17 and later), looking at tunnel ifname's own directory.
func (e *linuxEngine) perInterfaceIPv6(ifname string) bool {
	_, err := os.Stat(filepath.Join(e.tune.sysctl, "net/ipv6/conf", ifname, "force_forwarding"))
	return err == nil
}

// lanDevices names the interfaces the routes to lans leave by, without
// repeats. A LAN routed into the tunnel itself, or to this machine's own
// addresses (lo), needs no forwarding on that interface. LANs without a
// route are logged with logf, if not nil.
func lanDevices(ifname string, lans []netip.Prefix, logf func(string, ...any)) []string {
	var out []string
	for _, p := range lans {
		name, err := lanDevice(p)
		if err != nil {
			if logf != nil {
				logf("tunnel %s: warning: %v, so the peer cannot reach it; bring the LAN interface up and apply the tunnel again", ifname, err)
			}
			continue
		}
		if name == "" || name == ifname || slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// lanDevice asks the kernel for the route to a host in LAN p and returns
// the interface it leaves by; "" if every address tried is this machine's
// own. It tries the first and last host (one of them is usually this
// machine's address in the LAN, routed to lo) and the network address.
func lanDevice(p netip.Prefix) (string, error) {
	p = p.Masked()
	first, last := p.Addr(), lastAddr(p)
	cands := []netip.Addr{first}
	if p.Bits() < first.BitLen()-1 {
		cands = []netip.Addr{first.Next(), last.Prev(), first}
	}
	var lastErr error
	for _, a := range cands {
		rs, err := netlink.RouteGet(a.AsSlice())
		if err != nil || len(rs) == 0 {
			lastErr = err
			continue
		}
		if rs[0].Type == unix.RTN_LOCAL || rs[0].Type == unix.RTN_BROADCAST {
			continue
		}
		l, err := netlink.LinkByIndex(rs[0].LinkIndex)
		if err != nil {
			return "", fmt.Errorf("the route to the shared LAN %s leaves by interface %d, which cannot be read: %w", p, rs[0].LinkIndex, err)
		}
		if l.Attrs().Name == "lo" {
			continue
		}
		return l.Attrs().Name, nil
	}
	if lastErr != nil {
		return "", fmt.Errorf("this machine has no route to the shared LAN %s (%v)", p, lastErr)
	}
	return "", nil
}

// lastAddr is the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// refreshForwarding follows the routes to the shared LANs (the guard calls
// it): a LAN that now leaves by another interface gets forwarding there,
// and the interface it left loses it if no other tunnel needs it. A switch
// it holds that was turned off from outside is turned back on: writing
// net.ipv6.conf.all.forwarding=0 (as `sysctl --system` does with a
// hardening profile) clears every force_forwarding, even when it was 0
// already, and a change of net.ipv4.ip_forward sets every interface's.
func (e *linuxEngine) refreshForwarding() {
	defer e.reassertForwarding()
	names := make([]string, 0, len(e.lan.tunnels))
	for n, st := range e.lan.tunnels {
		if st.plan.forwards() {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		paths := e.forwardingPaths(n, e.lan.tunnels[n].plan, nil)
		ok := true
		for _, p := range paths {
			if err := e.holdForwarding(p, n); err != nil {
				e.logf("tunnel %s: the route to a shared LAN changed: %v", n, err)
				ok = false
			}
		}
		if ok {
			e.releaseForwarding(n, paths)
		}
	}
}

// reassertForwarding turns held switches that read 0 back on. The value
// found becomes the one restored on release: we turned it on again, so we
// turn it off again when the last user goes.
func (e *linuxEngine) reassertForwarding() {
	paths := make([]string, 0, len(e.lan.fwd))
	for p := range e.lan.fwd {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, path := range paths {
		sw := e.lan.fwd[path]
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the interface went away; its tunnel's down cleans up
		}
		got := strings.TrimSpace(string(b))
		if got == "1" {
			continue
		}
		if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
			e.logf("%s was turned off from outside and cannot be turned back on, so LAN sharing is broken: %v", describeSwitch(path), err)
			continue
		}
		if !sw.changed {
			sw.old, sw.changed = got, true
		}
		e.logf("%s was turned off from outside (a sysctl reload?); turned it back on for LAN sharing", describeSwitch(path))
	}
}

// describeSwitch names a forwarding sysctl file for logs and errors:
// "IPv4 forwarding on eth0 (/proc/sys/net/ipv4/conf/eth0/forwarding)".
func describeSwitch(path string) string {
	fam := "IPv4"
	if strings.Contains(path, "/ipv6/") {
		fam = "IPv6"
	}
	dev := filepath.Base(filepath.Dir(path))
	where := "on " + dev
	if dev == "all" {
		where = "on all interfaces"
	}
	return fmt.Sprintf("%s forwarding %s (%s)", fam, where, path)
}

// holdForwarding turns the forwarding switch at path on for user ifname,
// remembering the old value.
func (e *linuxEngine) holdForwarding(path, ifname string) error {
	if e.lan.fwd == nil {
		e.lan.fwd = make(map[string]*fwdSwitch)
	}
	sw := e.lan.fwd[path]
	if sw != nil && sw.users[ifname] {
		return nil
	}
	if sw == nil {
		old, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", describeSwitch(path), err)
		}
		sw = &fwdSwitch{users: make(map[string]bool), old: strings.TrimSpace(string(old))}
		if sw.old != "1" {
			if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
				return fmt.Errorf("turn on %s: %w", describeSwitch(path), err)
			}
			sw.changed = true
			e.logf("turned on %s for LAN sharing (it was %s)", describeSwitch(path), sw.old)
			if filepath.Base(filepath.Dir(path)) == "all" && strings.Contains(path, "/ipv6/") {
				e.logf("warning: this kernel has no per-interface IPv6 forwarding switch (net.ipv6.conf.IF.force_forwarding, Linux 6.17 and later), so IPv6 forwarding is on for every interface while an IPv6 LAN is shared; the wgpunch nftables table still drops everything from the tunnel that is not for the shared LAN")
				if ifs := e.raIgnored(); len(ifs) > 0 {
					e.logf("warning: with IPv6 forwarding on, Linux ignores router advertisements on %s (accept_ra=1): set net.ipv6.conf.IF.accept_ra=2 there to keep IPv6 autoconfiguration", strings.Join(ifs, ", "))
				}
			}
		}
		e.lan.fwd[path] = sw
	}
	sw.users[ifname] = true
	return nil
}

// releaseForwarding drops user ifname from every switch it holds except
// those in keep; the last user of a switch restores the value found
// before, if we changed it. A switch of an interface that is gone (the
// tunnel's own, after Down) went with it.
func (e *linuxEngine) releaseForwarding(ifname string, keep []string) {
	paths := make([]string, 0, len(e.lan.fwd))
	for p := range e.lan.fwd {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, path := range paths {
		sw := e.lan.fwd[path]
		if !sw.users[ifname] || slices.Contains(keep, path) {
			continue
		}
		delete(sw.users, ifname)
		if len(sw.users) > 0 {
			continue
		}
		delete(e.lan.fwd, path)
		if !sw.changed {
			continue
		}
		if err := os.WriteFile(path, []byte(sw.old+"\n"), 0o644); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				e.logf("restore %s = %s: %v", describeSwitch(path), sw.old, err)
			}
			continue
		}
		e.logf("restored %s = %s", describeSwitch(path), sw.old)
	}
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
func (e *linuxEngine) raIgnored() []string {
	paths, _ := filepath.Glob(filepath.Join(e.tune.sysctl, "net/ipv6/conf/*/accept_ra"))
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
func matchDaddr(p netip.Prefix) []expr.Any { return matchAddr(p, false) }

// matchSaddr matches the source address against p.
func matchSaddr(p netip.Prefix) []expr.Any { return matchAddr(p, true) }

func matchAddr(p netip.Prefix, source bool) []expr.Any {
	proto, off := byte(unix.NFPROTO_IPV4), uint32(16)
	if p.Addr().Is6() {
		proto, off = unix.NFPROTO_IPV6, 24
	}
	if source {
		off -= uint32(p.Addr().BitLen() / 8) // the source address comes right before
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
