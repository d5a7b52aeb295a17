package engine

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/conf"
)

func TestMatchSaddr(t *testing.T) {
	for _, tc := range []struct {
		p   string
		off uint32
	}{{"10.99.132.2/32", 12}, {"10.13.2.0/24", 12}, {"fd13::2/128", 8}} {
		ex := matchSaddr(netip.MustParsePrefix(tc.p))
		pl, ok := ex[2].(*expr.Payload)
		if !ok || pl.Offset != tc.off {
			t.Errorf("matchSaddr(%s): payload %+v, want offset %d (the source address)", tc.p, ex[2], tc.off)
		}
		if d := matchDaddr(netip.MustParsePrefix(tc.p))[2].(*expr.Payload).Offset; d == tc.off {
			t.Errorf("matchDaddr(%s) reads the source address too (offset %d)", tc.p, d)
		}
	}
}

func TestPlanShare(t *testing.T) {
	pfx := netip.MustParsePrefix
	alias := func(lan, as string) conf.LANAlias { return conf.LANAlias{LAN: pfx(lan), As: pfx(as)} }
	cfg := &conf.Config{Name: "office",
		Interface: conf.Interface{Meta: conf.InterfaceMeta{LANs: []netip.Prefix{pfx("192.168.1.0/24")}}},
		Peers: []conf.Peer{{
			AllowedIPs: []netip.Prefix{pfx("10.77.0.2/32"), pfx("fd77::2/128"), pfx("10.13.2.0/24")},
			Meta: conf.PeerMeta{Name: "Office B",
				LANs:    []netip.Prefix{pfx("192.168.1.0/24")},
				ReachAs: []conf.LANAlias{alias("192.168.1.0/24", "10.13.2.0/24")},
				// The second is not shared here: never translated.
				ServeAs: []conf.LANAlias{alias("192.168.1.0/24", "10.13.1.0/24"), alias("192.168.9.0/24", "10.13.9.0/24")},
			},
		}},
	}
	var log bytes.Buffer
	p := planShare(cfg, func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) })
	want := []serveRule{{from: netip.MustParseAddr("10.77.0.2"), alias: alias("192.168.1.0/24", "10.13.1.0/24")}}
	if diff := cmp.Diff(want, p.serve, cmp.Comparer(func(a, b serveRule) bool { return a == b })); diff != "" {
		t.Errorf("serve rules (-want +got):\n%s", diff)
	}
	if len(p.reach) != 1 || p.reach[0] != alias("192.168.1.0/24", "10.13.2.0/24") {
		t.Errorf("reach = %v, want [192.168.1.0/24 as 10.13.2.0/24]", p.reach)
	}
	for _, w := range []string{
		`peer "Office B" reaches this side's LAN 192.168.1.0/24 as 10.13.1.0/24`,
		`this tunnel does not share 192.168.9.0/24: nothing is translated`,
		`peer "Office B"'s LAN 192.168.1.0/24 is reached here as 10.13.2.0/24`,
	} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, log.String())
		}
	}
}

