package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// guardEnv sets Options.GuardInterval in an engine child (runChild).
const guardEnv = "WGPUNCH_TEST_ENGINE_GUARD_INTERVAL"

// sysctlEnv points an engine child's sysctl tree elsewhere
// (Options.SysctlDir).
const sysctlEnv = "WGPUNCH_TEST_ENGINE_SYSCTL_DIR"

// Host-wide forwarding switches, which LAN sharing leaves alone where the
// kernel has per-interface ones.
const (
	ipForward  = "/proc/sys/net/ipv4/ip_forward"
	ip6Forward = "/proc/sys/net/ipv6/conf/all/forwarding"
)

func fwd4(dev string) string { return "/proc/sys/net/ipv4/conf/" + dev + "/forwarding" }
func fwd6(dev string) string { return "/proc/sys/net/ipv6/conf/" + dev + "/force_forwarding" }

// needForceForwarding skips unless the kernel has per-interface IPv6
// forwarding (net.ipv6.conf.IF.force_forwarding, Linux 6.17).
func needForceForwarding(t *testing.T, ns string) {
	t.Helper()
	if err := exec.Command("ip", "netns", "exec", ns, "test", "-e", fwd6("lo")).Run(); err != nil {
		t.Skip("needs net.ipv6.conf.IF.force_forwarding (Linux 6.17 or later)")
	}
}

// wantSysctls checks sysctl files in ns against want (path: value).
func wantSysctls(t *testing.T, ns, when string, want map[string]string) {
	t.Helper()
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if got := sysctl(t, ns, p); got != want[p] {
			t.Errorf("%s: %s = %s, want %s", when, p, got, want[p])
		}
	}
}

