package ui

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

func TestHumanBytes(t *testing.T) {
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanBytes(in); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(-d); return &x }
	for _, tt := range []struct {
		t    *time.Time
		want string
	}{
		{nil, "never"}, {at(12 * time.Second), "12 s ago"}, {at(3 * time.Minute), "3 min ago"}, {at(5 * time.Hour), "5 h ago"}, {at(-time.Second), "just now"},
	} {
		if got := Ago(now, tt.t); got != tt.want {
			t.Errorf("Ago = %q, want %q", got, tt.want)
		}
	}
	if got := coarseAgo(now, at(47*time.Second)); got != "40 s ago" {
		t.Errorf("coarseAgo(47 s) = %q", got)
	}
}

func TestVerdictWords(t *testing.T) {
	for _, tt := range []struct {
		r    *natcheck.Report
		tone Tone
		msg  string
	}{
		{&natcheck.Report{Verdict: natcheck.VerdictOK}, ToneGreen, "same public port"},
		{&natcheck.Report{Verdict: natcheck.VerdictFail, Mapping: natcheck.MappingEndpointDependent}, ToneRed, "symmetric NAT"},
		{&natcheck.Report{Verdict: natcheck.VerdictFail, CGNAT: true}, ToneRed, "CGNAT"},
		{&natcheck.Report{Verdict: natcheck.VerdictFail, UDPBlocked: true}, ToneRed, "UDP seems blocked"},
		{&natcheck.Report{Verdict: natcheck.VerdictWarning, Message: "custom words"}, ToneAmber, "custom words"},
	} {
		tone, head, msg := VerdictWords(tt.r)
		if tone != tt.tone || head == "" || !strings.Contains(msg, tt.msg) {
			t.Errorf("VerdictWords(%+v) = %v, %q, %q", tt.r, tone, head, msg)
		}
	}
}

func TestFilterLANs(t *testing.T) {
	up := net.FlagUp | net.FlagBroadcast
	p := netip.MustParsePrefix
	ifs := []IfaceAddrs{
		{Name: "lo", Flags: net.FlagUp | net.FlagLoopback, Addrs: []netip.Prefix{p("127.0.0.1/8")}},
		{Name: "eth0", Flags: up, Addrs: []netip.Prefix{p("192.168.1.23/24"), p("fe80::1/64"), p("169.254.3.4/16")}},
		{Name: "wlan0", Flags: up, Addrs: []netip.Prefix{p("192.168.1.40/24"), p("10.20.0.5/16")}},
		{Name: "wg0", Flags: up, Addrs: []netip.Prefix{p("10.77.12.1/24")}},
		{Name: "office", Flags: up, Addrs: []netip.Prefix{p("10.77.13.1/24")}},
		{Name: "ppp0", Flags: up | net.FlagPointToPoint, Addrs: []netip.Prefix{p("100.64.1.2/32")}},
		{Name: "eth1", Flags: net.FlagBroadcast, Addrs: []netip.Prefix{p("172.16.0.2/24")}},
		{Name: "docker0", Flags: up, Addrs: []netip.Prefix{p("172.17.0.1/16")}},
	}
	want := []LAN{{Prefix: "10.20.0.0/16", Iface: "wlan0"}, {Prefix: "192.168.1.0/24", Iface: "eth0"}}
	if diff := cmp.Diff(want, FilterLANs(ifs, []string{"office"})); diff != "" {
		t.Errorf("FilterLANs (-want +got):\n%s", diff)
	}
}