// TestLANAlias: offices A and B both use 192.168.1.0/24, each with a host
// at 192.168.1.50 that answers with its office's name. A reaches B's LAN
// as 10.13.2.0/24, B reaches A's as 10.13.1.0/24 (what the exchange
// agrees). From each gateway and from each LAN host (routed to the alias
// through its gateway), the alias reaches the other office's .50 while the
// real address still reaches the own one. The rules read back from
// nftables say what they translate; they go with the tunnel.
func TestLANAlias(t *testing.T) {
	needNetAdmin(t)
	testutil.RequireTool(t, "nc", "netcat-openbsd")
	nsPair(t, "h13-a", "h13-b", "10.99.131")
	needNFT(t, "h13-a")
	needNFT(t, "h13-b")
	needForceForwarding(t, "h13-a")
	nsLAN(t, "h13-a", "lan0", "192.168.1.1/24,fd01::1/64", "h13-pa", "192.168.1.50/24", "fd01::50/64")
	nsLAN(t, "h13-b", "lan0", "192.168.1.1/24,fd01::1/64", "h13-pb", "192.168.1.50/24", "fd01::50/64")
	// The LAN hosts know nothing of the tunnel: only the route to the
	// other office's alias through their gateway.
	run(t, "ip", "-n", "h13-pa", "route", "add", "10.13.2.0/24", "via", "192.168.1.1")
	run(t, "ip", "-n", "h13-pb", "route", "add", "10.13.1.0/24", "via", "192.168.1.1")
	run(t, "ip", "-n", "h13-pa", "-6", "route", "add", "fd13:2::/64", "via", "fd01::1")
	run(t, "ip", "-n", "h13-pb", "-6", "route", "add", "fd13:1::/64", "via", "fd01::1")
	for _, ns := range []string{"h13-a", "h13-b"} {
		setSysctl(t, ns, ipForward, "0")
		setSysctl(t, ns, ip6Forward, "0")
	}
	for _, c := range []struct{ ns, name string }{{"h13-pa", "office A"}, {"h13-pb", "office B"}} {
		testutil.ServeName(t, "/run/netns/"+c.ns, "192.168.1.50:7000", c.name)
		testutil.ServeName(t, "/run/netns/"+c.ns, "[fd01::50]:7000", c.name)
	}

	pfx := netip.MustParsePrefix
	lan, lan6 := pfx("192.168.1.0/24"), pfx("fd01::/64")
	asA, asB := pfx("10.13.1.0/24"), pfx("10.13.2.0/24") // A's LAN seen from B, B's from A
	asA6, asB6 := pfx("fd13:1::/64"), pfx("fd13:2::/64")
	a := newSide(t, "h13-a", "h13a0", 52131, "10.99.132.1/24", "10.99.131.1")
	b := newSide(t, "h13-b", "h13b0", 52132, "10.99.132.2/24", "10.99.131.2")
	a.addr6, b.addr6 = pfx("fd99:132::1/64"), pfx("fd99:132::2/64")
	cfgA := a.config(b, 5, asB.String(), asB6.String())
	cfgA.Interface.Meta.LANs = []netip.Prefix{lan, lan6}
	cfgA.Peers[0].Meta.LANs = []netip.Prefix{lan, lan6}
	cfgA.Peers[0].Meta.ReachAs = []conf.LANAlias{{LAN: lan, As: asB}, {LAN: lan6, As: asB6}}
	cfgA.Peers[0].Meta.ServeAs = []conf.LANAlias{{LAN: lan, As: asA}, {LAN: lan6, As: asA6}}
	cfgB := b.config(a, 5, asA.String(), asA6.String())
	cfgB.Interface.Meta.LANs = []netip.Prefix{lan, lan6}
	cfgB.Peers[0].Meta.LANs = []netip.Prefix{lan, lan6}
	cfgB.Peers[0].Meta.ReachAs = []conf.LANAlias{{LAN: lan, As: asA}, {LAN: lan6, As: asA6}}
	cfgB.Peers[0].Meta.ServeAs = []conf.LANAlias{{LAN: lan, As: asB}, {LAN: lan6, As: asB6}}

	ca, ans := startChild(t, a.ns, cfgA, guardEnv+"=100ms")
	mustUp(t, ca, ans, a.ifname)
	cb, ans := startChild(t, b.ns, cfgB)
	mustUp(t, cb, ans, b.ifname)
	handshakeWithin(t, a.ifname, 10*time.Second)

	nft := nsNFT(t, "h13-a")
	if diff := cmp.Diff([]string{"dnat-h13a0", "fwd-h13a0", "nat-h13a0"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains in table inet %s (-want +got):\n%s", ShareTable, diff)
	}
	checkAliasRules(t, nft, a.ifname, b.addr.Addr(), lan, asA, asB, serveRule{from: b.addr6.Addr(), alias: conf.LANAlias{LAN: lan6, As: asA6}})
	if out, err := exec.Command("ip", "netns", "exec", "h13-a", "nft", "list", "table", "inet", ShareTable).CombinedOutput(); err == nil {
		t.Logf("A's rules:\n%s", out)
	}

	// Who answers what.
	for _, c := range []struct{ ns, addr, want string }{
		{"h13-pa", "10.13.2.50", "office B"}, // A's LAN host -> B's .50 through the alias
		{"h13-a", "10.13.2.50", "office B"},  // A's gateway itself
		{"h13-pb", "10.13.1.50", "office A"},
		{"h13-b", "10.13.1.50", "office A"},
		{"h13-pa", "192.168.1.50", "office A"}, // the own .50 stays the own
		{"h13-a", "192.168.1.50", "office A"},
		{"h13-b", "192.168.1.50", "office B"},
		{"h13-pa", "fd13:2::50", "office B"}, // IPv6 likewise
		{"h13-a", "fd13:2::50", "office B"},
		{"h13-pb", "fd13:1::50", "office A"},
		{"h13-pa", "fd01::50", "office A"},
	} {
		if got := askName(t, c.ns, c.addr, 7000); got != c.want {
			t.Errorf("from %s, %s:7000 answered %q, want %q\nengine A:\n%s\nengine B:\n%s", c.ns, c.addr, got, c.want, ca.stderr, cb.stderr)
		}
	}
	if !ca.logged("reaches this side's LAN 192.168.1.0/24 as 10.13.1.0/24") || !ca.logged("LAN 192.168.1.0/24 is reached here as 10.13.2.0/24") {
		t.Errorf("engine A does not say what it translates:\n%s", ca.stderr)
	}

	// Someone flushes our table: the alias rules come back with the rest.
	nft.DelTable(shareTable)
	if err := nft.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
		got := shareChains(t, nft)
		return cmp.Equal(got, []string{"dnat-h13a0", "fwd-h13a0", "nat-h13a0"}), fmt.Sprintf("chains %v", got)
	}); err != nil {
		t.Fatalf("alias rules not restored: %v\n%s", err, ca.stderr)
	}
	checkAliasRules(t, nft, a.ifname, b.addr.Addr(), lan, asA, asB, serveRule{from: b.addr6.Addr(), alias: conf.LANAlias{LAN: lan6, As: asA6}})

	// Re-applied reaching only: A no longer shares its LAN, so B's alias
	// of it leads nowhere, but A's LAN host still reaches B's, with
	// forwarding on A's LAN interface kept on for it.
	reachOnly := a.config(b, 5, asB.String(), asB6.String())
	reachOnly.Interface.PrivateKey = cfgA.Interface.PrivateKey
	reachOnly.Peers[0].Meta = cfgA.Peers[0].Meta
	reachOnly.Peers[0].Meta.ServeAs = nil
	if ans := ca.send("apply " + writeConfig(t, reachOnly)); ans != "up h13a0" {
		t.Fatalf("re-apply reaching only: %q\n%s", ans, ca.stderr)
	}
	if diff := cmp.Diff([]string{"fwd-h13a0", "nat-h13a0"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains reaching only (-want +got):\n%s", diff)
	}
	wantSysctls(t, "h13-a", "reaching only", map[string]string{ipForward: "0", fwd4("h13a0"): "1", fwd4("lan0"): "1", fwd4("veth0"): "0",
		ip6Forward: "0", fwd6("h13a0"): "1", fwd6("lan0"): "1", fwd6("veth0"): "0"})
	for _, addr := range []string{"10.13.2.50", "fd13:2::50"} {
		if got := askName(t, "h13-pa", addr, 7000); got != "office B" {
			t.Errorf("reaching only: A's LAN host got %q from B's alias %s, want \"office B\"", got, addr)
		}
	}
	if got := askName(t, "h13-pb", "10.13.1.50", 7000); got != "" {
		t.Errorf("A shares nothing, yet B's LAN host got %q from A's alias", got)
	}

	// Down: every rule, the route to the alias and the forwarding go.
	if ans := ca.send("down h13a0"); ans != "down ok" {
		t.Fatalf("down: %q", ans)
	}
	if got := shareChains(t, nft); got != nil {
		t.Errorf("table inet %s still there after down; chains %v", ShareTable, got)
	}
	if out := run(t, "ip", "-n", "h13-a", "route", "show", "table", "all"); strings.Contains(out, "10.13.") || strings.Contains(out, "fd13:") {
		t.Errorf("a route to an alias is left after down:\n%s", out)
	}
	wantSysctls(t, "h13-a", "after down", map[string]string{ipForward: "0", fwd4("lan0"): "0", ip6Forward: "0", fwd6("lan0"): "0"})

	// A daemon killed with the aliases in place leaves its chains; the
	// next one, whose config no longer serves an alias, removes the
	// prerouting chain it does not need.
	if ans := ca.send("apply " + writeConfig(t, cfgA)); ans != "up h13a0" {
		t.Fatalf("up again: %q\n%s", ans, ca.stderr)
	}
	ca.cmd.Process.Kill()
	ca.cmd.Wait()
	if diff := cmp.Diff([]string{"dnat-h13a0", "fwd-h13a0", "nat-h13a0"}, shareChains(t, nft)); diff != "" {
		t.Fatalf("chains a killed engine left (-want +got):\n%s", diff)
	}
	cn, ans := startChild(t, a.ns, reachOnly)
	mustUp(t, cn, ans, a.ifname)
	if diff := cmp.Diff([]string{"fwd-h13a0", "nat-h13a0"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains after the next engine came up without serving an alias (-want +got):\n%s", diff)
	}
	if err := cn.stop(); err != nil {
		t.Errorf("engine close: %v\n%s", err, cn.stderr)
	}
	if got := shareChains(t, nft); got != nil {
		t.Errorf("table inet %s still there after Close; chains %v", ShareTable, got)
	}
}

// checkAliasRules reads A's chains back and checks each alias rule's
// match and translation.
func checkAliasRules(t *testing.T, c *nftables.Conn, ifname string, peer netip.Addr, lan, serveAs, reachAs netip.Prefix, serve6 serveRule) {
	t.Helper()
	rules := func(chain string) []*nftables.Rule {
		rs, err := c.GetRules(shareTable, &nftables.Chain{Name: chain + "-" + ifname, Table: shareTable})
		if err != nil {
			t.Fatalf("rules of %s-%s: %v", chain, ifname, err)
		}
		return rs
	}
	dn := rules("dnat")
	if len(dn) != 2 {
		t.Fatalf("dnat-%s has %d rules, want 2 (IPv4 and IPv6)", ifname, len(dn))
	}
	if diff := cmp.Diff(dnatExprs(ifname, serve6), dn[1].Exprs); diff != "" {
		t.Errorf("IPv6 dnat rule (-want +got):\n%s", diff)
	}
	if n, ok := dn[1].Exprs[len(dn[1].Exprs)-1].(*expr.NAT); !ok || n.Family != unix.NFPROTO_IPV6 || !n.Prefix {
		t.Errorf("IPv6 dnat rule ends in %+v, want dnat ip6 prefix", dn[1].Exprs[len(dn[1].Exprs)-1])
	}
	want := dnatExprs(ifname, serveRule{from: peer, alias: conf.LANAlias{LAN: lan, As: serveAs}})
	if diff := cmp.Diff(want, dn[0].Exprs); diff != "" {
		t.Errorf("dnat rule (-want +got):\n%s", diff)
	}
	// And what that means, independent of how it was built.
	var nat *expr.NAT
	var imm [][]byte
	var cmps [][]byte
	for _, e := range dn[0].Exprs {
		switch e := e.(type) {
		case *expr.NAT:
			nat = e
		case *expr.Immediate:
			imm = append(imm, e.Data)
		case *expr.Cmp:
			cmps = append(cmps, e.Data)
		}
	}
	if nat == nil || nat.Type != expr.NATTypeDestNAT || !nat.Prefix || nat.Family != unix.NFPROTO_IPV4 {
		t.Errorf("dnat rule's NAT is %+v, want dnat ip prefix", nat)
	}
	if want := [][]byte{lan.Addr().AsSlice(), lastAddr(lan).AsSlice()}; !cmp.Equal(imm, want) {
		t.Errorf("dnat rule translates to %v, want %s .. %s", imm, lan.Addr(), lastAddr(lan))
	}
	for _, w := range [][]byte{peer.AsSlice(), serveAs.Addr().AsSlice()} {
		if !containsBytes(cmps, w) {
			t.Errorf("dnat rule does not match %v (peer %s, alias %s): compares %v", w, peer, serveAs, cmps)
		}
	}
	hasRule := func(chain string, want []expr.Any) {
		t.Helper()
		for _, r := range rules(chain) {
			if cmp.Equal(want, r.Exprs) {
				return
			}
		}
		t.Errorf("%s-%s lacks the rule %v", chain, ifname, want)
	}
	hasRule("nat", reachMasqExprs(ifname, conf.LANAlias{LAN: lan, As: reachAs}))
	hasRule("fwd", reachReplyExprs(ifname, conf.LANAlias{LAN: lan, As: reachAs}))
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// askName connects from namespace ns to addr:port and returns the first
// line answered, "" if nothing answers.
func askName(t *testing.T, ns, addr string, port int) string {
	t.Helper()
	out, _ := exec.Command("ip", "netns", "exec", ns, "nc", "-n", "-w", "3", addr, fmt.Sprint(port)).Output()
	return strings.TrimSpace(string(out))
}

func TestReachDropPolicies(t *testing.T) {
	drop := nftables.ChainPolicyDrop
	ip := &nftables.Table{Name: "filter", Family: nftables.TableFamilyIPv4}
	chains := []*nftables.Chain{
		{Name: "FORWARD", Table: ip, Hooknum: nftables.ChainHookForward, Policy: &drop},
		{Name: "INPUT", Table: ip, Hooknum: nftables.ChainHookInput, Policy: &drop},
		{Name: "fwd-x", Table: shareTable, Hooknum: nftables.ChainHookForward, Policy: &drop},
	}
	got := reachDropPolicies(chains, "wgp0", []netip.Prefix{netip.MustParsePrefix("10.13.2.0/24")})
	if len(got) != 1 {
		t.Fatalf("got %d warnings, want 1 (ip filter FORWARD):\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, w := range []string{`"FORWARD" in table ip filter`, "through its alias 10.13.2.0/24", "iptables -I FORWARD -o wgp0 -j ACCEPT", "ufw route allow out on wgp0"} {
		if !strings.Contains(got[0], w) {
			t.Errorf("warning lacks %q:\n%s", w, got[0])
		}
	}
}
