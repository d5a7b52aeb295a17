package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// namePort is where the offices' second LAN hosts answer with their
// office's name.
const namePort = 7000

// aliasOffices is the issue 13 topology: two offices behind home NATs
// that both use 192.168.1.0/24, each with its WG Punch machine (x1,
// 192.168.1.10) and a second LAN host (x50, 192.168.1.50) that answers
// TCP on namePort with "office A" or "office B".
type aliasOffices struct {
	oa, ob   *Office
	a1, b1   *Host // the WG Punch machines
	a50, b50 *Host // the LAN hosts at 192.168.1.50
}

// newAliasOffices builds offices a and b (names[0], names[1]) with LANs
// 192.168.na.0/24 and 192.168.nb.0/24; the hosts are named after the
// offices (a1, a50, ...) and answer "office A" (the name in capitals).
func newAliasOffices(t testing.TB, in *Internet, names [2]string, na, nb int) *aliasOffices {
	t.Helper()
	o := &aliasOffices{oa: in.Office(names[0], na, NATHome), ob: in.Office(names[1], nb, NATHome)}
	o.a1, o.b1 = o.oa.Host(names[0]+"1"), o.ob.Host(names[1]+"1")
	o.a50, o.b50 = o.oa.HostAt(names[0]+"50", 50), o.ob.HostAt(names[1]+"50", 50)
	for _, c := range []struct {
		h    *Host
		name string
	}{{o.a50, "office " + strings.ToUpper(names[0])}, {o.b50, "office " + strings.ToUpper(names[1])}} {
		testutil.ServeName(t, fmt.Sprintf("/proc/%d/ns/net", c.h.holder.Pid()), c.h.Addr+":"+fmt.Sprint(namePort), c.name)
	}
	o.a1.StartDaemon()
	o.b1.StartDaemon()
	return o
}

