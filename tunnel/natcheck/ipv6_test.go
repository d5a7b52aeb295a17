package natcheck

import (
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// need6 skips the test when this machine cannot bind ::1.
func need6(t *testing.T) {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	c.Close()
}

// The public documentation addresses a test pretends this machine has.
var (
	global6Addr = netip.MustParseAddr("2001:db8:1::5")
	lan4Addr    = netip.MustParseAddr("192.168.1.5")
)

// sum6 is the part of the IPv6 half most tests compare.
type sum6 struct {
	PublicEndpoint string
	Mapping        Mapping
	Verdict        Verdict
	Overall        Verdict
}

// Two fake servers each answer on 127.0.0.x and on ::1 (one name per
// server is impossible on loopback, so each server is given twice: its
// IPv4 address and its IPv6 one). The IPv6 half must be judged from the
// ::1 answers, the overall verdict from both.
func TestCheckIPv6(t *testing.T) {
	need6(t)
	tests := []struct {
		name     string
		a4, b4   func(*fakeServer) // nil: the real source
		a6, b6   func(*fakeServer)
		locals   []netip.Addr // nil: lo's addresses (so ::1 is "ours")
		want     sum6
		inMsg    string // in the overall message
		notInMsg string
		inMsg6   string // in the IPv6 message
	}{{
		name:   "IPv4 symmetric, IPv6 no NAT: links over IPv6",
		a4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40001") },
		locals: []netip.Addr{lan4Addr, netip.IPv6Loopback(), global6Addr},
		want:   sum6{"", MappingNone, VerdictOK, VerdictOK},
		inMsg:  "This network can link directly over IPv6",
		inMsg6: "sudo ufw allow",
	}, {
		name:     "IPv4 ok, IPv6 ok: IPv4's words, IPv6 mentioned",
		a4:       func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:       func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		locals:   []netip.Addr{lan4Addr, netip.IPv6Loopback(), global6Addr},
		want:     sum6{"", MappingNone, VerdictOK, VerdictOK},
		inMsg:    "over IPv6 as well",
		notInMsg: "Over IPv4",
	}, {
		// Both IPv6 servers are on ::1: two ports of one address cannot
		// show an endpoint-independent mapping (TestJudge6 can).
		name:   "IPv6 translator, two ports of one server agree: cannot tell",
		a4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40001") },
		a6:     func(s *fakeServer) { s.mapped = ap("[2001:db8:9::1]:40000") },
		b6:     func(s *fakeServer) { s.mapped = ap("[2001:db8:9::1]:40000") },
		locals: []netip.Addr{lan4Addr, global6Addr},
		want:   sum6{"[2001:db8:9::1]:40000", MappingUnknown, VerdictWarning, VerdictFail},
		inMsg6: "could not be checked",
	}, {
		name:   "both symmetric: fail, both explained",
		a4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40001") },
		a6:     func(s *fakeServer) { s.mapped = ap("[2001:db8:9::1]:40000") },
		b6:     func(s *fakeServer) { s.mapped = ap("[2001:db8:9::1]:40001") },
		locals: []netip.Addr{lan4Addr, global6Addr},
		want:   sum6{"[2001:db8:9::1]:40000", MappingEndpointDependent, VerdictFail, VerdictFail},
		inMsg:  "Over IPv6: IPv6 passes an address translator",
	}, {
		name:   "IPv6 servers silent, a global address here: warning with firewall advice",
		a4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40001") },
		a6:     func(s *fakeServer) { s.silent = true },
		b6:     func(s *fakeServer) { s.silent = true },
		locals: []netip.Addr{lan4Addr, global6Addr},
		want:   sum6{"", MappingUnknown, VerdictWarning, VerdictFail},
		inMsg6: "2001:db8:1::5, but no STUN server answered over IPv6",
	}, {
		name:   "IPv6 servers silent, no global address: fail",
		a4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		a6:     func(s *fakeServer) { s.silent = true },
		b6:     func(s *fakeServer) { s.silent = true },
		locals: []netip.Addr{lan4Addr, netip.MustParseAddr("fd00::5"), netip.MustParseAddr("fe80::5")},
		want:   sum6{"", MappingUnknown, VerdictFail, VerdictOK},
		inMsg6: "no global IPv6 address",
	}, {
		name:   "one IPv6 server, not our address: cannot tell",
		a4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b4:     func(s *fakeServer) { s.mapped = ap(natIP + ":40001") },
		a6:     func(s *fakeServer) { s.mapped = ap("[2001:db8:9::1]:40000") },
		b6:     func(s *fakeServer) { s.mapped = ap(natIP + ":1") }, // the wrong family: ignored
		locals: []netip.Addr{lan4Addr, global6Addr},
		want:   sum6{"[2001:db8:9::1]:40000", MappingUnknown, VerdictWarning, VerdictFail},
		inMsg6: "Only [::1]",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a4 := startFake(t, "127.0.0.2", tt.a4)
			b4 := startFake(t, "127.0.0.3", tt.b4)
			a6 := startFake(t, "::1", tt.a6)
			b6 := startFake(t, "::1", tt.b6)
			locals := tt.locals
			r := checkOK(t, Options{
				Servers:    []string{a4.addr(), b4.addr(), a6.addr(), b6.addr()},
				Timeout:    800 * time.Millisecond,
				LocalAddrs: func() ([]netip.Addr, error) { return locals, nil },
				Gateways:   func() ([]netip.Addr, error) { return nil, nil },
				GOOS:       "linux",
			})
			got := sum6{r.IPv6.PublicEndpoint, r.IPv6.Mapping, r.IPv6.Verdict, r.Verdict}
			if tt.want.PublicEndpoint == "" && tt.want.Mapping == MappingNone {
				// No NAT: the server saw our own ::1 and port.
				tt.want.PublicEndpoint = netip.AddrPortFrom(netip.IPv6Loopback(), r.LocalPort).String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("IPv6 (-want +got):\n%s\noverall: %s\nIPv6: %s", diff, r.Message, r.IPv6.Message)
			}
			if !strings.Contains(r.Message, tt.inMsg) {
				t.Errorf("overall message %q does not contain %q", r.Message, tt.inMsg)
			}
			if tt.notInMsg != "" && strings.Contains(r.Message, tt.notInMsg) {
				t.Errorf("overall message %q contains %q", r.Message, tt.notInMsg)
			}
			if !strings.Contains(r.IPv6.Message, tt.inMsg6) {
				t.Errorf("IPv6 message %q does not contain %q", r.IPv6.Message, tt.inMsg6)
			}
			// The IPv4 half is judged from the IPv4 servers only.
			if r.IPv4.Verdict == "" || r.IPv4.Message == "" {
				t.Errorf("IPv4 half %+v is empty", r.IPv4)
			}
			if len(r.IPv6.Servers) != 4 || r.IPv6.Servers[0].Address != "" || r.IPv6.Servers[2].Address == "" {
				t.Errorf("IPv6 servers %+v, want 4, the IPv4 literals without an address", r.IPv6.Servers)
			}
			if !strings.Contains(r.Servers[2].Error, "no IPv4 address") {
				t.Errorf("IPv4 result for an IPv6 server: error %q, want it to say there is no IPv4 address", r.Servers[2].Error)
			}
		})
	}
}

