package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

func TestCLISettings(t *testing.T) {
	s := newSide(t)
	r := s.ok("", "settings")
	if !strings.Contains(r.stdout, "built-in defaults") || !strings.Contains(r.stdout, natcheck.DefaultServers[0]) {
		t.Errorf("settings on a fresh state dir:\n%s", r.stdout)
	}

	r = s.ok("", "settings", "--stun", "192.0.2.1, stun.example.org:19302")
	want := "STUN servers (chosen; back to the defaults with: wgpunch settings --stun-default):\n  192.0.2.1:3478\n  stun.example.org:19302\n"
	if r.stdout != want {
		t.Errorf("settings --stun printed (-want +got):\n%s", cmp.Diff(want, r.stdout))
	}
	var set control.Settings
	if err := json.Unmarshal([]byte(s.ok("", "settings", "--json").stdout), &set); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(control.Settings{STUNServers: []string{"192.0.2.1:3478", "stun.example.org:19302"}, DefaultSTUNServers: natcheck.DefaultServers}, set); diff != "" {
		t.Errorf("settings --json (-want +got):\n%s", diff)
	}

	// Bad input: a clear error, exit 1 or 2, nothing changed.
	before := s.files()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--stun", "stun.example.org:70000"}, 1, `STUN server "stun.example.org:70000": port 70000 is out of range`},
		{[]string{"--stun", "2001:db8::1"}, 1, "brackets"},
		{[]string{"--stun", "a,b,c,d,e,f,g,h,i"}, 1, "at most 8"},
		{[]string{"--stun", ""}, 2, "--stun-default"},
		{[]string{"--stun", "a", "--stun-default"}, 2, "not both"},
		{[]string{"extra"}, 2, "too many arguments"},
	} {
		r := s.run("", append([]string{"settings"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("settings %q: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
	}
	if diff := cmp.Diff(before, s.files()); diff != "" {
		t.Errorf("refused settings changed files (-before +after):\n%s", diff)
	}

	// The daemon's group in settings.json survives; --stun-default resets.
	path := filepath.Join(s.dir, "settings.json")
	if err := os.WriteFile(path, []byte(`{"stun_servers":["192.0.2.5:3478"],"group":"staff"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.ok("", "settings", "--stun-default")
	if !strings.Contains(r.stdout, "built-in defaults") {
		t.Errorf("settings --stun-default printed:\n%s", r.stdout)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		STUN  []string `json:"stun_servers"`
		Group string   `json:"group"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.STUN) != 0 || raw.Group != "staff" {
		t.Errorf("settings.json after --stun-default: %s (%v)", data, err)
	}
}
