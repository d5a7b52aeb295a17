package winsvc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"office", true},
		{"wg0", true},
		{"a.b_c=d+e-f", true},
		{strings.Repeat("x", 32), true},
		{"", false},
		{strings.Repeat("x", 33), false},
		{"has space", false},
		{"dollar$", false},
		{"back\\slash", false},
		{".hidden", false},
		{"trailing.", false},
		{"CON", false},
		{"con", false},
		{"com1.conf", false},
		{"console", true},
		{"LPT9", false},
		{"ünï", false},
	}
	for _, tt := range tests {
		err := ValidName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "tunnel name") {
			t.Errorf("ValidName(%q) error %q does not say what is wrong", tt.name, err)
		}
	}
}

func TestServiceNameRoundTrip(t *testing.T) {
	for _, name := range []string{"office", "home-2", "a"} {
		svc, err := ServiceName(name)
		if err != nil {
			t.Fatalf("ServiceName(%q): %v", name, err)
		}
		if want := "WGPunchTunnel$" + name; svc != want {
			t.Errorf("ServiceName(%q) = %q, want %q", name, svc, want)
		}
		got, ok := TunnelOfService(svc)
		if !ok || got != name {
			t.Errorf("TunnelOfService(%q) = %q, %v; want %q, true", svc, got, ok, name)
		}
	}
	if _, err := ServiceName("bad name"); err == nil {
		t.Error("ServiceName accepted an invalid name")
	}
}

func TestTunnelOfService(t *testing.T) {
	tests := []struct {
		svc  string
		want string
		ok   bool
	}{
		{"WGPunchTunnel$office", "office", true},
		{"wgpunchtunnel$office", "office", true}, // the SCM ignores case
		{"WireGuardTunnel$office", "", false},    // WireGuard for Windows' own
		{"WGPunchTunnel$", "", false},
		{"WGPunchTunnel$bad name", "", false},
		{"Dnscache", "", false},
	}
	for _, tt := range tests {
		got, ok := TunnelOfService(tt.svc)
		if got != tt.want || ok != tt.ok {
			t.Errorf("TunnelOfService(%q) = %q, %v; want %q, %v", tt.svc, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSpecFor(t *testing.T) {
	l := Layout{Root: DefaultRoot(`C:\Program Files`)}
	got, err := SpecFor(l, `C:\Program Files\WG Punch\wgpunch.exe`, "office")
	if err != nil {
		t.Fatal(err)
	}
	path, _ := l.ConfigPath("office")
	want := ServiceSpec{
		Name:         "WGPunchTunnel$office",
		DisplayName:  "WG Punch Tunnel: office",
		Description:  `WireGuard tunnel "office" set up by WG Punch`,
		Dependencies: []string{"Nsi", "TcpIp"},
		Exe:          `C:\Program Files\WG Punch\wgpunch.exe`,
		Args:         []string{"/tunnelservice", path},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SpecFor (-want +got):\n%s", diff)
	}
	if _, err := SpecFor(l, "x.exe", "CON"); err == nil {
		t.Error("SpecFor accepted a reserved name")
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		args    []string
		want    Command
		ok      bool
		wantErr string
	}{
		{nil, Command{}, false, ""},
		{[]string{"status"}, Command{}, false, ""},
		{[]string{"--state-dir", "x", "up", "a"}, Command{}, false, ""},
		{[]string{"/tunnelservice", `C:\d\office.conf.dpapi`}, Command{FlagTunnelService, `C:\d\office.conf.dpapi`}, true, ""},
		{[]string{"/tunnelservice"}, Command{}, true, "usage"},
		{[]string{"/tunnelservice", `C:\d\office.txt`}, Command{}, true, "must end in"},
		{[]string{"/tunnelservice", `C:\d\CON.conf.dpapi`}, Command{}, true, "reserved"},
		{[]string{"/elevated", `C:\Temp\wgpunch-elevate-1`}, Command{FlagElevated, `C:\Temp\wgpunch-elevate-1`}, true, ""},
		{[]string{"/elevated", "a", "b"}, Command{}, true, "usage"},
		{[]string{"/uninstall-services"}, Command{FlagUninstallServices, ""}, true, ""},
		{[]string{"/uninstall-services", "x"}, Command{}, true, "usage"},
	}
	for _, tt := range tests {
		got, ok, err := ParseCommand(tt.args)
		if ok != tt.ok {
			t.Errorf("ParseCommand(%q) ok = %v, want %v", tt.args, ok, tt.ok)
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCommand(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCommand(%q): %v", tt.args, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseCommand(%q) (-want +got):\n%s", tt.args, diff)
		}
	}
}
