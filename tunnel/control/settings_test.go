package control_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

func TestNormalizeSTUNServers(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr string // substring; "" = no error
	}{
		{in: nil, want: nil},
		{in: []string{"", "  "}, want: nil},
		{in: []string{"stun.example.org"}, want: []string{"stun.example.org:3478"}},
		{in: []string{" stun.example.org:19302 "}, want: []string{"stun.example.org:19302"}},
		{in: []string{"192.0.2.1", "192.0.2.1:3478"}, want: []string{"192.0.2.1:3478"}},
		{in: []string{"[2001:db8::1]"}, want: []string{"[2001:db8::1]:3478"}},
		{in: []string{"[2001:db8::1]:5349"}, want: []string{"[2001:db8::1]:5349"}},
		{in: []string{"2001:db8::1"}, wantErr: "brackets"},
		{in: []string{"stun.example.org:0"}, wantErr: "1 to 65535"},
		{in: []string{"stun.example.org:65536"}, wantErr: "1 to 65535"},
		{in: []string{"stun.example.org:x"}, wantErr: "not a number"},
		{in: []string{"stun.example.org:"}, wantErr: "port is missing"},
		{in: []string{"bad_host!:3478"}, wantErr: `"bad_host!:3478"`},
		{in: []string{"a.example,b.example"}, wantErr: "one server per entry"},
		{in: []string{"stun:stun.example.org:3478"}, wantErr: "stun:stun.example.org:3478"},
		{in: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6", "1.1.1.7", "1.1.1.8", "1.1.1.9"}, wantErr: "at most 8"},
	}
	for _, tt := range tests {
		got, err := NormalizeSTUNServers(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidInput) {
				t.Errorf("NormalizeSTUNServers(%q) = %v, %v; want ErrInvalidInput containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("NormalizeSTUNServers(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("NormalizeSTUNServers(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestServiceSettings(t *testing.T) {
	e := NewEnv(t, false)
	// The daemon's group is kept through SetSettings.
	if err := e.St.SaveSettings(store.Settings{Group: "wgpunch"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Svc.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Settings{DefaultSTUNServers: natcheck.DefaultServers}, got); diff != "" {
		t.Errorf("fresh Settings (-want +got):\n%s", diff)
	}

	if err := e.Svc.SetSettings(ctx, Settings{STUNServers: []string{"192.0.2.1", "stun.example.org:5349"}, DefaultSTUNServers: []string{"ignored:1"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.1:3478", "stun.example.org:5349"}
	st, err := e.St.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Settings{STUNServers: want, Group: "wgpunch"}, st); diff != "" {
		t.Errorf("settings.json after SetSettings (-want +got):\n%s", diff)
	}
	// NAT checks use them.
	e.NATRep = &natcheck.Report{Verdict: natcheck.VerdictOK}
	if _, err := e.Svc.NATCheck(ctx, NATCheckRequest{Port: 40000}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, e.NATReq[len(e.NATReq)-1].Servers); diff != "" {
		t.Errorf("NAT check servers (-want +got):\n%s", diff)
	}

	// Bad input changes nothing.
	before := e.Snapshot()
	err = e.Svc.SetSettings(ctx, Settings{STUNServers: []string{"192.0.2.2", "stun.example.org:99999"}})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "stun.example.org:99999") {
		t.Errorf("SetSettings with a bad port: %v, want ErrInvalidInput naming the entry", err)
	}
	if diff := cmp.Diff(before, e.Snapshot()); diff != "" {
		t.Errorf("a refused SetSettings changed files (-before +after):\n%s", diff)
	}

	// Empty: back to the defaults, group still kept.
	if err := e.Svc.SetSettings(ctx, Settings{}); err != nil {
		t.Fatal(err)
	}
	got, err = e.Svc.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.STUNServers) != 0 {
		t.Errorf("after reset: STUN %v, want none", got.STUNServers)
	}
	if st, _ := e.St.LoadSettings(); st.Group != "wgpunch" {
		t.Errorf("reset lost the group: %+v", st)
	}
	if _, err := e.Svc.NATCheck(ctx, NATCheckRequest{Port: 40000}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(natcheck.DefaultServers, e.NATReq[len(e.NATReq)-1].Servers); diff != "" {
		t.Errorf("NAT check servers after reset (-want +got):\n%s", diff)
	}
}

// TestNATCheckSTUNForms: natcheck --stun (and invite/accept --stun) take
// the same forms as settings --stun: HOST alone means port 3478.
func TestNATCheckSTUNForms(t *testing.T) {
	e := NewEnv(t, false)
	e.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.1:51820"}
	if _, err := e.Svc.NATCheck(ctx, NATCheckRequest{STUN: []string{"stun.example.org", "[2001:db8::1]"}}); err != nil {
		t.Fatalf("NATCheck with bare hosts: %v", err)
	}
	if got, want := e.NATReq[len(e.NATReq)-1].Servers, []string{"stun.example.org:3478", "[2001:db8::1]:3478"}; !cmp.Equal(got, want) {
		t.Errorf("servers %v, want %v", got, want)
	}
	_, err := e.Svc.NATCheck(ctx, NATCheckRequest{STUN: []string{"no port:"}})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), `"no port:"`) {
		t.Errorf("bad server: %v, want ErrInvalidInput naming it", err)
	}
}
