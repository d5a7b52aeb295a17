package lanpeers

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
)

// roundTrip packs and unpacks m as it would travel.
func roundTrip(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return out
}

func TestAnnounceRoundTrip(t *testing.T) {
	tunnels := []LocalTunnel{{Name: "home", Port: 51820}, {Name: "a.b_c=d+e", Port: 51821}}
	host := "Jane's Laptop (2)"
	m := roundTrip(t, announceMsg("abcd1234", "", host, tunnels, []netip.Addr{netip.MustParseAddr("192.168.1.5")}, 90*time.Second))
	got := parseResponse(m)
	want := []parsedRecord{
		{record{ID: "abcd1234", Host: host, Tunnel: "home", Port: 51820}, 90 * time.Second},
		{record{ID: "abcd1234", Host: host, Tunnel: "a.b_c=d+e", Port: 51821}, 90 * time.Second},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(parsedRecord{})); diff != "" {
		t.Errorf("parseResponse (-want +got):\n%s", diff)
	}
	// Standard DNS-SD shape: PTR from the service to each instance, SRV with the port.
	var ptrs, srvs, as int
	for _, rr := range append(m.Answer, m.Extra...) {
		switch r := rr.(type) {
		case *dns.PTR:
			ptrs++
			if r.Hdr.Name != "_wgpunch._udp.local." {
				t.Errorf("PTR owner %q", r.Hdr.Name)
			}
		case *dns.SRV:
			srvs++
			if r.Port != 51820 && r.Port != 51821 {
				t.Errorf("SRV port %d", r.Port)
			}
		case *dns.A:
			as++
		}
	}
	if ptrs != 2 || srvs != 2 || as != 1 {
		t.Errorf("got %d PTR, %d SRV, %d A records; want 2, 2, 1", ptrs, srvs, as)
	}
	// Goodbye: TTL 0.
	for _, r := range parseResponse(roundTrip(t, announceMsg("abcd1234", "", host, tunnels, nil, 0))) {
		if r.TTL != 0 {
			t.Errorf("goodbye TTL %v", r.TTL)
		}
	}
}

func TestParseRejects(t *testing.T) {
	txt := func(name string, kv ...string) *dns.Msg {
		m := new(dns.Msg)
		m.Response = true
		m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: kv}}
		return roundTrip(t, m)
	}
	tests := []struct {
		name string
		m    *dns.Msg
	}{
		{"other service", txt("x._other._udp.local.", "id=1", "tunnel=t", "port=1")},
		{"no id", txt("x._wgpunch._udp.local.", "tunnel=t", "port=1")},
		{"no tunnel", txt("x._wgpunch._udp.local.", "id=1", "port=1")},
		{"port 0", txt("x._wgpunch._udp.local.", "id=1", "tunnel=t", "port=0")},
		{"port too big", txt("x._wgpunch._udp.local.", "id=1", "tunnel=t", "port=65536")},
		{"a query", queryMsg()},
	}
	for _, tt := range tests {
		if got := parseResponse(tt.m); len(got) != 0 {
			t.Errorf("%s: parsed %+v, want nothing", tt.name, got)
		}
	}
	if !asksForUs(roundTrip(t, queryMsg())) {
		t.Error("asksForUs(queryMsg()) = false")
	}
}

