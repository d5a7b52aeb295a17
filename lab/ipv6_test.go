package lab

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// IPv6 in the lab, from the documentation prefix 2001:db8::/32: the
// internet bridge is 2001:db8::/64 (gateway ::fe), a second coturn answers
// STUN on two IPv6 addresses, and an office gets WAN 2001:db8::N and LAN
// 2001:db8:N::/64 behind a stateful ip6tables firewall (no NAT: answers to
// what went out get in, nothing unsolicited; ICMPv6 passes, as RFC 4890
// asks, for neighbour discovery).
const (
	inet6Gateway = "2001:db8::fe"
	stun6IP1     = "2001:db8:ffff::1"
	stun6IP2     = "2001:db8:ffff::2"
	stun6Port    = 3479
)

var stun6Servers = fmt.Sprintf("[%s]:%d,[%s]:%d", stun6IP1, stun6Port, stun6IP2, stun6Port)

// enableIPv6 gives the internet its IPv6 bridge address and starts a
// STUN-only coturn on stun6IP1 and stun6IP2.
func (in *Internet) enableIPv6() {
	l := in.lab
	l.t.Helper()
	l.MustNS(in.NS, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	l.MustNS(in.NS, "ip", "-6", "addr", "add", inet6Gateway+"/64", "dev", "br0", "nodad")
	for _, ip := range []string{stun6IP1, stun6IP2} {
		l.MustNS(in.NS, "ip", "-6", "addr", "add", ip+"/128", "dev", "lo")
	}
	stun := l.Start("coturn6", "ip", "netns", "exec", in.NS,
		"turnserver", "-n", "--stun-only",
		"-L", stun6IP1, "-L", stun6IP2, "-p", fmt.Sprint(stun6Port),
		"--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
		"--log-file", "stdout", "--simple-log", "--no-software-attribute",
		"--pidfile", l.Dir+"/turnserver6.pid", "--userdb", l.Dir+"/turndb6")
	_, err := waitFor(10*time.Second, 100*time.Millisecond, func() (bool, string) {
		if !stun.Running() {
			return false, "coturn exited: " + tail(stun.Output(), 20)
		}
		out, _ := l.InNS(in.NS, "ss", "-Hulnp")
		for _, ip := range []string{stun6IP1, stun6IP2} {
			if !strings.Contains(out, fmt.Sprintf("[%s]:%d", ip, stun6Port)) {
				return false, "coturn not listening on " + ip + ": " + out
			}
		}
		return true, ""
	})
	if err != nil {
		l.t.Fatalf("start coturn on IPv6: %v", err)
	}
}

// enableIPv6 gives the office router its IPv6 WAN and LAN and the stateful
// firewall, and the internet a route to the office's LAN.
func (o *Office) enableIPv6(in *Internet) {
	l := o.lab
	l.t.Helper()
	r := o.Router
	wan := fmt.Sprintf("2001:db8::%d", o.n)
	l.MustNS(r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	l.MustNS(r, "ip", "-6", "addr", "add", wan+"/64", "dev", "wan0", "nodad")
	l.MustNS(r, "ip", "-6", "route", "add", "default", "via", inet6Gateway, "dev", "wan0")
	l.MustNS(r, "ip", "-6", "addr", "add", o.lan6(1)+"/64", "dev", "lan0", "nodad")
	l.MustNS(in.NS, "ip", "-6", "route", "add", fmt.Sprintf("2001:db8:%d::/64", o.n), "via", wan)
	for _, chain := range []string{"INPUT", "FORWARD"} {
		l.MustNS(r, "ip6tables", "-A", chain, "-i", "wan0", "-m", "conntrack",
			"--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
		l.MustNS(r, "ip6tables", "-A", chain, "-i", "wan0", "-p", "ipv6-icmp", "-j", "ACCEPT")
		l.MustNS(r, "ip6tables", "-A", chain, "-i", "wan0", "-j", "DROP")
	}
}

// lan6 is the office's IPv6 LAN address number i.
func (o *Office) lan6(i int) string { return fmt.Sprintf("2001:db8:%d::%d", o.n, i) }

// addIPv6 gives h (the office's host number i, from 0) a global IPv6
// address on the LAN and a default route via the router; it returns the
// address.
func (o *Office) addIPv6(h *Host, i int) string {
	l := o.lab
	l.t.Helper()
	addr := o.lan6(10 + i)
	l.MustNS(h.NS, "ip", "-6", "addr", "add", addr+"/64", "dev", "eth0", "nodad")
	l.MustNS(h.NS, "ip", "-6", "route", "add", "default", "via", o.lan6(1), "dev", "eth0")
	return addr
}

// waitIPv6 waits until no address in the namespaces is still tentative
// (duplicate address detection, also of the link-local addresses the
// kernel made when the links came up): until then neighbour discovery
// holds packets back and the first STUN answers come late.
func (l *Lab) waitIPv6(namespaces ...string) {
	l.t.Helper()
	_, err := waitFor(10*time.Second, 50*time.Millisecond, func() (bool, string) {
		for _, ns := range namespaces {
			if out, _ := l.InNS(ns, "ip", "-6", "addr", "show", "tentative"); strings.TrimSpace(out) != "" {
				return false, ns + " still has tentative addresses: " + out
			}
		}
		return true, ""
	})
	if err != nil {
		l.t.Fatalf("IPv6 not ready: %v", err)
	}
}

// natReport6 is the part of `natcheck --json` about the two halves.
type natReport6 struct {
	Verdict string `json:"verdict"`
	Message string `json:"message"`
	IPv4    struct {
		Verdict string `json:"verdict"`
	} `json:"ipv4"`
	IPv6 struct {
		PublicEndpoint string `json:"public_endpoint"`
		Mapping        string `json:"mapping"`
		Verdict        string `json:"verdict"`
		Message        string `json:"message"`
	} `json:"ipv6"`
}

// TestNATCheckIPv6 is the case of issue 12's first part: IPv4 cannot be
// punched (a symmetric NAT), but the office has global IPv6 behind a
// stateful firewall. The NAT check must say the network can link directly
// over IPv6, with the host's IPv6 address, and an invite must carry that
// address beside the IPv4 one.
func TestNATCheckIPv6(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	in.enableIPv6()
	osym := in.Office("s", 1, NATSymmetric)
	osym.enableIPv6(in)
	s1 := osym.Host("s1")
	addr6 := osym.addIPv6(s1, 0)
	l.waitIPv6(in.NS, osym.Router, s1.NS)
	s1.StartDaemon()
	servers := stunServers + "," + stun6Servers

	out, stderr, err := s1.WGP("natcheck", "--json", "--port", "51820", "--stun", servers)
	if err != nil && out == "" {
		t.Fatalf("natcheck: %v\n%s", err, stderr)
	}
	var r natReport6
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("natcheck --json: %v\n%s", err, out)
	}
	want6 := fmt.Sprintf("[%s]:51820", addr6)
	if r.IPv4.Verdict != "fail" || r.IPv6.Verdict != "ok" || r.IPv6.Mapping != "none" || r.IPv6.PublicEndpoint != want6 {
		t.Errorf("IPv4 %q, IPv6 %+v; want IPv4 fail, IPv6 ok with no NAT at %s", r.IPv4.Verdict, r.IPv6, want6)
	}
	if r.Verdict != "ok" || !strings.Contains(r.Message, "This network can link directly over IPv6") {
		t.Errorf("overall %q %q, want ok, saying it can link directly over IPv6", r.Verdict, r.Message)
	}

	// The invite carries both candidates.
	_, stderr, err = s1.WGP("invite", "home", "--port", "51820", "--stun", servers)
	if err != nil {
		t.Fatalf("invite: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "and "+want6) {
		t.Errorf("invite notes %q, want the IPv6 endpoint %s announced", stderr, want6)
	}
}

// TestWGPunchIPv6Link: both offices remap IPv4 ports per destination, so
// IPv4 cannot be punched, and both have global IPv6 behind stateful
// firewalls. The exchange with no --endpoint carries the IPv6 candidates
// and links over IPv6: each side's peer endpoint is the other's IPv6
// address, and a ping crosses the tunnel.
func TestWGPunchIPv6Link(t *testing.T) {
	l := New(t)
	needWGPunch(t)
	in := l.Internet()
	in.enableIPv6()
	oa := in.Office("a", 1, NATSymmetric)
	ob := in.Office("b", 2, NATSymmetric)
	oa.enableIPv6(in)
	ob.enableIPv6(in)
	a1, b1 := oa.Host("a1"), ob.Host("b1")
	a6, b6 := oa.addIPv6(a1, 0), ob.addIPv6(b1, 0)
	l.waitIPv6(in.NS, oa.Router, ob.Router, a1.NS, b1.NS)
	// The firewall is stateful: a packet from the internet that answers
	// nothing is dropped before it reaches a1.
	before := oa.dropped6()
	l.MustNS(in.NS, "sh", "-c", fmt.Sprintf("echo unsolicited | nc -u -w1 -q0 %s 51820", a6))
	if _, err := waitFor(5*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := oa.dropped6()
		return n > before, fmt.Sprintf("router a's IPv6 DROP rule counted %d packets, %d before the probe", n, before)
	}); err != nil {
		t.Fatalf("unsolicited IPv6 UDP not dropped by the office firewall: %v", err)
	}
	a1.StartDaemon()
	b1.StartDaemon()
	servers := stunServers + "," + stun6Servers
	res := Link(t, a1, b1, "v6", linkOpts{Port: 51820, STUN: servers}, linkOpts{Port: 51821, STUN: servers})
	if want := fmt.Sprintf("over IPv6 at [%s]:51820", a6); !strings.Contains(res.AcceptStderr, want) {
		t.Errorf("accept notes %q, want them to say %q", res.AcceptStderr, want)
	}
	if got, want := a1.TunnelStatus("v6").Peers[0].Endpoint, fmt.Sprintf("[%s]:51821", b6); got != want {
		t.Errorf("a1's peer endpoint %s, want b1's IPv6 endpoint %s", got, want)
	}
	if got, want := b1.TunnelStatus("v6").Peers[0].Endpoint, fmt.Sprintf("[%s]:51820", a6); got != want {
		t.Errorf("b1's peer endpoint %s, want a1's IPv6 endpoint %s", got, want)
	}
	a1.MustWGP("up", "v6")
	b1.MustWGP("up", "v6")
	if d, err := a1.WaitPing(res.BAddr, 30*time.Second); err != nil {
		t.Fatalf("no ping over the IPv6 link: %v", err)
	} else {
		t.Logf("first ping over IPv6 after %v", d.Round(time.Millisecond))
	}
	for _, h := range []*Host{a1, b1} {
		if _, err := h.waitPath("v6", "ipv6", 10*time.Second); err != nil {
			t.Error(err)
		}
	}
}

// dropped6 is how many packets the router's IPv6 FORWARD DROP rule (the
// last one: nothing unsolicited from the WAN) has dropped.
func (o *Office) dropped6() int {
	out, _ := o.lab.InNS(o.Router, "ip6tables", "-L", "FORWARD", "-v", "-x", "-n")
	n := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[2] == "DROP" {
			fmt.Sscan(f[0], &n)
		}
	}
	return n
}
