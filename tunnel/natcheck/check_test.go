package natcheck

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A NAT'd public address from the documentation range: never local.
const natIP = "203.0.113.7"

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// checkOK runs Check and fails the test on an error.
func checkOK(t *testing.T, opts Options) *Report {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	r, err := Check(context.Background(), opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return r
}

// summary is the part of a Report most tests compare.
type summary struct {
	PublicEndpoint string
	Mapping        Mapping
	PortPreserved  bool
	UDPBlocked     bool
	CGNAT          bool
	Verdict        Verdict
}

func summarize(r *Report) summary {
	return summary{r.PublicEndpoint, r.Mapping, r.PortPreserved, r.UDPBlocked, r.CGNAT, r.Verdict}
}

func TestCheckMappings(t *testing.T) {
	tests := []struct {
		name   string
		a, b   func(*fakeServer)
		want   summary
		inMsg  string
		sameIP bool // both servers on 127.0.0.2
	}{{
		name:  "endpoint-independent, port changed",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		want:  summary{natIP + ":40000", MappingEndpointIndependent, false, false, false, VerdictOK},
		inMsg: "public port 40000",
	}, {
		name:  "symmetric: different port per server",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:     func(s *fakeServer) { s.mapped = ap(natIP + ":40001") },
		want:  summary{natIP + ":40000", MappingEndpointDependent, false, false, false, VerdictFail},
		inMsg: "cannot be punched; use the other side as the listener, forward a port, or use a relay",
	}, {
		name:  "different public IP per server",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:     func(s *fakeServer) { s.mapped = ap("203.0.113.8:40000") },
		want:  summary{natIP + ":40000", MappingEndpointDependent, false, false, false, VerdictFail},
		inMsg: "symmetric",
	}, {
		// The mapping decides; the carrier NAT is only explained.
		name:  "carrier-grade NAT that keeps the port for every destination",
		a:     func(s *fakeServer) { s.mapped = ap("100.64.3.4:40000") },
		b:     func(s *fakeServer) { s.mapped = ap("100.64.3.4:40000") },
		want:  summary{"100.64.3.4:40000", MappingEndpointIndependent, false, false, true, VerdictOK},
		inMsg: "carrier-grade NAT (the STUN server saw 100.64.3.4",
	}, {
		name:  "old server with MAPPED-ADDRESS only",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000"); s.plain = true },
		b:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		want:  summary{natIP + ":40000", MappingEndpointIndependent, false, false, false, VerdictOK},
		inMsg: "hole punching will work",
	}, {
		name:   "two ports of one address agree: cannot tell",
		a:      func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:      func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		sameIP: true,
		want:   summary{natIP + ":40000", MappingUnknown, false, false, false, VerdictWarning},
		inMsg:  "could not be checked",
	}, {
		name:   "two ports of one address disagree: symmetric",
		a:      func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:      func(s *fakeServer) { s.mapped = ap(natIP + ":40002") },
		sameIP: true,
		want:   summary{natIP + ":40000", MappingEndpointDependent, false, false, false, VerdictFail},
		inMsg:  "cannot be punched",
	}, {
		name:  "garbage before the answers is ignored",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000"); s.garbage = 2 },
		b:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000"); s.wrongTx = true },
		want:  summary{natIP + ":40000", MappingEndpointIndependent, false, false, false, VerdictOK},
		inMsg: "hole punching will work",
	}, {
		name:  "wrong transaction ID only: ignored",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:     func(s *fakeServer) { s.wrongTx = true; s.onlyBad = true },
		want:  summary{natIP + ":40000", MappingUnknown, false, false, false, VerdictWarning},
		inMsg: "could not be checked",
	}, {
		name:  "garbage only: ignored",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:     func(s *fakeServer) { s.garbage = 1; s.onlyBad = true },
		want:  summary{natIP + ":40000", MappingUnknown, false, false, false, VerdictWarning},
		inMsg: "could not be checked",
	}, {
		name:  "one server refuses",
		a:     func(s *fakeServer) { s.mapped = ap(natIP + ":40000") },
		b:     func(s *fakeServer) { s.refuse = true },
		want:  summary{natIP + ":40000", MappingUnknown, false, false, false, VerdictWarning},
		inMsg: "could not be checked",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ipB := "127.0.0.3"
			if tt.sameIP {
				ipB = "127.0.0.2"
			}
			a := startFake(t, "127.0.0.2", tt.a)
			b := startFake(t, ipB, tt.b)
			// Shorter than the default: some cases wait for a server that never answers well.
			r := checkOK(t, Options{Servers: []string{a.addr(), b.addr()}, Timeout: 800 * time.Millisecond})
			if diff := cmp.Diff(tt.want, summarize(r)); diff != "" {
				t.Errorf("report (-want +got):\n%s\nmessage: %s", diff, r.Message)
			}
			if !strings.Contains(r.Message, tt.inMsg) {
				t.Errorf("message %q does not contain %q", r.Message, tt.inMsg)
			}
			if r.LocalPort == 0 {
				t.Errorf("LocalPort = 0, want the port actually probed from")
			}
		})
	}
}

