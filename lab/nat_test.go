package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// udpBlockedBound is how long natcheck may take to say UDP is blocked:
// its 1.5 s budget plus process start and socket round trips.
const udpBlockedBound = 3 * time.Second

// TestWGPunchNAT is issue 4: NAT detection against two coturn STUN servers,
// invites that carry the discovered endpoint, symmetric NAT and blocked UDP,
// and two machines behind one NAT.
func TestWGPunchNAT(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	oa := in.Office("a", 1, NATHome)
	ob := in.Office("b", 2, NATHome)
	osym := in.Office("s", 3, NATSymmetric)
	ou := in.Office("u", 4, NATHome)
	ou.BlockUDP(true)
	a1, a2 := oa.Host("a1"), oa.Host("a2")
	b1 := ob.Host("b1")
	s1 := osym.Host("s1")
	u1 := ou.Host("u1")
	d1 := in.DirectHost("d1")
	for _, h := range []*Host{a1, a2, b1, s1, u1, d1} {
		h.StartDaemon()
	}

	t.Run("natcheck behind a home NAT", func(t *testing.T) {
		r, d, err := a1.NATCheck(51820, stunServers)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("home NAT: %+v (%v)", r, d.Round(time.Millisecond))
		want := oa.WAN + ":51820"
		if r.Mapping != "endpoint-independent" || r.PublicEndpoint != want || !r.PortPreserved || r.Verdict != "ok" || r.UDPBlocked {
			t.Errorf("got mapping %q endpoint %q preserved %v verdict %q udp_blocked %v; want endpoint-independent %s true ok false",
				r.Mapping, r.PublicEndpoint, r.PortPreserved, r.Verdict, r.UDPBlocked, want)
		}
		checkServers(t, r, 2)
	})

	t.Run("natcheck behind a symmetric NAT", func(t *testing.T) {
		r, _, err := s1.NATCheck(51820, stunServers)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("symmetric NAT: %+v", r)
		if r.Mapping != "endpoint-dependent" || r.Verdict != "fail" {
			t.Errorf("got mapping %q verdict %q, want endpoint-dependent fail", r.Mapping, r.Verdict)
		}
		checkServers(t, r, 2)
		if len(r.Servers) == 2 && r.Servers[0].Mapped == r.Servers[1].Mapped {
			t.Errorf("both servers saw %s: the lab's symmetric NAT is not symmetric", r.Servers[0].Mapped)
		}
		if r.Message == "" {
			t.Error("no message telling the user what to do")
		}
	})

	t.Run("natcheck without NAT", func(t *testing.T) {
		r, _, err := d1.NATCheck(51820, stunServers)
		if err != nil {
			t.Fatal(err)
		}
		if r.Mapping != "none" || r.PublicEndpoint != d1.Addr+":51820" || r.Verdict == "fail" {
			t.Errorf("got mapping %q endpoint %q verdict %q, want none %s:51820 and not fail", r.Mapping, r.PublicEndpoint, r.Verdict, d1.Addr)
		}
	})

	t.Run("natcheck with UDP blocked", func(t *testing.T) {
		r, d, err := u1.NATCheck(51820, stunServers)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("UDP blocked: answered in %v: %+v", d.Round(time.Millisecond), r)
		if !r.UDPBlocked || r.Verdict != "fail" || r.PublicEndpoint != "" {
			t.Errorf("got udp_blocked %v verdict %q endpoint %q, want true fail \"\"", r.UDPBlocked, r.Verdict, r.PublicEndpoint)
		}
		if d > udpBlockedBound {
			t.Errorf("natcheck took %v with UDP blocked, want under %v", d, udpBlockedBound)
		}
	})

	var res *linkResult
	ok := t.Run("exchange without --endpoint", func(t *testing.T) {
		res = Link(t, a1, b1, "office", linkOpts{Port: 51820}, linkOpts{Port: 51820})
		if got := decodeEndpoint(t, res.Invite); got != oa.WAN+":51820" {
			t.Errorf("invite announces %q, want the NAT's %s:51820", got, oa.WAN)
		}
		if got := decodeEndpoint(t, res.Reply); got != ob.WAN+":51820" {
			t.Errorf("reply announces %q, want the NAT's %s:51820", got, ob.WAN)
		}
		a1.MustWGP("up", "office")
		b1.MustWGP("up", "office")
		if _, err := a1.WaitPing(res.BAddr, connectBound); err != nil {
			t.Fatal(err)
		}
		if _, err := b1.WaitPing(res.AAddr, connectBound); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("symmetric NAT invite warns the other side", func(t *testing.T) {
		out, stderr, err := s1.WGP("invite", "sym", "--stun", stunServers)
		if err != nil {
			t.Fatal(err)
		}
		tok := tokenLine(out)
		t.Logf("inviter behind symmetric NAT was told: %s", strings.TrimSpace(stderr))
		m, err := invite.Decode(tok)
		if err != nil || m.Invite == nil {
			t.Fatalf("decode invite %q: %v", tok, err)
		}
		if m.Invite.NATVerdict != "fail" || m.Invite.NATMapping != "endpoint-dependent" {
			t.Errorf("invite carries NAT %q/%q, want endpoint-dependent/fail", m.Invite.NATMapping, m.Invite.NATVerdict)
		}
		_, stderr, err = b1.WGP("accept", "sym", tok, "--stun", stunServers)
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		t.Logf("invitee was told: %s", strings.TrimSpace(stderr))
		lower := strings.ToLower(stderr)
		if !strings.Contains(lower, "warning") || !(strings.Contains(lower, "symmetric") || strings.Contains(lower, "endpoint-dependent")) {
			t.Errorf("accepting an invite from behind a symmetric NAT printed no warning about it on stderr: %q", stderr)
		}
		var inStatus bool
		for _, w := range b1.TunnelStatus("sym").Warnings {
			t.Logf("status warning on %s: %+v", b1.Name, w)
			inStatus = inStatus || w.Code == "nat-fail"
		}
		if !inStatus {
			t.Errorf("status --json of the accepted tunnel has no nat-fail warning: %+v", b1.TunnelStatus("sym").Warnings)
		}
		s1.WGP("remove", "sym", "--yes")
		b1.WGP("remove", "sym", "--yes")
	})

	if !ok {
		return
	}

	t.Run("second host behind the same NAT", func(t *testing.T) {
		// Control: a host alone on its network gets the first port.
		if _, _, err := d1.WGP("invite", "probe", "--stun", stunServers); err != nil {
			t.Fatal(err)
		}
		if p := d1.TunnelStatus("probe").ListenPort; p != 51820 {
			t.Errorf("a host alone on its network got port %d, want 51820", p)
		}
		d1.WGP("remove", "probe", "--yes")

		// a1's tunnel on 51820 is up and announced on the office LAN; a2
		// must not pick 51820 although the port is free on a2 itself.
		// LAN announcements of changes go out within ~2 s; wait for a2 to
		// have heard a1's.
		d, err := waitFor(20*time.Second, 500*time.Millisecond, func() (bool, string) {
			if _, _, err := a2.WGP("invite", "probe", "--stun", stunServers); err != nil {
				return false, err.Error()
			}
			st := a2.TunnelStatus("probe")
			a2.WGP("remove", "probe", "--yes")
			return st.ListenPort != 51820, fmt.Sprintf("a2 picked port %d", st.ListenPort)
		})
		if err != nil {
			t.Fatalf("a2 would reuse a1's port: %v", err)
		}
		t.Logf("a2 avoids a1's port %v after the exchange", d.Round(time.Millisecond))
		r2 := Link(t, a2, b1, "office2", linkOpts{}, linkOpts{})
		t.Logf("a2 got port %d, b1's second tunnel port %d", r2.APort, r2.BPort)
		if r2.APort == res.APort {
			t.Errorf("a2's tunnel got port %d, the same as a1's behind the same NAT", r2.APort)
		}
		if r2.BPort == res.BPort {
			t.Errorf("b1's second tunnel got port %d, the same as its first", r2.BPort)
		}
		if got := decodeEndpoint(t, r2.Invite); got != fmt.Sprintf("%s:%d", oa.WAN, r2.APort) {
			t.Errorf("a2's invite announces %q, want %s:%d", got, oa.WAN, r2.APort)
		}
		a2.MustWGP("up", "office2")
		b1.MustWGP("up", "office2")
		// Both offices' hosts reach b1 at once, through one NAT.
		if _, err := waitFor(connectBound, 0, func() (bool, string) {
			return a1.Ping(res.BAddr) && a2.Ping(r2.BAddr), "a1 and a2 cannot both reach b1"
		}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); errs[0] = TCPTransfer(a1, b1, res.BAddr, 5101, 1<<20) }()
		go func() { defer wg.Done(); errs[1] = TCPTransfer(a2, b1, r2.BAddr, 5102, 1<<20) }()
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for _, c := range []struct {
			h    *Host
			name string
		}{{a1, "office"}, {a2, "office2"}, {b1, "office"}, {b1, "office2"}} {
			if _, err := c.h.WaitState(c.name, "connected", 15*time.Second); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("two hosts behind one NAT link to each other", func(t *testing.T) {
		// The lab's router does no hairpin NAT (like many home routers):
		// only the LAN endpoints the invite and reply carry can work.
		r := Link(t, a1, a2, "lan", linkOpts{}, linkOpts{})
		a1.MustWGP("up", "lan")
		a2.MustWGP("up", "lan")
		defer func() {
			a1.WGP("remove", "lan", "--yes")
			a2.WGP("remove", "lan", "--yes")
		}()
		if _, err := a1.WaitPing(r.BAddr, connectBound); err != nil {
			st := a1.TunnelStatus("lan")
			t.Fatalf("a1 and a2 on one LAN cannot link: %v (a1 sends to %q)", err, st.Peers[0].Endpoint)
		}
		t.Logf("a1 reaches a2 through endpoint %s", a1.TunnelStatus("lan").Peers[0].Endpoint)
	})

	t.Run("same port forced on two hosts behind one NAT", func(t *testing.T) {
		if _, _, err := a2.WGP("invite", "clash", "--port", "51820", "--endpoint", oa.WAN+":51820"); err != nil {
			t.Fatal(err)
		}
		defer a2.WGP("remove", "clash", "--yes")
		a2.WGP("up", "clash")
		check := func(h *Host, tunnel, other string) {
			_, err := waitFor(30*time.Second, time.Second, func() (bool, string) {
				st := h.TunnelStatus(tunnel)
				for _, w := range st.Warnings {
					if w.Code == "port-shared" && strings.Contains(w.Message, other) {
						if w.FixPort == 0 || w.FixPort == 51820 {
							return false, fmt.Sprintf("port-shared warning without a usable fix port: %+v", w)
						}
						return true, ""
					}
				}
				return false, fmt.Sprintf("%s %s warnings: %+v", h.Name, tunnel, st.Warnings)
			})
			if err != nil {
				t.Errorf("no port-shared warning naming %s: %v", other, err)
			}
		}
		check(a1, "office", "a2")
		check(a2, "clash", "a1")
		if t.Failed() {
			return
		}
		// Taking the suggested fix clears the warning on both machines.
		var fix uint16
		for _, w := range a2.TunnelStatus("clash").Warnings {
			if w.Code == "port-shared" {
				fix = w.FixPort
			}
		}
		if _, _, err := a2.WGP("set-port", "clash", fmt.Sprint(fix)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			h      *Host
			tunnel string
		}{{a1, "office"}, {a2, "clash"}} {
			d, err := waitFor(30*time.Second, time.Second, func() (bool, string) {
				st := c.h.TunnelStatus(c.tunnel)
				for _, w := range st.Warnings {
					if w.Code == "port-shared" {
						return false, fmt.Sprintf("%s %s still warns: %+v", c.h.Name, c.tunnel, w)
					}
				}
				return true, ""
			})
			if err != nil {
				t.Errorf("after set-port %d: %v", fix, err)
			} else {
				t.Logf("%s %s: port-shared warning gone %v after set-port", c.h.Name, c.tunnel, d.Round(time.Millisecond))
			}
		}
	})

	t.Run("shared office LAN", func(t *testing.T) {
		// a1 shares its office LAN: b1 reaches a2 (which knows nothing of
		// the tunnel) through a1, which forwards and masquerades.
		out, _, err := a1.WGP("invite", "share", "--lan", oa.LANNet, "--stun", stunServers)
		if err != nil {
			t.Fatal(err)
		}
		var stderr string
		out, stderr, err = b1.WGP("accept", "share", tokenLine(out), "--stun", stunServers)
		if err != nil {
			t.Fatalf("%v %s", err, stderr)
		}
		if _, _, err := a1.WGP("accept", "share", tokenLine(out)); err != nil {
			t.Fatal(err)
		}
		defer func() {
			a1.WGP("remove", "share", "--yes")
			b1.WGP("remove", "share", "--yes")
		}()
		if p := b1.TunnelStatus("share").Peers[0]; !slices.Contains(p.AllowedIPs, oa.LANNet) {
			t.Fatalf("b1's peer allowed_ips %v lack the shared %s", p.AllowedIPs, oa.LANNet)
		}
		fwdBefore := strings.TrimSpace(a1.Must("cat", "/proc/sys/net/ipv4/ip_forward"))
		a1.MustWGP("up", "share")
		b1.MustWGP("up", "share")
		if _, err := b1.WaitPing(a2.Addr, connectBound); err != nil {
			t.Fatalf("b1 cannot reach a2 on a1's shared LAN: %v", err)
		}
		if err := TCPTransfer(b1, a2, a2.Addr, 5201, 256<<10); err != nil {
			t.Error(err)
		}
		a1.MustWGP("down", "share")
		if got := strings.TrimSpace(a1.Must("cat", "/proc/sys/net/ipv4/ip_forward")); got != fwdBefore {
			t.Errorf("a1 ip_forward is %s after the sharing tunnel went down, was %s", got, fwdBefore)
		}
		if out, _ := a1.Run("nft", "list", "ruleset"); strings.Contains(out, "share") {
			t.Errorf("nftables rules for the tunnel left after down:\n%s", out)
		}
	})

	t.Run("dynamic DNS name as endpoint", func(t *testing.T) {
		// b1 resolves d1's name through its own /etc/hosts (a bind mount
		// in b1's private mount namespace; nothing outside changes).
		const dyn = "d1.dyn.example"
		hosts := filepath.Join(b1.Dir, "hosts")
		if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"+d1.Addr+" "+dyn+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		b1.Must("mount", "--bind", hosts, "/etc/hosts")
		r := Link(t, d1, b1, "dyn", linkOpts{Port: 51820, Endpoint: dyn + ":51820"}, linkOpts{})
		if got := decodeEndpoint(t, r.Invite); got != dyn+":51820" {
			t.Errorf("invite announces %q, want %s:51820", got, dyn)
		}
		d1.MustWGP("up", "dyn")
		b1.MustWGP("up", "dyn")
		if _, err := d1.WaitPing(r.BAddr, connectBound); err != nil {
			t.Fatalf("tunnel to a dynamic DNS endpoint: %v (b1 sends to %q)", err, b1.TunnelStatus("dyn").Peers[0].Endpoint)
		}
		if ep := b1.TunnelStatus("dyn").Peers[0].Endpoint; ep != d1.Addr+":51820" {
			t.Errorf("b1's peer endpoint is %q, want the resolved %s:51820", ep, d1.Addr)
		}
		if os.Getenv("WGPUNCH_LAB_IPCHANGE") == "0" {
			return
		}
		// The ISP gives d1 a new address and the dynamic DNS name follows.
		// b1's NAT drops what d1 sends from its new address (nothing
		// from there was solicited), so wireguard-go's roaming cannot
		// help: b1's engine must notice the silence and look the name up
		// again: two looks 10 s apart that see nothing received, so 20
		// to 30 s after the change.
		newAddr := "203.0.113.200"
		d1.Must("ip", "addr", "del", d1.Addr+"/24", "dev", "eth0")
		d1.Must("ip", "addr", "add", newAddr+"/24", "dev", "eth0")
		d1.Must("ip", "route", "replace", "default", "via", inetGateway)
		if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"+newAddr+" "+dyn+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := d1.WaitPing(r.BAddr, recoverBound)
		if err != nil {
			t.Fatalf("after the address change: %v (b1 sends to %q)", err, b1.TunnelStatus("dyn").Peers[0].Endpoint)
		}
		t.Logf("recovered %v after the address change", d.Round(time.Millisecond))
		if ep := b1.TunnelStatus("dyn").Peers[0].Endpoint; ep != newAddr+":51820" {
			t.Errorf("b1's peer endpoint is %q after the change, want %s:51820", ep, newAddr)
		}
	})
}

// checkServers checks that each of n STUN servers answered.
func checkServers(t *testing.T, r *natReport, n int) {
	t.Helper()
	if len(r.Servers) != n {
		t.Errorf("report lists %d servers, want %d: %+v", len(r.Servers), n, r.Servers)
		return
	}
	for _, s := range r.Servers {
		if s.Mapped == "" || s.Error != "" {
			t.Errorf("server %s: mapped %q error %q", s.Server, s.Mapped, s.Error)
		}
	}
}

// decodeEndpoint returns the public endpoint an invite or reply announces.
func decodeEndpoint(t *testing.T, token string) string {
	t.Helper()
	m, err := invite.Decode(token)
	if err != nil {
		t.Fatalf("decode %q: %v", token, err)
	}
	switch {
	case m.Invite != nil:
		return m.Invite.Endpoint.String()
	case m.Reply != nil:
		return m.Reply.Endpoint.String()
	}
	t.Fatalf("decode %q: neither invite nor reply", token)
	return ""
}