func TestHandle(t *testing.T) {
	d := &Discovery{id: "me", peers: map[string]Announcement{}, expiry: map[string]time.Time{},
		opts: Options{Logf: t.Logf}}
	src := netip.MustParseAddrPort("192.168.1.7:5353")
	now := time.Now()
	d.handle(roundTrip(t, announceMsg("me", "", "self", []LocalTunnel{{Name: "mine", Port: 51820}}, nil, time.Minute)), src, now)
	d.handle(roundTrip(t, announceMsg("other", "", "laptop", []LocalTunnel{{Name: "b", Port: 51822}, {Name: "a", Port: 51821}}, nil, time.Minute)), src, now)
	d.handle(roundTrip(t, announceMsg("short", "", "phone", []LocalTunnel{{Name: "x", Port: 51830}}, nil, time.Second)), src, now.Add(-2*time.Second))
	want := []Announcement{
		{Host: "laptop", Addr: src.Addr(), Tunnel: "a", Port: 51821, Seen: now},
		{Host: "laptop", Addr: src.Addr(), Tunnel: "b", Port: 51822, Seen: now},
	}
	if diff := cmp.Diff(want, d.Peers(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Peers (-want +got):\n%s", diff)
	}
	// A port change replaces, a goodbye removes.
	later := now.Add(time.Second)
	d.handle(roundTrip(t, announceMsg("other", "", "laptop", []LocalTunnel{{Name: "a", Port: 40000}}, nil, time.Minute)), src, later)
	d.handle(roundTrip(t, announceMsg("other", "", "laptop", []LocalTunnel{{Name: "b", Port: 51822}}, nil, 0)), src, later)
	want = []Announcement{{Host: "laptop", Addr: src.Addr(), Tunnel: "a", Port: 40000, Seen: later}}
	if diff := cmp.Diff(want, d.Peers(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Peers after update and goodbye (-want +got):\n%s", diff)
	}
}

func TestSafeLabel(t *testing.T) {
	for in, want := range map[string]string{"": "x", "ab.c d": "ab-c-d", "Zz09-": "Zz09-", "ééé": "---"} {
		if got := safeLabel(in, 30); got != want {
			t.Errorf("safeLabel(%q) = %q, want %q", in, got, want)
		}
	}
	if got := safeLabel("abcdefghij", 4); got != "abcd" {
		t.Errorf("safeLabel cut = %q, want abcd", got)
	}
}

func FuzzHandle(f *testing.F) {
	for _, m := range []*dns.Msg{queryMsg(), announceMsg("abc", "", "h", []LocalTunnel{{Name: "t", Port: 1}}, nil, time.Minute)} {
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil {
			return
		}
		d := &Discovery{id: "me", queryID: 1, peers: map[string]Announcement{}, expiry: map[string]time.Time{},
			opts: Options{Logf: func(string, ...any) {}}}
		d.handle(m, netip.MustParseAddrPort("192.168.1.7:5353"), time.Now())
		for _, a := range d.Peers() {
			if a.Port == 0 || a.Tunnel == "" {
				t.Errorf("accepted incomplete announcement %+v", a)
			}
		}
	})
}

// The installation ID travels in install=; without one the TXT record is
// the old one, and an old announcement parses with Install "".
func TestAnnounceInstall(t *testing.T) {
	tunnels := []LocalTunnel{{Name: "home", Port: 51820}}
	got := parseResponse(roundTrip(t, announceMsg("abcd1234", "0123456789abcdef", "raspberrypi", tunnels, nil, time.Minute)))
	want := []parsedRecord{{record{ID: "abcd1234", Install: "0123456789abcdef", Host: "raspberrypi", Tunnel: "home", Port: 51820}, time.Minute}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(parsedRecord{})); diff != "" {
		t.Errorf("parseResponse with install (-want +got):\n%s", diff)
	}
	var old []string
	for _, rr := range announceMsg("abcd1234", "", "raspberrypi", tunnels, nil, time.Minute).Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			old = txt.Txt
		}
	}
	if diff := cmp.Diff([]string{"v=1", "id=abcd1234", "host=raspberrypi", "tunnel=home", "port=51820"}, old); diff != "" {
		t.Errorf("TXT without install (-want +got):\n%s", diff)
	}

	d := &Discovery{id: "me", peers: map[string]Announcement{}, expiry: map[string]time.Time{}, opts: Options{Logf: t.Logf}}
	src := netip.MustParseAddrPort("192.168.1.8:5353")
	now := time.Now()
	d.handle(roundTrip(t, announceMsg("other", "0123456789abcdef", "raspberrypi", tunnels, nil, time.Minute)), src, now)
	wantPeers := []Announcement{{Host: "raspberrypi", Install: "0123456789abcdef", Addr: src.Addr(), Tunnel: "home", Port: 51820, Seen: now}}
	if diff := cmp.Diff(wantPeers, d.Peers(), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Peers (-want +got):\n%s", diff)
	}
}

func TestSelfOwns(t *testing.T) {
	self := Self{Install: "aaaa", Host: "raspberrypi"}
	tests := []struct {
		name string
		self Self
		a    Announcement
		want bool
	}{
		{"same ID", self, Announcement{Install: "aaaa", Host: "raspberrypi"}, true},
		{"same ID, other name", self, Announcement{Install: "aaaa", Host: "renamed"}, true},
		{"same name, other ID", self, Announcement{Install: "bbbb", Host: "raspberrypi"}, false},
		{"older version, same name", self, Announcement{Host: "raspberrypi"}, true},
		{"older version, other name", self, Announcement{Host: "laptop"}, false},
		{"no ID here, same name", Self{Host: "raspberrypi"}, Announcement{Install: "bbbb", Host: "raspberrypi"}, true},
		{"no ID here, other name", Self{Host: "raspberrypi"}, Announcement{Install: "bbbb", Host: "laptop"}, false},
	}
	for _, tt := range tests {
		if got := tt.self.Owns(tt.a); got != tt.want {
			t.Errorf("%s: %+v.Owns(%+v) = %v, want %v", tt.name, tt.self, tt.a, got, tt.want)
		}
	}
}