func TestCheckPortPreserved(t *testing.T) {
	port := freeUDPPort(t)
	mapped := ap(natIP + ":" + itoa(port))
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = mapped })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.mapped = mapped })
	r := checkOK(t, Options{LocalPort: port, Servers: []string{a.addr(), b.addr()}})
	want := summary{mapped.String(), MappingEndpointIndependent, true, false, false, VerdictOK}
	if diff := cmp.Diff(want, summarize(r)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if r.LocalPort != port {
		t.Errorf("LocalPort = %d, want %d", r.LocalPort, port)
	}
}

// Both fake servers report the real source address: 127.0.0.1 is on lo,
// so there is no NAT.
func TestCheckNoNAT(t *testing.T) {
	port := freeUDPPort(t)
	a := startFake(t, "127.0.0.2", nil)
	b := startFake(t, "127.0.0.3", nil)
	r := checkOK(t, Options{LocalPort: port, Servers: []string{a.addr(), b.addr()}})
	if r.Mapping != MappingNone || r.Verdict != VerdictOK || !r.PortPreserved {
		t.Errorf("mapping %q verdict %q preserved %v, want none ok true; message %q", r.Mapping, r.Verdict, r.PortPreserved, r.Message)
	}
	got, err := netip.ParseAddrPort(r.PublicEndpoint)
	if err != nil || got.Port() != port || !got.Addr().IsLoopback() {
		t.Errorf("PublicEndpoint %q, want a loopback address with port %d", r.PublicEndpoint, port)
	}
	for _, s := range r.Servers {
		if s.Mapped != r.PublicEndpoint || s.Error != "" || s.Address == "" {
			t.Errorf("server result %+v, want mapped %s and no error", s, r.PublicEndpoint)
		}
	}
}

// A dead server must not hold the check up for longer than the timeout.
func TestCheckDeadServer(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	dead := startFake(t, "127.0.0.3", func(s *fakeServer) { s.silent = true })
	start := time.Now()
	r := checkOK(t, Options{Servers: []string{a.addr(), dead.addr()}})
	if el := time.Since(start); el > 1600*time.Millisecond {
		t.Errorf("Check took %v with a dead server, want at most about 1.5 s", el)
	}
	want := summary{natIP + ":40000", MappingUnknown, false, false, false, VerdictWarning}
	if diff := cmp.Diff(want, summarize(r)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if got := r.Servers[1].Error; !strings.Contains(got, "no answer") {
		t.Errorf("dead server error %q, want it to say there was no answer", got)
	}
	// The request was retransmitted (0, 250, 750 ms).
	if n, want := dead.requests.Load(), len(defaultRetransmits()); n != int32(want) {
		t.Errorf("dead server got %d requests, want %d", n, want)
	}
	// The live one answered the first; no more were sent to it.
	if n := a.requests.Load(); n != 1 {
		t.Errorf("live server got %d requests, want 1", n)
	}
}

func TestCheckUDPBlocked(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.silent = true })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.silent = true })
	start := time.Now()
	r := checkOK(t, Options{Servers: []string{a.addr(), b.addr()}, Timeout: 600 * time.Millisecond})
	if el := time.Since(start); el > 700*time.Millisecond {
		t.Errorf("Check took %v, want at most about the 600 ms timeout", el)
	}
	want := summary{"", MappingUnknown, false, true, false, VerdictFail}
	if diff := cmp.Diff(want, summarize(r)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.Message, "blocked") {
		t.Errorf("message %q should say UDP seems blocked", r.Message)
	}
}

func TestCheckSlowServerStillCounts(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.mapped = ap(natIP + ":40000"); s.delay = 300 * time.Millisecond })
	r := checkOK(t, Options{Servers: []string{a.addr(), b.addr()}})
	if r.Mapping != MappingEndpointIndependent {
		t.Errorf("mapping %q, want %q: %s", r.Mapping, MappingEndpointIndependent, r.Message)
	}
	if r.Servers[1].RTTMilli < 250 {
		t.Errorf("slow server RTT %d ms, want >= 300 ms (measured from the first send)", r.Servers[1].RTTMilli)
	}
}