func TestSharedLANs(t *testing.T) {
	pp := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []netip.Prefix
		want []netip.Prefix
	}{
		{"none", nil, nil},
		{"masked", pp("192.168.77.9/24", "fd77::5/64"), pp("192.168.77.0/24", "fd77::/64")},
		{"repeats", pp("192.168.77.0/24", "192.168.77.1/24"), pp("192.168.77.0/24")},
		{"default routes dropped", pp("0.0.0.0/0", "::/0", "10.1.0.0/16"), pp("10.1.0.0/16")},
		{"wider than /8 dropped", pp("0.0.0.0/1", "128.0.0.0/1", "64.0.0.0/7", "2000::/3", "10.0.0.0/8", "fd00::/8"), pp("10.0.0.0/8", "fd00::/8")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &conf.Config{Name: "x", Interface: conf.Interface{Meta: conf.InterfaceMeta{LANs: tc.in}}}
			got := sharedLANs(cfg, t.Logf)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("sharedLANs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchDaddr(t *testing.T) {
	for _, tc := range []struct {
		lan       string
		proto     byte
		off, n    uint32
		mask, net []byte
	}{
		{"192.168.77.0/24", 2, 16, 4, []byte{255, 255, 255, 0}, []byte{192, 168, 77, 0}},
		{"10.0.0.0/9", 2, 16, 4, []byte{255, 128, 0, 0}, []byte{10, 0, 0, 0}},
		{"192.168.1.7/32", 2, 16, 4, []byte{255, 255, 255, 255}, []byte{192, 168, 1, 7}},
		{"fd77::/64", 10, 24, 16, append(slices.Repeat([]byte{255}, 8), make([]byte, 8)...), netip.MustParseAddr("fd77::").AsSlice()},
	} {
		t.Run(tc.lan, func(t *testing.T) {
			ex := matchDaddr(netip.MustParsePrefix(tc.lan))
			want := []expr.Any{
				&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{tc.proto}},
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: tc.off, Len: tc.n},
				&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: tc.n, Mask: tc.mask, Xor: make([]byte, tc.n)},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: tc.net},
			}
			if diff := cmp.Diff(want, ex); diff != "" {
				t.Errorf("matchDaddr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDropPolicies(t *testing.T) {
	drop, accept := nftables.ChainPolicyDrop, nftables.ChainPolicyAccept
	ip := &nftables.Table{Name: "filter", Family: nftables.TableFamilyIPv4}
	fw := &nftables.Table{Name: "firewalld", Family: nftables.TableFamilyINet}
	ours := shareTable
	chains := []*nftables.Chain{
		{Name: "FORWARD", Table: ip, Hooknum: nftables.ChainHookForward, Policy: &drop},
		{Name: "INPUT", Table: ip, Hooknum: nftables.ChainHookInput, Policy: &drop},
		{Name: "filter_FORWARD", Table: fw, Hooknum: nftables.ChainHookForward, Policy: &drop},
		{Name: "open", Table: fw, Hooknum: nftables.ChainHookForward, Policy: &accept},
		{Name: "regular", Table: fw},
		{Name: "fwd-x", Table: ours, Hooknum: nftables.ChainHookForward, Policy: &drop},
	}
	got := dropPolicies(chains, "wgp0", []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24")})
	if len(got) != 2 {
		t.Fatalf("got %d warnings, want 2 (ip filter FORWARD, inet firewalld filter_FORWARD):\n%s", len(got), strings.Join(got, "\n"))
	}
	for i, want := range [][]string{
		{`"FORWARD" in table ip filter`, "192.168.77.0/24", "iptables -I FORWARD -i wgp0 -j ACCEPT", "ufw route allow in on wgp0"},
		{`"filter_FORWARD" in table inet firewalld`, `nft insert rule inet firewalld filter_FORWARD iifname "wgp0" accept`},
	} {
		for _, w := range want {
			if !strings.Contains(got[i], w) {
				t.Errorf("warning %d lacks %q:\n%s", i, w, got[i])
			}
		}
	}
}

// nsNFT opens nftables inside namespace ns.
func nsNFT(t *testing.T, ns string) *nftables.Conn {
	t.Helper()
	f, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// needNFT skips unless nftables with NAT works in namespace ns (a container
// kernel may lack nf_tables).
func needNFT(t *testing.T, ns string) {
	t.Helper()
	c := nsNFT(t, ns)
	tb := c.AddTable(&nftables.Table{Name: "h9probe", Family: nftables.TableFamilyINet})
	c.AddChain(&nftables.Chain{Name: "p", Table: tb, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	c.DelTable(tb)
	if err := c.Flush(); err != nil {
		t.Skipf("needs nftables with NAT in the kernel (nf_tables, nft_chain_nat): %v", err)
	}
}

// shareChains lists the chains of our table in ns, nil if there is no table.
func shareChains(t *testing.T, c *nftables.Conn) []string {
	t.Helper()
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatalf("list nftables tables: %v", err)
	}
	if !slices.ContainsFunc(tables, func(tb *nftables.Table) bool { return tb.Name == ShareTable }) {
		return nil
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatalf("list nftables chains: %v", err)
	}
	out := []string{}
	for _, ch := range chains {
		if ch.Table.Name == ShareTable {
			out = append(out, ch.Name)
		}
	}
	slices.Sort(out)
	return out
}

// dropped returns the packet count of the drop rule in fwd-IFNAME.
func dropped(t *testing.T, c *nftables.Conn, ifname string) uint64 {
	t.Helper()
	rules, err := c.GetRules(shareTable, &nftables.Chain{Name: "fwd-" + ifname, Table: shareTable})
	if err != nil {
		t.Fatalf("rules of fwd-%s: %v", ifname, err)
	}
	for _, r := range rules {
		for _, e := range r.Exprs {
			if ctr, ok := e.(*expr.Counter); ok {
				return ctr.Packets
			}
		}
	}
	t.Fatalf("fwd-%s has no counter rule", ifname)
	return 0
}

func sysctl(t *testing.T, ns, path string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "ip", "netns", "exec", ns, "cat", path))
}

func setSysctl(t *testing.T, ns, path, v string) {
	t.Helper()
	run(t, "ip", "netns", "exec", ns, "sh", "-c", "echo "+v+" > "+path)
}

// veth joins namespace a (address aAddr on aName) to a new namespace b
// (bAddr on eth0), deleted at cleanup.
func nsLAN(t *testing.T, a, aName, aAddr, b string, bAddrs ...string) {
	t.Helper()
	testutil.NetNS(t, b)
	testutil.Veth(t, testutil.VethEnd{NS: a, Dev: aName, Addrs: strings.Split(aAddr, ",")},
		testutil.VethEnd{NS: b, Dev: "eth0", Addrs: bAddrs})
}

func pingOK(t *testing.T, ns string, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "ping", "-c", "2", "-i", "0.2", "-W", "1"}, args...)...).CombinedOutput()
	return string(out), err == nil && strings.Contains(string(out), " 0% packet loss")
}

// TestShareLAN: office A shares its LAN 192.168.77.0/24 (and fd77::/64)
// where a printer sits that has no route back to the tunnel; office B pings
// and connects to it through the tunnel. A's other LAN, whose host would
// answer (its default route is A), stays unreachable. Down removes the
// rules and restores forwarding.
func TestShareLAN(t *testing.T) {
	needNetAdmin(t)
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("needs nc (netcat-openbsd)")
	}
	nsPair(t, "h9-a", "h9-b", "10.99.91")
	needNFT(t, "h9-a")
	nsLAN(t, "h9-a", "lan0", "192.168.77.1/24,fd77::1/64", "h9-p", "192.168.77.50/24", "fd77::50/64")
	nsLAN(t, "h9-a", "lan1", "192.168.88.1/24", "h9-o", "192.168.88.50/24")
	run(t, "ip", "-n", "h9-o", "route", "add", "default", "via", "192.168.88.1")
	needForceForwarding(t, "h9-a")
	for _, p := range []string{ipForward, ip6Forward} {
		setSysctl(t, "h9-a", p, "0")
	}
	// The printer has no route to the tunnel: only masquerading lets it answer.
	if out, err := exec.Command("ip", "-n", "h9-p", "route", "get", "10.99.92.2").CombinedOutput(); err == nil {
		t.Fatalf("printer namespace routes to the tunnel subnet; the test would prove nothing:\n%s", out)
	}

	a := newSide(t, "h9-a", "h9a0", 51991, "10.99.92.1/24", "10.99.91.1")
	b := newSide(t, "h9-b", "h9b0", 51992, "10.99.92.2/24", "10.99.91.2")
	a.addr6 = netip.MustParsePrefix("fd92::1/64")
	b.addr6 = netip.MustParsePrefix("fd92::2/64")
	cfgA := a.config(b, 5)
	cfgA.Interface.Meta.LANs = []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24"), netip.MustParsePrefix("fd77::/64")}
	// B asks for more than A shares: A's other LAN too.
	cfgB := b.config(a, 5, "192.168.77.0/24", "fd77::/64", "192.168.88.0/24")

	ca, ans := startChild(t, a.ns, cfgA)
	mustUp(t, ca, ans, a.ifname)
	cb, ans := startChild(t, b.ns, cfgB)
	mustUp(t, cb, ans, b.ifname)
	handshakeWithin(t, a.ifname, 10*time.Second)

	nft := nsNFT(t, "h9-a")
	if diff := cmp.Diff([]string{"fwd-h9a0", "nat-h9a0"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains in table inet %s (-want +got):\n%s", ShareTable, diff)
	}
	// Forwarding is on where the peer's packets and the LAN's replies come
	// in, nowhere else, and never host-wide.
	wantSysctls(t, "h9-a", "while sharing", map[string]string{
		ipForward: "0", ip6Forward: "0",
		fwd4("h9a0"): "1", fwd4("lan0"): "1", fwd4("lan1"): "0", fwd4("veth0"): "0",
		fwd6("h9a0"): "1", fwd6("lan0"): "1", fwd6("lan1"): "0", fwd6("veth0"): "0",
	})

	if out, ok := pingOK(t, "h9-b", "192.168.77.50"); !ok {
		t.Errorf("B cannot ping the printer on A's shared LAN:\n%s\nengine A:\n%s", out, ca.stderr)
	}
	if out, ok := pingOK(t, "h9-b", "-6", "fd77::50"); !ok {
		t.Errorf("B cannot ping the printer's IPv6 address on A's shared LAN:\n%s", out)
	}
	nc := exec.Command("ip", "netns", "exec", "h9-p", "nc", "-l", "-k", "192.168.77.50", "9100")
	if err := nc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Process.Kill(); nc.Wait() })
	// The listener takes a moment to start.
	if _, err := testutil.WaitFor(2*time.Second, 100*time.Millisecond, func() (bool, string) {
		out, err := exec.Command("ip", "netns", "exec", "h9-b", "nc", "-z", "-w", "2", "192.168.77.50", "9100").CombinedOutput()
		return err == nil, fmt.Sprintf("%v\n%s", err, out)
	}); err != nil {
		t.Errorf("B cannot open a TCP connection to the printer (192.168.77.50:9100): %v", err)
	}

	before := dropped(t, nft, "h9a0")
	if out, ok := pingOK(t, "h9-b", "192.168.88.50"); ok || strings.Contains(out, "bytes from") {
		t.Errorf("B reached 192.168.88.50 on A's LAN that A does not share:\n%s", out)
	}
	if d := dropped(t, nft, "h9a0") - before; d < 2 {
		t.Errorf("the drop rule counted %d packets of B's pings to the unshared LAN, want >= 2", d)
	}

	// A second tunnel on A shares independently.
	k2 := newSide(t, "h9-a", "h9a1", 51993, "10.99.93.1/24", "10.99.91.1")
	cfg2 := k2.config(newSide(t, "h9-x", "x", 1, "10.99.93.2/24", ""), 0)
	cfg2.Peers[0].Endpoint = conf.Endpoint{}
	cfg2.Interface.Meta.LANs = []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24")}
	if ans := ca.send("apply " + writeConfig(t, cfg2)); ans != "up h9a1" {
		t.Fatalf("second tunnel: %q\n%s", ans, ca.stderr)
	}
	if diff := cmp.Diff([]string{"fwd-h9a0", "fwd-h9a1", "nat-h9a0", "nat-h9a1"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains with two sharing tunnels (-want +got):\n%s", diff)
	}
	if ans := ca.send("down h9a0"); ans != "down ok" {
		t.Fatalf("down h9a0: %q", ans)
	}
	if diff := cmp.Diff([]string{"fwd-h9a1", "nat-h9a1"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains after the first tunnel went down (-want +got):\n%s", diff)
	}
	// lan0 is still needed for IPv4 by the second tunnel; its IPv6
	// switch was only the first tunnel's.
	wantSysctls(t, "h9-a", "after the first tunnel went down", map[string]string{
		ipForward: "0", ip6Forward: "0",
		fwd4("h9a1"): "1", fwd4("lan0"): "1", fwd6("lan0"): "0", fwd6("h9a1"): "0",
	})
	if ans := ca.send("down h9a1"); ans != "down ok" {
		t.Fatalf("down h9a1: %q", ans)
	}
	if got := shareChains(t, nft); got != nil {
		t.Errorf("table inet %s still there after every tunnel went down; chains %v", ShareTable, got)
	}
	wantSysctls(t, "h9-a", "after down", map[string]string{
		ipForward: "0", ip6Forward: "0", fwd4("lan0"): "0", fwd6("lan0"): "0",
	})
}

// TestShareLANKeepsForwarding: forwarding that was already on stays on after
// down; a FORWARD chain with policy drop elsewhere gets a warning, not a
// failure; Close removes the table.
func TestShareLANKeepsForwarding(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h9-c", "h9-d", "10.99.94")
	needNFT(t, "h9-c")
	setSysctl(t, "h9-c", ipForward, "1")
	setSysctl(t, "h9-c", ip6Forward, "0")

	// What iptables-nft leaves after `iptables -P FORWARD DROP` (docker, ufw).
	nft := nsNFT(t, "h9-c")
	filter := nft.AddTable(&nftables.Table{Name: "filter", Family: nftables.TableFamilyIPv4})
	nft.AddChain(&nftables.Chain{Name: "FORWARD", Table: filter, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: policyRef(nftables.ChainPolicyDrop)})
	if err := nft.Flush(); err != nil {
		t.Fatalf("add ip filter FORWARD: %v", err)
	}

	c := newSide(t, "h9-c", "h9c0", 51994, "10.99.95.1/24", "10.99.94.1")
	d := newSide(t, "h9-d", "h9d0", 51995, "10.99.95.2/24", "10.99.94.2")
	cfg := c.config(d, 5)
	cfg.Interface.Meta.LANs = []netip.Prefix{netip.MustParsePrefix("10.99.94.0/24")}
	cc, ans := startChild(t, c.ns, cfg, guardEnv+"=100ms")
	mustUp(t, cc, ans, c.ifname)
	// A tunnel that shares nothing gets the drop chain only.
	other := newSide(t, "h9-c", "h9c1", 51996, "10.99.96.1/24", "10.99.94.1").config(newSide(t, "h9-x", "x", 1, "10.99.96.2/24", ""), 0)
	other.Peers[0].Endpoint = conf.Endpoint{}
	if ans := cc.send("apply " + writeConfig(t, other)); ans != "up h9c1" {
		t.Fatalf("second tunnel: %q\n%s", ans, cc.stderr)
	}
	if diff := cmp.Diff([]string{"fwd-h9c0", "fwd-h9c1", "nat-h9c0"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains (-want +got):\n%s", diff)
	}
	if got := sysctl(t, "h9-c", ip6Forward); got != "0" {
		t.Errorf("IPv6 forwarding = %s with only an IPv4 LAN shared, want 0", got)
	}
	// Someone flushes our table (nftables.service restart): the engine
	// puts the rules back.
	nft.DelTable(shareTable)
	if err := nft.Flush(); err != nil {
		t.Fatalf("delete table: %v", err)
	}
	if _, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
		got := shareChains(t, nft)
		return slices.Equal(got, []string{"fwd-h9c0", "fwd-h9c1", "nat-h9c0"}), fmt.Sprintf("chains %v", got)
	}); err != nil {
		t.Fatalf("rules not restored after the table was deleted from outside: %v\n%s", err, cc.stderr)
	}
	if w := cc.stderr.String(); !strings.Contains(w, `"FORWARD" in table ip filter drops forwarded packets`) || !strings.Contains(w, "iptables -I FORWARD -i h9c0 -j ACCEPT") {
		t.Errorf("no warning about ip filter FORWARD policy drop in the engine log:\n%s", w)
	}
	// Re-applied without LANs: the masquerade chain goes, the drop stays.
	cfg.Interface.Meta.LANs = nil
	if ans := cc.send("apply " + writeConfig(t, cfg)); ans != "up h9c0" {
		t.Fatalf("re-apply without LANs: %q\n%s", ans, cc.stderr)
	}
	if diff := cmp.Diff([]string{"fwd-h9c0", "fwd-h9c1"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains after sharing stopped (-want +got):\n%s", diff)
	}
	if ans := cc.send("down h9c0"); ans != "down ok" {
		t.Fatalf("down: %q", ans)
	}
	if diff := cmp.Diff([]string{"fwd-h9c1"}, shareChains(t, nft)); diff != "" {
		t.Errorf("chains after down (-want +got):\n%s", diff)
	}
	// It was on before (host-wide, so on veth0 too): not ours to turn off.
	wantSysctls(t, "h9-c", "after down", map[string]string{ipForward: "1", fwd4("veth0"): "1"})
	if err := cc.stop(); err != nil {
		t.Fatalf("engine close: %v\n%s", err, cc.stderr)
	}
	if got := shareChains(t, nft); got != nil {
		t.Errorf("table inet %s still there after Close; chains %v", ShareTable, got)
	}
	// The other firewall's table is not ours to touch.
	if _, err := nft.ListTableOfFamily("filter", nftables.TableFamilyIPv4); err != nil {
		t.Errorf("table ip filter is gone: %v", err)
	}
}

// TestShareLANForwardingFails: when forwarding cannot be turned on, Up fails
// with a clear error and leaves no interface and no rules behind.
func TestShareLANForwardingFails(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h9-e", "h9-f", "10.99.97")
	needNFT(t, "h9-e")
	e := newSide(t, "h9-e", "h9e0", 51997, "10.99.98.1/24", "10.99.97.1")
	f := newSide(t, "h9-f", "h9f0", 51998, "10.99.98.2/24", "10.99.97.2")
	cfg := e.config(f, 5)
	cfg.Interface.Meta.LANs = []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24")}
	// An empty sysctl tree has no forwarding switch to turn on.
	ce, ans := startChild(t, e.ns, cfg, sysctlEnv+"="+t.TempDir())
	t.Logf("engine answered: %s", ans)
	for _, want := range []string{"err ", "share LAN 192.168.77.0/24", "IPv4 forwarding"} {
		if !strings.Contains(ans, want) {
			t.Errorf("Up with forwarding that cannot be turned on answered %q, want it to contain %q\n%s", ans, want, ce.stderr)
		}
	}
	linkGone(t, e.ns, e.ifname)
	if got := shareChains(t, nsNFT(t, "h9-e")); got != nil {
		t.Errorf("table inet %s left behind after the failed Up; chains %v", ShareTable, got)
	}
}

// unitSysctlEnv makes an engine child see /proc/sys the way the packaged
// unit shows it (confineProcSys): read-only, except the colon-separated
// paths in it.
const unitSysctlEnv = "WGPUNCH_TEST_ENGINE_UNIT_SYSCTL"

// parentMntEnv tells the child the test's own mount namespace, which
// confineProcSys refuses to change.
const parentMntEnv = "WGPUNCH_TEST_ENGINE_PARENT_MNTNS"

// unitFile is the packaged systemd unit.
const unitFile = "../../installer/linux/wgpunch.service"

// unitSysctlPaths reads the packaged unit: it must keep
// ProtectKernelTunables=yes (/proc/sys read-only), and it returns its
// ReadWritePaths= under /proc/sys as written ("-" marks optional ones).
func unitSysctlPaths(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	protected := false
	var rw []string
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch k {
		case "ProtectKernelTunables":
			protected = v == "yes" || v == "true"
		case "ReadWritePaths":
			if v == "" {
				rw = nil // an empty assignment resets the list
			}
			for _, p := range strings.Fields(v) {
				if strings.HasPrefix(strings.TrimLeft(p, "-+"), "/proc/sys") {
					rw = append(rw, p)
				}
			}
		}
	}
	if !protected {
		t.Fatalf("%s does not set ProtectKernelTunables=yes; this test reproduces what it does", unitFile)
	}
	return rw
}

