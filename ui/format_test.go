package ui

import (
	"strings"
	"testing"
	"time"

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
		// A carrier NAT alone is no reason: the mapping is.
		{&natcheck.Report{Verdict: natcheck.VerdictFail, CGNAT: true}, ToneRed, "cannot be made"},
		{&natcheck.Report{Verdict: natcheck.VerdictFail, UDPBlocked: true}, ToneRed, "UDP seems blocked"},
		{&natcheck.Report{Verdict: natcheck.VerdictWarning, Message: "custom words"}, ToneAmber, "custom words"},
	} {
		tone, head, msg := VerdictWords(tt.r)
		if tone != tt.tone || head == "" || !strings.Contains(msg, tt.msg) {
			t.Errorf("VerdictWords(%+v) = %v, %q, %q", tt.r, tone, head, msg)
		}
	}
	six := &natcheck.Report{Verdict: natcheck.VerdictOK, IPv4: natcheck.Family{Verdict: natcheck.VerdictFail}}
	if tone, head, _ := VerdictWords(six); tone != ToneGreen || !strings.Contains(head, "over IPv6") {
		t.Errorf("VerdictWords(IPv6 only) = %v, %q, want green, over IPv6", tone, head)
	}
}

// The check page says what each IP version allows, with the IPv6 verdict
// in words even when IPv4 cannot be punched.
func TestFamilyLines(t *testing.T) {
	r := &natcheck.Report{Verdict: natcheck.VerdictOK, PublicEndpoint: "203.0.113.5:40001", Mapping: natcheck.MappingEndpointDependent,
		IPv4: natcheck.Family{Verdict: natcheck.VerdictFail},
		IPv6: natcheck.IPv6Report{Verdict: natcheck.VerdictOK, PublicEndpoint: "[2001:db8::7]:51820", Message: "No NAT on IPv6."}}
	got := FamilyLines(r)
	want := "IPv4: cannot link directly. Public address 203.0.113.5:40001, router behaviour: endpoint-dependent.\nIPv6: can link directly. Address [2001:db8::7]:51820. No NAT on IPv6."
	if got != want {
		t.Errorf("FamilyLines:\n%q\nwant\n%q", got, want)
	}
	if got := FamilyLines(&natcheck.Report{Verdict: natcheck.VerdictOK, PublicEndpoint: "203.0.113.5:51820"}); !strings.Contains(got, "IPv4: can link directly") || !strings.Contains(got, "IPv6: not checked") {
		t.Errorf("an IPv4-only report: %q", got)
	}
}