// Without IPv6 servers the half says so; a Conn without Conn6 skips it.
func TestCheckIPv6NotAsked(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	locals := func() ([]netip.Addr, error) { return []netip.Addr{lan4Addr, global6Addr}, nil }
	r := checkOK(t, Options{Servers: []string{a.addr(), b.addr()}, LocalAddrs: locals})
	if r.IPv6.Verdict != VerdictWarning || !strings.Contains(r.IPv6.Message, "none of the STUN servers") || r.IPv6.GlobalAddress != global6Addr.String() {
		t.Errorf("IPv6 half %+v, want a warning that no server has IPv6, with the global address", r.IPv6)
	}
	if r.Verdict != VerdictOK {
		t.Errorf("overall verdict %q, want IPv4's ok", r.Verdict)
	}

	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	need6(t)
	six := startFake(t, "::1", nil)
	r = checkOK(t, Options{Conn: c, Servers: []string{a.addr(), b.addr(), six.addr()}, LocalAddrs: locals})
	if six.requests.Load() != 0 || r.IPv6.Verdict != VerdictWarning || !strings.Contains(r.IPv6.Message, "not checked") {
		t.Errorf("with Conn only: IPv6 server asked %d times, half %+v; want not asked, not checked", six.requests.Load(), r.IPv6)
	}
}

// Conn6 is used for the IPv6 half and left open.
func TestCheckThroughConn6(t *testing.T) {
	need6(t)
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	six := startFake(t, "::1", nil)
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c6, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c6.Close()
	r := checkOK(t, Options{Conn: c, Conn6: c6, Servers: []string{a.addr(), six.addr()}})
	if want := c6.LocalAddr().String(); r.IPv6.PublicEndpoint != want || r.IPv6.Mapping != MappingNone || r.IPv6.Verdict != VerdictOK {
		t.Errorf("IPv6 half %+v, want no NAT, ok, at the socket's own %s (its port, not the IPv4 socket's)", r.IPv6, want)
	}
	if _, err := c6.WriteTo([]byte("x"), c6.LocalAddr()); err != nil {
		t.Fatalf("IPv6 socket closed by Check: %v", err)
	}
	buf := make([]byte, 10)
	if _, _, err := c6.ReadFrom(buf); err != nil {
		t.Errorf("read after Check: %v (deadline left behind?)", err)
	}
}

