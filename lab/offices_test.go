package lab

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds for the scenarios. Generous: they catch "never", not "slow";
// the benchmarks measure how fast.
const (
	connectBound = 30 * time.Second // second side up -> first ping
	recoverBound = 60 * time.Second // routers back -> ping again
	staleBound   = 90 * time.Second // peer gone -> status stale (monitor: 17 s without rx)
)

// TestWGPunchOffices is issue 3: two offices behind home NATs linked with
// the CLI only, then the things that happen to real tunnels.
func TestWGPunchOffices(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	oa := in.Office("a", 1, NATHome)
	ob := in.Office("b", 2, NATHome)
	a, b := oa.Host("a1"), ob.Host("b1")
	a.StartDaemon()
	b.StartDaemon()
	const name = "office"
	var res *linkResult

	ok := t.Run("exchange and connect with the CLI", func(t *testing.T) {
		res = Link(t, a, b, name,
			linkOpts{Port: 51820, Endpoint: oa.WAN + ":51820"},
			linkOpts{Port: 51820, Endpoint: ob.WAN + ":51820"})
		if res.APort != 51820 || res.BPort != 51820 {
			t.Errorf("listen ports %d/%d, want the --port 51820 both", res.APort, res.BPort)
		}
		a.MustWGP("up", name)
		// Only a is up: it keeps trying, so it is "connecting".
		if st := a.TunnelStatus(name); !st.Up || st.Peers[0].State != "connecting" {
			t.Errorf("%s right after up, peer not up yet: up=%v state=%q, want up and connecting", a.Name, st.Up, st.Peers[0].State)
		}
		start := time.Now()
		b.MustWGP("up", name)
		if _, err := a.WaitPing(res.BAddr, connectBound); err != nil {
			t.Fatalf("%v\nrouter a conntrack:\n%s\nrouter b conntrack:\n%s", err, oa.Conntrack(), ob.Conntrack())
		}
		t.Logf("first ping %v after the second side's up", time.Since(start).Round(time.Millisecond))
		if !b.Ping(res.AAddr) {
			t.Errorf("%s cannot ping %s through the tunnel", b.Name, res.AAddr)
		}
		for _, c := range []struct {
			src, dst *Host
			addr     string
			port     int
		}{{a, b, res.BAddr, 5001}, {b, a, res.AAddr, 5002}} {
			if err := TCPTransfer(c.src, c.dst, c.addr, c.port, 1<<20); err != nil {
				t.Error(err)
			}
		}
		for _, h := range []*Host{a, b} {
			if _, err := h.WaitState(name, "connected", 15*time.Second); err != nil {
				t.Error(err)
			}
		}
		for _, c := range []struct {
			h        *Host
			peerWAN  string
			peerAddr string
		}{{a, ob.WAN, res.BAddr}, {b, oa.WAN, res.AAddr}} {
			p := c.h.TunnelStatus(name).Peers[0]
			if p.Endpoint != c.peerWAN+":51820" {
				t.Errorf("%s sees peer endpoint %q, want %s:51820", c.h.Name, p.Endpoint, c.peerWAN)
			}
			if p.LastHandshake == nil || time.Since(*p.LastHandshake) > time.Minute || p.RxBytes < 1<<20 || p.TxBytes == 0 {
				t.Errorf("%s: connected peer with last_handshake %v rx %d tx %d; want a recent handshake and the 1 MiB transfer counted",
					c.h.Name, p.LastHandshake, p.RxBytes, p.TxBytes)
			}
			if !slices.Contains(p.AllowedIPs, c.peerAddr+"/32") {
				t.Errorf("%s: peer allowed_ips %v lack %s/32", c.h.Name, p.AllowedIPs, c.peerAddr)
			}
		}
		// The daemon's device is visible to stock `wg` in the host's own
		// /var/run/wireguard.
		dump, err := a.WGShow(name)
		if err != nil || !strings.Contains(dump, b.TunnelStatus(name).PublicKey) {
			t.Errorf("wg show %s on %s: %v\n%s", name, a.Name, err, dump)
		}
	})
	if !ok {
		t.FailNow()
	}

	t.Run("mangled invite is refused and changes nothing", func(t *testing.T) {
		before := b.MustWGP("list")
		tok := []byte(res.Invite)
		i := len(tok) / 2
		if tok[i] == 'A' {
			tok[i] = 'B'
		} else {
			tok[i] = 'A'
		}
		for _, bad := range []string{string(tok), res.Invite[:len(res.Invite)*2/3]} {
			_, stderr, err := b.WGP("accept", "mangled", bad, "--endpoint", ob.WAN+":51830")
			if err == nil {
				t.Errorf("accept of a mangled invite succeeded")
			}
			if len(strings.TrimSpace(stderr)) < 20 {
				t.Errorf("accept of a mangled invite: stderr %q does not say what is wrong", stderr)
			}
			t.Logf("mangled invite: %s", strings.TrimSpace(stderr))
		}
		// A port the running tunnel holds is refused too.
		_, stderr, err := b.WGP("invite", "busy", "--port", "51820", "--endpoint", ob.WAN+":51820")
		if err == nil || !strings.Contains(stderr, "51820") {
			t.Errorf("invite on the busy port 51820: err %v, stderr %q; want an error naming the port", err, stderr)
		}
		t.Logf("busy port: %s", strings.TrimSpace(stderr))
		if after := b.MustWGP("list"); after != before {
			t.Errorf("tunnel list changed after refused invites:\n%s\nwas:\n%s", after, before)
		}
		if !a.Ping(res.BAddr) {
			t.Error("tunnel stopped working after refused invites")
		}
	})

	t.Run("both routers reboot", func(t *testing.T) {
		Reboot(2*time.Second, oa, ob)
		d, err := a.WaitPing(res.BAddr, recoverBound)
		if err != nil {
			t.Fatalf("tunnel did not recover after both routers rebooted: %v", err)
		}
		t.Logf("ping works again %v after the routers came back", d.Round(time.Millisecond))
		if !b.Ping(res.AAddr) {
			t.Errorf("%s cannot ping %s after the reboot", b.Name, res.AAddr)
		}
		for _, h := range []*Host{a, b} {
			if _, err := h.WaitState(name, "connected", 20*time.Second); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("only root and group members change tunnels", func(t *testing.T) {
		for _, cmd := range [][]string{{"down", name}, {"up", name}, {"remove", name, "--yes"}} {
			_, stderr, err := a.WGPAs(cmd...)
			if err == nil {
				t.Errorf("uid 65534: wgpunch %s succeeded", strings.Join(cmd, " "))
			}
			if !strings.Contains(strings.ToLower(stderr), "permission denied") {
				t.Errorf("uid 65534: wgpunch %s: stderr %q, want it to say permission denied", strings.Join(cmd, " "), stderr)
			}
		}
		// Reading is fine; the private key is not.
		if out, stderr, err := a.WGPAs("status", "--json"); err != nil || !strings.Contains(out, `"tunnels"`) {
			t.Errorf("uid 65534: status --json: %v %q %q, want it to work", err, out, stderr)
		}
		out, stderr, err := a.WGPAs("export", name, "--private-key")
		if err == nil || strings.Contains(out, "PrivateKey") || !strings.Contains(strings.ToLower(stderr), "permission denied") {
			t.Errorf("uid 65534: export --private-key: err %v, stdout has a key: %v, stderr %q; want permission denied", err, strings.Contains(out, "PrivateKey"), stderr)
		}
		if st := a.TunnelStatus(name); !st.Up || len(st.Peers) != 1 {
			t.Errorf("after refused commands: up=%v peers=%d, want still up with its peer", st.Up, len(st.Peers))
		}
		if !a.Ping(res.BAddr) {
			t.Error("tunnel stopped working after refused commands")
		}

		// A member of group wgpunch may. The group exists only in a1's
		// private mount namespace: /etc/group is bind-mounted there.
		group, err := os.ReadFile("/etc/group")
		if err != nil {
			t.Fatal(err)
		}
		groupFile := filepath.Join(a.Dir, "group")
		if err := os.WriteFile(groupFile, append(group, "wgpunch:x:4242:\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		a.Must("mount", "--bind", groupFile, "/etc/group")
		for _, cmd := range []string{"down", "up"} {
			if _, _, err := a.WGPAsMember(4242, cmd, name); err != nil {
				t.Errorf("member of group wgpunch: %v", err)
			}
		}
		if _, err := a.WaitPing(res.BAddr, connectBound); err != nil {
			t.Errorf("after down and up by a group member: %v", err)
		}
		// Now that the group exists, a non-member is still refused.
		if _, stderr, err := a.WGPAs("down", name); err == nil || !strings.Contains(strings.ToLower(stderr), "permission denied") {
			t.Errorf("uid 65534 with group wgpunch existing: down: err %v stderr %q, want permission denied", err, stderr)
		}
		if !a.TunnelStatus(name).Up {
			t.Error("a non-member took the tunnel down")
		}
	})

	t.Run("peer goes down and up", func(t *testing.T) {
		b.MustWGP("down", name)
		if st := b.TunnelStatus(name); st.Up || slices.Contains(b.Links(), name) {
			t.Errorf("%s after down: up=%v links=%v", b.Name, st.Up, b.Links())
		}
		// Nobody may bring it back either.
		if _, stderr, err := b.WGPAs("up", name); err == nil || !strings.Contains(strings.ToLower(stderr), "permission denied") {
			t.Errorf("uid 65534: up %s: err %v stderr %q, want permission denied", name, err, stderr)
		}
		if b.TunnelStatus(name).Up {
			t.Errorf("uid 65534 brought %s up", name)
		}
		d, err := a.WaitState(name, "stale", staleBound)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s saw its peer go stale %v after the peer went down", a.Name, d.Round(time.Second))
		start := time.Now()
		b.MustWGP("up", name)
		if _, err := a.WaitState(name, "connected", connectBound); err != nil {
			t.Fatal(err)
		}
		t.Logf("connected again %v after the peer came back", time.Since(start).Round(time.Millisecond))
		if _, err := b.WaitPing(res.AAddr, connectBound); err != nil {
			t.Error(err)
		}
	})

	t.Run("daemon restart brings the tunnel back", func(t *testing.T) {
		if err := b.StopDaemon(); err != nil {
			t.Errorf("daemon exit on SIGTERM: %v", err)
		}
		if links := b.Links(); slices.Contains(links, name) {
			t.Errorf("%s: interface %s still there after the daemon stopped: %v", b.Name, name, links)
		}
		if s := b.UAPISockets(); len(s) != 0 {
			t.Errorf("%s: UAPI sockets left after the daemon stopped: %v", b.Name, s)
		}
		start := time.Now()
		b.StartDaemon()
		if _, err := b.WaitPing(res.AAddr, connectBound); err != nil {
			t.Fatalf("tunnel did not come back with the daemon: %v", err)
		}
		t.Logf("tunnel back %v after the daemon restarted", time.Since(start).Round(time.Millisecond))
		if st := b.TunnelStatus(name); !st.Up {
			t.Errorf("status after restart: up=%v", st.Up)
		}
	})

	t.Run("daemon killed and restarted", func(t *testing.T) {
		// A crash leaves the control socket and the UAPI socket files
		// behind; the next daemon must cope with both.
		if err := syscall.Kill(b.daemon.Pid(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-b.daemon.done
		if links := b.Links(); slices.Contains(links, name) {
			t.Errorf("%s: interface %s outlived the killed daemon: %v", b.Name, name, links)
		}
		start := time.Now()
		b.StartDaemon()
		if _, err := b.WaitPing(res.AAddr, connectBound); err != nil {
			t.Fatalf("tunnel did not come back after a crash: %v\ndaemon log:\n%s", err, tail(b.daemon.Output(), 20))
		}
		t.Logf("tunnel back %v after the killed daemon restarted", time.Since(start).Round(time.Millisecond))
		if got := b.UAPISockets(); !slices.Equal(got, []string{name + ".sock"}) {
			t.Errorf("%s: /var/run/wireguard = %v, want [%s.sock]", b.Name, got, name)
		}
	})

	t.Run("stock WireGuard peer", func(t *testing.T) {
		full := b.MustWGP("export", name, "--private-key")
		public := b.MustWGP("export", name)
		priv := regexp.MustCompile(`(?m)^\s*PrivateKey\s*=\s*(\S+)`).FindStringSubmatch(full)
		if priv == nil {
			t.Fatalf("export --private-key has no PrivateKey:\n%s", full)
		}
		if strings.Contains(public, priv[1]) {
			t.Fatal("export without --private-key contains the private key")
		}
		confPath := filepath.Join(b.Dir, name+".conf")
		if err := os.WriteFile(confPath, []byte(full), 0o600); err != nil {
			t.Fatal(err)
		}
		stripped := b.Must("wg-quick", "strip", confPath)
		addrs, routes := exportAddrs(full)
		if len(addrs) == 0 || len(routes) == 0 {
			t.Fatalf("export lacks Address or AllowedIPs:\n%s", public)
		}
		b.MustWGP("down", name)
		st, err := b.StockUp(name, stripped, addrs, routes)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Down()
		if _, err := a.WaitPing(res.BAddr, connectBound); err != nil {
			t.Fatalf("WG Punch -> stock wireguard-go: %v", err)
		}
		if !b.Ping(res.AAddr) {
			t.Errorf("stock wireguard-go -> WG Punch: cannot ping %s", res.AAddr)
		}
		if err := TCPTransfer(b, a, res.AAddr, 5003, 1<<20); err != nil {
			t.Error(err)
		}
		if err := TCPTransfer(a, b, res.BAddr, 5004, 1<<20); err != nil {
			t.Error(err)
		}
		if _, err := a.WaitState(name, "connected", 15*time.Second); err != nil {
			t.Error(err)
		}
		if err := st.Down(); err != nil {
			t.Errorf("stop stock wireguard-go: %v", err)
		}
	})

	t.Run("private keys stay on their machine", func(t *testing.T) {
		for _, c := range []struct{ h, other *Host }{{a, b}, {b, a}} {
			full := c.h.MustWGP("export", name, "--private-key")
			m := regexp.MustCompile(`(?m)^\s*PrivateKey\s*=\s*(\S+)`).FindStringSubmatch(full)
			if m == nil {
				t.Fatalf("%s: export --private-key has no PrivateKey", c.h.Name)
			}
			priv := m[1]
			status, _, _ := c.h.WGP("status", "--json")
			show, _, _ := c.h.WGP("show", name)
			export, _, _ := c.h.WGP("export", name)
			places := map[string]string{
				"status --json": status, "show": show, "export": export,
				"invite": res.Invite, "reply": res.Reply,
				"daemon log": c.h.daemon.Output(),
			}
			// Nothing on the other machine: its state and its daemon's log.
			places["other daemon log"] = c.other.daemon.Output()
			filepath.Walk(c.other.StateDir, func(path string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					b, _ := os.ReadFile(path)
					places["other machine's "+path] = string(b)
				}
				return nil
			})
			for where, text := range places {
				if strings.Contains(text, priv) {
					t.Errorf("%s's private key appears in %s", c.h.Name, where)
				}
			}
			// Key files 0600 in a 0700 directory.
			filepath.Walk(c.h.StateDir, func(path string, fi os.FileInfo, err error) error {
				if err != nil {
					return nil
				}
				if fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s: %s is %v, want no group/other access", c.h.Name, path, fi.Mode().Perm())
				}
				if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s: %s is %v, want 0600", c.h.Name, path, fi.Mode().Perm())
				}
				return nil
			})
		}
	})

	t.Run("nothing left behind", func(t *testing.T) {
		a.MustWGP("down", name)
		if st := a.TunnelStatus(name); st.Up || st.Peers[0].State != "down" {
			t.Errorf("%s after down: up=%v state=%q, want down", a.Name, st.Up, st.Peers[0].State)
		}
		for _, h := range []*Host{a, b} {
			if err := h.StopDaemon(); err != nil {
				t.Errorf("%s: daemon did not exit cleanly on SIGTERM: %v", h.Name, err)
			}
			if links := h.Links(); !slices.Equal(links, []string{"lo", "eth0"}) {
				t.Errorf("%s: interfaces left: %v, want [lo eth0]", h.Name, links)
			}
			if s := h.UAPISockets(); len(s) != 0 {
				t.Errorf("%s: UAPI sockets left in /var/run/wireguard: %v", h.Name, s)
			}
			if _, err := os.Stat(h.Socket); err == nil {
				t.Errorf("%s: control socket %s left after the daemon stopped", h.Name, h.Socket)
			}
			if out, _ := l.Run("ip", "netns", "pids", h.NS); len(strings.Fields(out)) != 1 {
				t.Errorf("%s: processes in its namespace besides the namespace holder: %v", h.Name, strings.Fields(out))
			}
		}
		// Without a daemon, up says so and how to start one.
		if _, stderr, err := a.WGP("up", name); err == nil || !strings.Contains(stderr, "daemon") {
			t.Errorf("up without a daemon: err %v, stderr %q; want an error about the daemon", err, stderr)
		}
		// Tunnels taken down on purpose stay down when the daemon starts
		// again (the restart subtests showed that up ones come back).
		for _, h := range []*Host{a, b} {
			h.StartDaemon()
			if st := h.TunnelStatus(name); st.Up {
				t.Errorf("%s: tunnel taken down before the daemon stopped came back up", h.Name)
			}
			if err := h.StopDaemon(); err != nil {
				t.Errorf("%s: daemon did not exit cleanly on SIGTERM: %v", h.Name, err)
			}
			if links := h.Links(); !slices.Equal(links, []string{"lo", "eth0"}) {
				t.Errorf("%s: interfaces left after the second stop: %v", h.Name, links)
			}
		}
	})
}