// askName connects from h to addr:namePort and returns the answer's first
// line ("" when nothing answers).
func askName(h *Host, addr string) string {
	out, err := h.Run("nc", "-n", "-w", "5", addr, fmt.Sprint(namePort))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// waitName asks until want answers.
func waitName(h *Host, addr, want string) error {
	_, err := waitFor(connectBound, 200*time.Millisecond, func() (bool, string) {
		got := askName(h, addr)
		return got == want, fmt.Sprintf("%s asked %s:%d: answer %q, want %q", h.Name, addr, namePort, got, want)
	})
	return err
}

// reachAs is how h's only peer's LAN lan is reached, from status --json.
func reachAs(t testing.TB, h *Host, name, lan string) string {
	t.Helper()
	st := h.TunnelStatus(name)
	if len(st.Peers) != 1 {
		t.Fatalf("%s: tunnel %s has %d peers, want 1", h.Name, name, len(st.Peers))
	}
	for _, l := range st.Peers[0].LANs {
		if l.Prefix == lan {
			return l.ReachAs
		}
	}
	t.Fatalf("%s: status --json lists no lans entry for %s: %+v", h.Name, lan, st.Peers[0].LANs)
	return ""
}

// aliasHost is host number n of alias: "10.7.3.0/24", 50 -> "10.7.3.50".
func aliasHost(t testing.TB, alias string, n int) string {
	t.Helper()
	p, err := netip.ParsePrefix(alias)
	if err != nil || !p.Addr().Is4() {
		t.Fatalf("reach_as %q is not an IPv4 subnet: %v", alias, err)
	}
	b := p.Masked().Addr().As4()
	b[3] += byte(n)
	return netip.AddrFrom4(b).String()
}

// netState is what a link may change on a WG Punch machine.
type netState struct{ ruleset, routes, forwarding string }

func snapshot(h *Host) netState {
	r, _ := h.Run("nft", "list", "ruleset")
	ro, _ := h.Run("ip", "route", "show", "table", "all")
	fw, _ := h.Run("sysctl", "net.ipv4.ip_forward", "net.ipv4.conf.eth0.forwarding")
	return netState{r, withoutLinkLocal(ro), fw}
}

// withoutLinkLocal drops the fe80:: lines: the kernel adds eth0's
// link-local address a moment after the namespace's link comes up,
// whatever WG Punch does.
func withoutLinkLocal(routes string) string {
	var keep []string
	for _, l := range strings.Split(routes, "\n") {
		if !strings.Contains(l, "fe80:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestWGPunchLANAliases is issue 13: both offices use 192.168.1.0/24 and
// share it. The CLI exchange agrees an alias for each side's LAN; through
// it each office reaches the other's 192.168.1.50, from the WG Punch
// machine and from a LAN host routed through it, while the own
// 192.168.1.50 stays the own. Removing the link leaves the nftables
// ruleset and the routes as they were.
func TestWGPunchLANAliases(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	o := newAliasOffices(t, in, [2]string{"a", "b"}, 1, 1)
	a1, b1, a50, b50 := o.a1, o.b1, o.a50, o.b50
	const name, lan = "office", "192.168.1.0/24"
	before := map[*Host]netState{a1: snapshot(a1), b1: snapshot(b1)}

	var aliasB, aliasA string // B's LAN as A reaches it; A's as B does
	ok := t.Run("exchange agrees aliases", func(t *testing.T) {
		Link(t, a1, b1, name,
			linkOpts{Port: 51820, Endpoint: o.oa.WAN + ":51820", LANs: []string{lan}},
			linkOpts{Port: 51820, Endpoint: o.ob.WAN + ":51820", LANs: []string{lan}})
		aliasB, aliasA = reachAs(t, a1, name, lan), reachAs(t, b1, name, lan)
		t.Logf("a1 reaches office B's %s as %s; b1 reaches office A's as %s", lan, aliasB, aliasA)
		for _, c := range []struct {
			h     *Host
			alias string
		}{{a1, aliasB}, {b1, aliasA}} {
			p, err := netip.ParsePrefix(c.alias)
			if err != nil || p.Overlaps(netip.MustParsePrefix(lan)) || p.Bits() != 24 {
				t.Errorf("%s: reach_as %q, want a /24 outside %s", c.h.Name, c.alias, lan)
			}
			allowed := c.h.TunnelStatus(name).Peers[0].AllowedIPs
			if !slices.Contains(allowed, c.alias) || slices.Contains(allowed, lan) {
				t.Errorf("%s: peer allowed_ips %v, want the alias %s and not %s", c.h.Name, allowed, c.alias, lan)
			}
		}
	})
	if !ok {
		t.FailNow()
	}
	// The LAN hosts route the other office's alias through their WG Punch
	// machine, as the README tells an office to do.
	a50.Must("ip", "route", "add", aliasB, "via", a1.Addr)
	b50.Must("ip", "route", "add", aliasA, "via", b1.Addr)

	t.Run("each office reaches the other's 192.168.1.50 through the alias", func(t *testing.T) {
		a1.MustWGP("up", name)
		b1.MustWGP("up", name)
		for _, c := range []struct {
			h          *Host
			addr, want string
		}{
			{a1, aliasHost(t, aliasB, 50), "office B"},
			{a50, aliasHost(t, aliasB, 50), "office B"},
			{b1, aliasHost(t, aliasA, 50), "office A"},
			{b50, aliasHost(t, aliasA, 50), "office A"},
		} {
			if err := waitName(c.h, c.addr, c.want); err != nil {
				t.Errorf("%v\n%s daemon log:\n%s", err, c.h.Name, tail(daemonOf(o, c.h).daemon.Output(), 20))
			}
		}
		// What each machine translates, as nft shows it.
		for _, c := range []struct {
			h             *Host
			served, reach string
		}{{a1, aliasA, aliasB}, {b1, aliasB, aliasA}} {
			rs := snapshot(c.h).ruleset
			peerAddr := addrOnly(c.h.TunnelStatus(name).Peers[0].Address)
			for _, want := range []string{
				fmt.Sprintf(`iifname "%s" ip saddr %s ip daddr %s dnat ip prefix to %s`, name, peerAddr, c.served, lan),
				fmt.Sprintf(`oifname "%s" ip daddr %s masquerade`, name, c.reach),
			} {
				if !strings.Contains(rs, want) {
					t.Errorf("%s: nft list ruleset lacks %q:\n%s", c.h.Name, want, rs)
				}
			}
		}
	})

	t.Run("each office still reaches its own 192.168.1.50", func(t *testing.T) {
		for _, c := range []struct {
			h    *Host
			want string
		}{{a1, "office A"}, {a50, "office A"}, {b1, "office B"}, {b50, "office B"}} {
			if got := askName(c.h, "192.168.1.50"); got != c.want {
				t.Errorf("%s asked 192.168.1.50: %q, want %q", c.h.Name, got, c.want)
			}
		}
	})

	t.Run("bulk TCP through the alias", func(t *testing.T) {
		// From A's LAN host to B's through the alias: the listener is on
		// B's real address, the sender uses the alias.
		if err := TCPTransferVia(a50, b50, aliasHost(t, aliasB, 50), "192.168.1.50", 5302, 1<<20); err != nil {
			t.Error(err)
		}
	})

	t.Run("removing the link removes its rules and routes", func(t *testing.T) {
		for _, h := range []*Host{a1, b1} {
			h.MustWGP("remove", name, "--yes")
		}
		for _, h := range []*Host{a1, b1} {
			after := snapshot(h)
			if after.ruleset != before[h].ruleset {
				t.Errorf("%s: nft list ruleset after remove:\n%s\nbefore the link:\n%s", h.Name, after.ruleset, before[h].ruleset)
			}
			if after.routes != before[h].routes {
				t.Errorf("%s: ip route after remove:\n%s\nbefore the link:\n%s", h.Name, after.routes, before[h].routes)
			}
			if after.forwarding != before[h].forwarding {
				t.Errorf("%s: forwarding after remove:\n%s\nbefore the link:\n%s", h.Name, after.forwarding, before[h].forwarding)
			}
		}
		if got := askName(a50, aliasHost(t, aliasB, 50)); got != "" {
			t.Errorf("after remove, a50 still gets %q through the alias", got)
		}
	})
}

func daemonOf(o *aliasOffices, h *Host) *Host {
	if h == o.a50 {
		return o.a1
	}
	if h == o.b50 {
		return o.b1
	}
	return h
}

// BenchmarkLANAlias measures TCP throughput from one office's LAN host to
// the other office's 192.168.1.50 through each WG Punch machine, once
// through an alias (both offices on 192.168.1.0/24: masquerade on the
// sending machine, prefix DNAT and masquerade on the receiving one) and
// once without (offices c and d on 192.168.3.0/24 and 192.168.4.0/24:
// plain LAN sharing), in one run on one machine.
func BenchmarkLANAlias(b *testing.B) {
	l := New(b)
	needWGPunch(b)
	testutil.RequireTool(b, "iperf3", "iperf3")
	in := l.Internet()
	type path struct {
		key, what string
		o         *aliasOffices
		lanA      string
		lanB      string
		addr      string // where the A side's LAN host sends
		listen    string // where B's host listens
		mbps      []float64
		viaAlias  bool
	}
	paths := []*path{
		{key: "aliased", what: "aliased (both offices on 192.168.1.0/24)", o: newAliasOffices(b, in, [2]string{"a", "b"}, 1, 1), lanA: "192.168.1.0/24", lanB: "192.168.1.0/24", viaAlias: true},
		{key: "plain", what: "not aliased (192.168.3.0/24 and 192.168.4.0/24)", o: newAliasOffices(b, in, [2]string{"c", "d"}, 3, 4), lanA: "192.168.3.0/24", lanB: "192.168.4.0/24"},
	}
	for i, p := range paths {
		name := fmt.Sprintf("bench%d", i)
		Link(b, p.o.a1, p.o.b1, name,
			linkOpts{Port: 51820, Endpoint: p.o.oa.WAN + ":51820", LANs: []string{p.lanA}},
			linkOpts{Port: 51820, Endpoint: p.o.ob.WAN + ":51820", LANs: []string{p.lanB}})
		reached := reachAs(b, p.o.a1, name, p.lanB)
		if (reached != p.lanB) != p.viaAlias {
			b.Fatalf("%s: a1 reaches %s as %s", p.what, p.lanB, reached)
		}
		p.addr, p.listen = aliasHost(b, reached, 50), p.o.b50.Addr
		p.o.a50.Must("ip", "route", "add", reached, "via", p.o.a1.Addr)
		p.o.a1.MustWGP("up", name)
		p.o.b1.MustWGP("up", name)
		if err := waitName(p.o.a50, p.addr, "office "+strings.ToUpper(p.o.ob.Name)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	// Alternate the two paths, so that a busy moment of the machine
	// falls on both alike.
	for i := 0; i < b.N*benchSamples; i++ {
		for _, p := range paths {
			p.mbps = append(p.mbps, iperfVia(b, p.o.a50, p.o.b50, p.addr, p.listen, 5))
		}
	}
	for _, p := range paths {
		s := slices.Clone(p.mbps)
		slices.Sort(s)
		med := s[len(s)/2]
		b.ReportMetric(med, p.key+"-Mbit/s")
		fmt.Printf("TCP throughput LAN host -> other office's LAN host (%s -> %s), %s (iperf3 5 s, %d samples): min %.0f, median %.0f, max %.0f Mbit/s\n",
			p.addr, p.listen, p.what, len(s), s[0], med, s[len(s)-1])
	}
	b.ReportMetric(0, "ns/op")
}