func TestCheckBadServers(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	var mu sync.Mutex
	var progress []string
	r := checkOK(t, Options{
		Servers: []string{"127.0.0.3:0", "[::1]:3478", a.addr(), ":3478"},
		Progress: func(s ServerResult) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, s.Server)
		},
	})
	for i, wantErr := range []string{"port must be 1-65535", "IPv6", "", "no host name"} {
		got := r.Servers[i].Error
		if wantErr == "" && got != "" || !strings.Contains(got, wantErr) {
			t.Errorf("server %q error %q, want it to contain %q", r.Servers[i].Server, got, wantErr)
		}
	}
	if r.Mapping != MappingUnknown || r.PublicEndpoint != natIP+":40000" {
		t.Errorf("mapping %q endpoint %q, want unknown with %s:40000", r.Mapping, r.PublicEndpoint, natIP)
	}
	if len(progress) != 4 {
		t.Errorf("Progress called for %q, want once for each of the 4 servers", progress)
	}
}

func TestCheckNoServerResolvable(t *testing.T) {
	r := checkOK(t, Options{Servers: []string{"127.0.0.2:0"}})
	if r.Verdict != VerdictFail || r.UDPBlocked || !strings.Contains(r.Message, "could be looked up") {
		t.Errorf("verdict %q blocked %v message %q, want fail, not blocked, about the lookup", r.Verdict, r.UDPBlocked, r.Message)
	}
}

func TestCheckPortInUse(t *testing.T) {
	c, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	_, err = Check(context.Background(), Options{LocalPort: port, Servers: []string{"127.0.0.2:3478"}})
	if err == nil || !strings.Contains(err.Error(), itoa(port)) || !strings.Contains(err.Error(), "another port") {
		t.Errorf("Check on a busy port: err = %v, want an error naming port %d and what to do", err, port)
	}
}

// Check must probe through a given socket and leave it open and usable.
func TestCheckThroughConn(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := checkOK(t, Options{Conn: c, LocalPort: 1, Servers: []string{a.addr(), b.addr()}})
	if want := uint16(c.LocalAddr().(*net.UDPAddr).Port); r.LocalPort != want {
		t.Errorf("LocalPort %d, want the socket's port %d", r.LocalPort, want)
	}
	if r.Mapping != MappingEndpointIndependent {
		t.Errorf("mapping %q, want endpoint-independent", r.Mapping)
	}
	// Still open, and no deadline left behind.
	if _, err := c.WriteTo([]byte("x"), c.LocalAddr()); err != nil {
		t.Fatalf("socket closed by Check: %v", err)
	}
	buf := make([]byte, 10)
	if _, _, err := c.ReadFrom(buf); err != nil {
		t.Errorf("read after Check: %v (deadline left behind?)", err)
	}
}

func TestCheckCancel(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.silent = true })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r, err := Check(ctx, Options{Servers: []string{a.addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("cancelled Check took %v", el)
	}
	if !strings.Contains(r.Servers[0].Error, "cancelled") {
		t.Errorf("error %q, want cancelled", r.Servers[0].Error)
	}
}

func TestReportJSON(t *testing.T) {
	a := startFake(t, "127.0.0.2", func(s *fakeServer) { s.mapped = ap(natIP + ":40000") })
	b := startFake(t, "127.0.0.3", func(s *fakeServer) { s.mapped = ap(natIP + ":40001") })
	r := checkOK(t, Options{Servers: []string{a.addr(), b.addr()}})
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"public_endpoint", "local_port", "mapping", "port_preserved", "udp_blocked", "servers", "verdict", "message"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON %s lacks %q", data, k)
		}
	}
	if got["mapping"] != "endpoint-dependent" || got["verdict"] != "fail" {
		t.Errorf("JSON mapping %v verdict %v, want endpoint-dependent fail", got["mapping"], got["verdict"])
	}
}

func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// Options.Retransmits and Options.LocalAddrs replace the defaults.
func TestCheckOptionsKnobs(t *testing.T) {
	dead := startFake(t, "127.0.0.3", func(s *fakeServer) { s.silent = true })
	asked := false
	_, err := Check(context.Background(), Options{
		Servers:     []string{dead.addr()},
		Timeout:     300 * time.Millisecond,
		Retransmits: []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond},
		LocalAddrs:  func() ([]netip.Addr, error) { asked = true; return nil, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := dead.requests.Load(); n != 4 {
		t.Errorf("dead server got %d requests, want 4 (one per Retransmits entry)", n)
	}
	if !asked {
		t.Error("Check did not use Options.LocalAddrs")
	}
}