// confineProcSys does to this process's mount namespace what systemd does
// for the unit: /proc/sys bind-mounted read-only (ProtectKernelTunables=yes),
// then each ReadWritePaths= entry under it bind-mounted read-write on top
// ("-" entries skipped when missing). It refuses to run in the host's
// mount namespace of the test (parent): the child must be under `ip netns
// exec`, which gives it one of its own.
func confineProcSys(rw []string, parent string) error {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return err
	}
	if parent == "" || parent == self {
		return fmt.Errorf("not in a mount namespace of its own (%s, the test's is %q): not remounting /proc/sys", self, parent)
	}
	// Nothing done here reaches the host's mounts.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	const procFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("/proc/sys", "/proc/sys", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind /proc/sys: %w", err)
	}
	if err := unix.Mount("", "/proc/sys", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|procFlags, ""); err != nil {
		return fmt.Errorf("remount /proc/sys read-only: %w", err)
	}
	for _, p := range rw {
		optional := strings.HasPrefix(p, "-")
		p = strings.TrimLeft(p, "-+")
		if _, err := os.Stat(p); err != nil {
			if optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", p, err)
		}
		if err := unix.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|procFlags, ""); err != nil {
			return fmt.Errorf("remount %s read-write: %w", p, err)
		}
	}
	return nil
}