func TestReportJSONIPv6(t *testing.T) {
	need6(t)
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	six := startFake(t, "::1", func(s *fakeServer) { s.mapped = ap("[2001:db8:9::1]:40000") })
	r := checkOK(t, Options{Servers: []string{a.addr(), six.addr()}})
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		IPv6 map[string]any `json:"ipv6"`
		IPv4 map[string]any `json:"ipv4"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"public_endpoint", "verdict", "message"} {
		if _, ok := got.IPv6[k]; !ok {
			t.Errorf("JSON %s: ipv6 lacks %q", data, k)
		}
	}
	if got.IPv6["public_endpoint"] != "[2001:db8:9::1]:40000" || got.IPv4["verdict"] == nil {
		t.Errorf("JSON ipv6 %v ipv4 %v, want the IPv6 endpoint and an IPv4 verdict", got.IPv6, got.IPv4)
	}
}

func TestFirewallAdvice(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":   "sudo ufw allow 51820/udp",
		"windows": "netsh advfirewall firewall add rule",
		"darwin":  "allow port 51820",
	} {
		if got := firewallAdvice(goos, 51820); !strings.Contains(got, want) {
			t.Errorf("firewallAdvice(%q) = %q, want it to contain %q", goos, got, want)
		}
	}
}

func TestJudge6(t *testing.T) {
	const s1, s2 = "[2001:db8:100::1]:3478", "[2001:db8:200::1]:19302"
	locals := []netip.Addr{lan4Addr, global6Addr}
	tests := []struct {
		name    string
		answers []answer
		mapping Mapping
		verdict Verdict
		inMsg   string
	}{
		{"no NAT", []answer{{server: ap(s1), mapped: ap("[2001:db8:1::5]:51820")}, {server: ap(s2), mapped: ap("[2001:db8:1::5]:51820")}},
			MappingNone, VerdictOK, "has the address 2001:db8:1::5 itself"},
		{"no NAT from one answer", []answer{{server: ap(s1), mapped: ap("[2001:db8:1::5]:51820")}},
			MappingNone, VerdictOK, "can link directly over IPv6"},
		{"NAT66 keeping the endpoint", []answer{{server: ap(s1), mapped: ap("[2001:db8:9::1]:40000")}, {server: ap(s2), mapped: ap("[2001:db8:9::1]:40000")}},
			MappingEndpointIndependent, VerdictOK, "NAT66"},
		{"NAT66 per destination", []answer{{server: ap(s1), mapped: ap("[2001:db8:9::1]:40000")}, {server: ap(s2), mapped: ap("[2001:db8:9::1]:40001")}},
			MappingEndpointDependent, VerdictFail, "will fail"},
		{"our address, another port", []answer{{server: ap(s1), mapped: ap("[2001:db8:1::5]:6000")}, {server: ap(s2), mapped: ap("[2001:db8:1::5]:6000")}},
			MappingEndpointIndependent, VerdictOK, "[2001:db8:1::5]:6000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{LocalPort: 51820}
			for i := range tt.answers {
				tt.answers[i].index = i
				r.IPv6.Servers = append(r.IPv6.Servers, ServerResult{Server: tt.answers[i].server.String()})
			}
			judge6(r, tt.answers, locals, 51820, true, nil, "linux")
			if r.IPv6.Mapping != tt.mapping || r.IPv6.Verdict != tt.verdict || !strings.Contains(r.IPv6.Message, tt.inMsg) {
				t.Errorf("mapping %q verdict %q message %q; want %q %q containing %q", r.IPv6.Mapping, r.IPv6.Verdict, r.IPv6.Message, tt.mapping, tt.verdict, tt.inMsg)
			}
			if r.IPv6.PublicEndpoint != tt.answers[0].mapped.String() {
				t.Errorf("endpoint %q, want the first answer %s", r.IPv6.PublicEndpoint, tt.answers[0].mapped)
			}
		})
	}
}

// noRoute is an IPv6 socket on a machine without IPv6 routes: every send
// fails with "network is unreachable".
type noRoute struct{ net.PacketConn }

func (noRoute) WriteTo([]byte, net.Addr) (int, error) {
	return 0, &net.OpError{Op: "write", Net: "udp6", Err: syscall.ENETUNREACH}
}

// IPv6 servers that cannot be reached at all must not hold the check up:
// on a machine without IPv6 the IPv4 answers end it, as before.
func TestCheckIPv6Unreachable(t *testing.T) {
	need6(t)
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	six := startFake(t, "::1", nil)
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c6, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c6.Close()
	start := time.Now()
	r := checkOK(t, Options{Conn: c, Conn6: noRoute{c6}, Servers: []string{a.addr(), b.addr(), six.addr()},
		LocalAddrs: func() ([]netip.Addr, error) { return []netip.Addr{lan4Addr}, nil }})
	if el := time.Since(start); el > 700*time.Millisecond {
		t.Errorf("Check took %v with IPv6 unreachable, want it to end with the IPv4 answers, not wait for the 1.5 s timeout", el)
	}
	if got := r.IPv6.Servers[2].Error; !strings.Contains(got, "unreachable") {
		t.Errorf("IPv6 server error %q, want it to say the network is unreachable", got)
	}
	if r.IPv6.Verdict != VerdictFail || !strings.Contains(r.IPv6.Message, "no global IPv6 address") {
		t.Errorf("IPv6 half %+v, want fail: no global IPv6 address", r.IPv6)
	}
	if r.Verdict != VerdictOK {
		t.Errorf("overall %q, want IPv4's ok", r.Verdict)
	}
}