// TestShareLANUnderUnit: the engine shares a LAN (IPv4 and IPv6) through
// a tunnel while it sees /proc/sys as the packaged unit shows it:
// read-only (ProtectKernelTunables=yes) but for the unit's ReadWritePaths=
// under /proc/sys, read from installer/linux/wgpunch.service. The peer
// pings the LAN host and connects to it. Turning forwarding on host-wide
// (net.ipv4.ip_forward), as the engine once did, fails here with EROFS.
func TestShareLANUnderUnit(t *testing.T) {
	needNetAdmin(t)
	if _, err := exec.LookPath("nc"); err != nil {
		t.Skip("needs nc (netcat-openbsd)")
	}
	rw := unitSysctlPaths(t)
	t.Logf("unit's ReadWritePaths under /proc/sys: %q", rw)
	nsPair(t, "h10-a", "h10-b", "10.99.81")
	needNFT(t, "h10-a")
	nsLAN(t, "h10-a", "lan0", "192.168.76.1/24,fd76::1/64", "h10-p", "192.168.76.50/24", "fd76::50/64")
	for _, p := range []string{ipForward, ip6Forward} {
		setSysctl(t, "h10-a", p, "0")
	}
	a := newSide(t, "h10-a", "h10a0", 51981, "10.99.82.1/24", "10.99.81.1")
	b := newSide(t, "h10-b", "h10b0", 51982, "10.99.82.2/24", "10.99.81.2")
	a.addr6 = netip.MustParsePrefix("fd82::1/64")
	b.addr6 = netip.MustParsePrefix("fd82::2/64")
	cfgA := a.config(b, 5)
	cfgA.Interface.Meta.LANs = []netip.Prefix{netip.MustParsePrefix("192.168.76.0/24"), netip.MustParsePrefix("fd76::/64")}
	cfgB := b.config(a, 5, "192.168.76.0/24", "fd76::/64")

	mnt, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	ca, ans := startChild(t, a.ns, cfgA, unitSysctlEnv+"="+strings.Join(rw, ":"), parentMntEnv+"="+mnt)
	mustUp(t, ca, ans, a.ifname)
	// The confinement holds: the host-wide switch cannot be written.
	if got := ca.send("canwrite " + ipForward); !strings.Contains(got, "read-only file system") {
		t.Errorf("under the unit's mounts, opening %s for writing answered %q, want EROFS (read-only file system); the test would prove nothing", ipForward, got)
	}
	cb, ans := startChild(t, b.ns, cfgB)
	mustUp(t, cb, ans, b.ifname)
	handshakeWithin(t, a.ifname, 10*time.Second)

	if out, ok := pingOK(t, "h10-b", "192.168.76.50"); !ok {
		t.Errorf("B cannot ping the LAN host on A's shared LAN under the unit's mounts:\n%s\nengine A:\n%s", out, ca.stderr)
	}
	if out, ok := pingOK(t, "h10-b", "-6", "fd76::50"); !ok {
		t.Errorf("B cannot ping the LAN host's IPv6 address under the unit's mounts:\n%s\nengine A:\n%s", out, ca.stderr)
	}
	nc := exec.Command("ip", "netns", "exec", "h10-p", "nc", "-l", "-k", "192.168.76.50", "9100")
	if err := nc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Process.Kill(); nc.Wait() })
	if _, err := testutil.WaitFor(2*time.Second, 100*time.Millisecond, func() (bool, string) {
		out, err := exec.Command("ip", "netns", "exec", "h10-b", "nc", "-z", "-w", "2", "192.168.76.50", "9100").CombinedOutput()
		return err == nil, fmt.Sprintf("%v\n%s", err, out)
	}); err != nil {
		t.Errorf("B cannot open a TCP connection to the LAN host (192.168.76.50:9100) under the unit's mounts: %v", err)
	}
	wantSysctls(t, "h10-a", "while sharing under the unit", map[string]string{ipForward: "0", ip6Forward: "0", fwd4("veth0"): "0"})
	if ans := ca.send("down h10a0"); ans != "down ok" {
		t.Fatalf("down: %q\n%s", ans, ca.stderr)
	}
	if w := ca.stderr.String(); strings.Contains(w, "restore") && strings.Contains(w, "read-only") {
		t.Errorf("the engine could not restore forwarding under the unit's mounts:\n%s", w)
	}
	wantSysctls(t, "h10-a", "after down under the unit", map[string]string{fwd4("lan0"): "0"})
	if fileExists(fwd6("lan0")) {
		wantSysctls(t, "h10-a", "after down under the unit", map[string]string{fwd6("lan0"): "0"})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestForwardingPerInterface shows on the running kernel what LAN sharing
// relies on: with the host-wide switches off, a router namespace forwards
// between two interfaces only when the per-interface switch is on for the
// interface each direction comes in on (IPv4: net.ipv4.conf.IF.forwarding;
// IPv6: net.ipv6.conf.IF.force_forwarding, Linux 6.17), so both the
// tunnel and the LAN-facing interface need it, and one alone is not
// enough. No NAT and no engine: plain routing through namespace r.
func TestForwardingPerInterface(t *testing.T) {
	needNetAdmin(t)
	nsPair(t, "h10-r", "h10-s", "10.99.71")
	nsLAN(t, "h10-r", "lan0", "10.99.72.1/24,fd72::1/64", "h10-t", "10.99.72.2/24", "fd72::2/64")
	run(t, "ip", "-n", "h10-r", "addr", "add", "fd71::1/64", "dev", "veth0", "nodad")
	run(t, "ip", "-n", "h10-s", "addr", "add", "fd71::2/64", "dev", "veth0", "nodad")
	run(t, "ip", "-n", "h10-s", "route", "add", "default", "via", "10.99.71.1")
	run(t, "ip", "-n", "h10-s", "-6", "route", "add", "default", "via", "fd71::1")
	run(t, "ip", "-n", "h10-t", "route", "add", "default", "via", "10.99.72.1")
	run(t, "ip", "-n", "h10-t", "-6", "route", "add", "default", "via", "fd72::1")
	setSysctl(t, "h10-r", ipForward, "0")
	setSysctl(t, "h10-r", ip6Forward, "0")

	type step struct {
		in, out string // per-interface switch of veth0 (from s) and lan0 (from t)
		want    bool
	}
	steps := []step{{"0", "0", false}, {"1", "0", false}, {"0", "1", false}, {"1", "1", true}}
	check := func(name, target string, path func(string) string) {
		for _, st := range steps {
			setSysctl(t, "h10-r", path("veth0"), st.in)
			setSysctl(t, "h10-r", path("lan0"), st.out)
			out, ok := pingOK(t, "h10-s", target)
			if ok != st.want {
				t.Errorf("%s: veth0=%s lan0=%s (host-wide off): ping %s got through = %v, want %v\n%s", name, st.in, st.out, target, ok, st.want, out)
			}
		}
		setSysctl(t, "h10-r", path("veth0"), "0")
		setSysctl(t, "h10-r", path("lan0"), "0")
	}
	check("IPv4 conf.IF.forwarding", "10.99.72.2", fwd4)
	if err := exec.Command("ip", "netns", "exec", "h10-r", "test", "-e", fwd6("lo")).Run(); err != nil {
		t.Logf("this kernel has no net.ipv6.conf.IF.force_forwarding (Linux 6.17): IPv6 part skipped")
		return
	}
	check("IPv6 conf.IF.force_forwarding", "fd72::2", fwd6)
	// force_forwarding leaves the interface's host/router flag alone (so
	// router advertisements are still accepted there).
	setSysctl(t, "h10-r", fwd6("lan0"), "1")
	if got := sysctl(t, "h10-r", "/proc/sys/net/ipv6/conf/lan0/forwarding"); got != "0" {
		t.Errorf("net.ipv6.conf.lan0.forwarding = %s after force_forwarding=1, want 0", got)
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.168.77.0/24": "192.168.77.255", "10.0.0.0/9": "10.127.255.255",
		"192.168.1.7/32": "192.168.1.7", "fd77::/64": "fd77::ffff:ffff:ffff:ffff",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}

// loneSide is a tunnel on ns whose peer runs nowhere (no endpoint):
// enough to see what sharing sets up.
func loneSide(t *testing.T, ns, ifname string, port uint16, addr, peerAddr string, lans ...string) *conf.Config {
	t.Helper()
	cfg := newSide(t, ns, ifname, port, addr, "").config(newSide(t, "h10-x", "x", 1, peerAddr, ""), 0)
	cfg.Peers[0].Endpoint = conf.Endpoint{}
	for _, l := range lans {
		cfg.Interface.Meta.LANs = append(cfg.Interface.Meta.LANs, netip.MustParsePrefix(l))
	}
	return cfg
}

// TestShareLANIPv6Fallback: on a kernel without per-interface IPv6
// forwarding (no force_forwarding files; a sysctl tree of plain files
// stands in for /proc/sys) the engine turns on
// net.ipv6.conf.all.forwarding, says so in the log, and restores it.
// IPv4 stays per interface.
func TestShareLANIPv6Fallback(t *testing.T) {
	needNetAdmin(t)
	testutil.NetNS(t, "h10-f")
	needNFT(t, "h10-f")
	nsLAN(t, "h10-f", "lan0", "192.168.75.1/24,fd75::1/64", "h10-q", "192.168.75.50/24", "fd75::50/64")
	dir := t.TempDir()
	files := map[string]string{
		"net/ipv4/conf/h10f0/forwarding":   "0",
		"net/ipv4/conf/lan0/forwarding":    "0",
		"net/ipv4/ip_forward":              "0",
		"net/ipv6/conf/all/forwarding":     "0",
		"net/ipv6/conf/lan0/accept_ra":     "1",
		"net/ipv6/conf/h10f0/forwarding":   "0",
		"net/ipv6/conf/lan0/forwarding":    "0",
		"net/ipv4/conf/lan0/rp_filter":     "0",
		"net/ipv6/conf/default/forwarding": "0",
	}
	for p, v := range files {
		path := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	cfg := loneSide(t, "h10-f", "h10f0", 51971, "10.99.61.1/24", "10.99.61.2/24", "192.168.75.0/24", "fd75::/64")
	c, ans := startChild(t, "h10-f", cfg, sysctlEnv+"="+dir)
	mustUp(t, c, ans, "h10f0")
	want := map[string]string{
		"net/ipv4/conf/h10f0/forwarding": "1", "net/ipv4/conf/lan0/forwarding": "1",
		"net/ipv4/ip_forward": "0", "net/ipv6/conf/all/forwarding": "1",
		"net/ipv6/conf/lan0/forwarding": "0",
	}
	for p, v := range want {
		if got := read(p); got != v {
			t.Errorf("while sharing: %s = %s, want %s", p, got, v)
		}
	}
	// The child's stderr reaches us through a pipe copied by another
	// goroutine: the lines written during Up may arrive after its answer.
	for _, w := range []string{"no per-interface IPv6 forwarding switch", "IPv6 forwarding is on for every interface", "ignores router advertisements on lan0"} {
		if !c.logged(w) {
			t.Errorf("engine log lacks %q:\n%s", w, c.stderr)
		}
	}
	if ans := c.send("down h10f0"); ans != "down ok" {
		t.Fatalf("down: %q\n%s", ans, c.stderr)
	}
	for p, v := range files {
		if got := read(p); got != v {
			t.Errorf("after down: %s = %s, want %s (as before)", p, got, v)
		}
	}
}

// TestShareLANRouteMoves: when the route to a shared LAN moves to another
// interface, the guard moves forwarding with it: on for the new interface,
// restored on the old one. Switches turned off from outside come back on.
func TestShareLANRouteMoves(t *testing.T) {
	needNetAdmin(t)
	testutil.NetNS(t, "h10-u")
	needNFT(t, "h10-u")
	nsLAN(t, "h10-u", "lan0", "192.168.74.1/24,fd74::1/64", "h10-v")
	nsLAN(t, "h10-u", "lan1", "10.99.63.1/24", "h10-w")
	setSysctl(t, "h10-u", ipForward, "0")
	setSysctl(t, "h10-u", ip6Forward, "0")
	cfg := loneSide(t, "h10-u", "h10u0", 51972, "10.99.62.1/24", "10.99.62.2/24", "192.168.74.0/24", "fd74::/64")
	c, ans := startChild(t, "h10-u", cfg, guardEnv+"=100ms")
	mustUp(t, c, ans, "h10u0")
	wantSysctls(t, "h10-u", "before the move", map[string]string{fwd4("h10u0"): "1", fwd4("lan0"): "1", fwd4("lan1"): "0"})
	run(t, "ip", "-n", "h10-u", "addr", "del", "192.168.74.1/24", "dev", "lan0")
	run(t, "ip", "-n", "h10-u", "addr", "add", "192.168.74.1/24", "dev", "lan1")
	if _, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
		l0, l1 := sysctl(t, "h10-u", fwd4("lan0")), sysctl(t, "h10-u", fwd4("lan1"))
		return l0 == "0" && l1 == "1", fmt.Sprintf("lan0 forwarding %s, lan1 %s", l0, l1)
	}); err != nil {
		t.Errorf("forwarding did not follow the route to the shared LAN from lan0 to lan1: %v\n%s", err, c.stderr)
	}
	wantSysctls(t, "h10-u", "after the move", map[string]string{ipForward: "0", fwd4("h10u0"): "1"})

	// A sysctl reload that writes the host-wide switches to 0 clears the
	// per-interface ones (IPv4 when ip_forward changes, IPv6 on any write
	// of all.forwarding): the guard turns them back on.
	ip6 := fwd6("h10u0")
	if err := exec.Command("ip", "netns", "exec", "h10-u", "test", "-e", ip6).Run(); err != nil {
		ip6 = ip6Forward // no force_forwarding: the engine holds the host-wide switch
	}
	setSysctl(t, "h10-u", ipForward, "1")
	setSysctl(t, "h10-u", ipForward, "0")
	setSysctl(t, "h10-u", ip6Forward, "0")
	if _, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
		a, l, six := sysctl(t, "h10-u", fwd4("h10u0")), sysctl(t, "h10-u", fwd4("lan1")), sysctl(t, "h10-u", ip6)
		return a == "1" && l == "1" && six == "1", fmt.Sprintf("h10u0 %s, lan1 %s, %s %s", a, l, ip6, six)
	}); err != nil {
		t.Errorf("forwarding switched off from outside was not turned back on: %v\n%s", err, c.stderr)
	}
	if err := c.stop(); err != nil {
		t.Fatalf("engine close: %v\n%s", err, c.stderr)
	}
	wantSysctls(t, "h10-u", "after close", map[string]string{fwd4("lan0"): "0", fwd4("lan1"): "0", ip6Forward: "0"})
	if ip6 != ip6Forward {
		wantSysctls(t, "h10-u", "after close", map[string]string{fwd6("lan0"): "0"})
	}
}
