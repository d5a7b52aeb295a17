package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/tunnel/control"
)

func TestLinkRequest(t *testing.T) {
	upd := func(peer, line string) control.Warning {
		return control.Warning{Code: "public-address-changed", Peer: peer, Update: line}
	}
	rep := &control.Report{Tunnels: []control.TunnelStatus{
		{Name: "office", Warnings: []control.Warning{{Code: "nat-fail"}, upd("Bob", "WGP1U-bob")}},
		{Name: "two", Warnings: []control.Warning{upd("A", "WGP1U-a"), upd("B", "WGP1U-b")}},
		{Name: "quiet"},
	}}
	show := instance.Request{Action: instance.ActionShow}
	for _, tc := range []struct {
		name   string
		req    instance.Request
		tunnel string
		rep    *control.Report
		want   instance.Request
	}{
		{"show stays", show, "", rep, show},
		{"wizard stays", instance.Request{Action: instance.ActionWizard}, "", nil, instance.Request{Action: instance.ActionWizard}},
		{"the one update", instance.Request{Action: instance.ActionUpdate}, "office", rep,
			instance.Request{Action: instance.ActionUpdate, Peer: "Bob", Update: "WGP1U-bob"}},
		{"two updates: the window lists them", instance.Request{Action: instance.ActionUpdate}, "two", rep, show},
		{"no update waiting", instance.Request{Action: instance.ActionUpdate}, "quiet", rep, show},
		{"no such tunnel", instance.Request{Action: instance.ActionUpdate}, "gone", rep, show},
		{"no service", instance.Request{Action: instance.ActionUpdate}, "office", nil, show},
	} {
		if got := linkRequest(tc.req, tc.tunnel, tc.rep); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// A start with a refused link says so and starts nothing; a good one is a
// GUI start (here the nogui build's message), not an unknown command.
func TestLinkStartArgs(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "none.sock")
	state := filepath.Join(dir, "state")
	for _, tc := range []struct {
		arg  string
		code int
		want string
	}{
		{"wgpunch:quit", 2, `does not understand the link "wgpunch:quit"`},
		{"wgpunch:update?tunnel=office&update=WGP1U-x", 2, "does not understand the link"},
		{"wgpunch://evil.example/", 2, "does not understand the link"},
		{"wgpunch:show --state-dir C:\\evil", 2, "does not understand the link"}, // one argument with spaces

	} {
		var out, errb bytes.Buffer
		code := run([]string{"--socket", sock, "--state-dir", state, tc.arg}, strings.NewReader(""), &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) || strings.Contains(errb.String(), "unknown command") {
			t.Errorf("%s: exit %d (want %d), stderr %q; want %q", tc.arg, code, tc.code, errb.String(), tc.want)
		}
	}
	// A link with arguments after it (a quote slipped into the link) is
	// refused whole, not read as a command.
	var out, errb bytes.Buffer
	code := run([]string{"--socket", sock, "--state-dir", state, "wgpunch:show", "--state-dir", `C:\evil`}, strings.NewReader(""), &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "a wgpunch: link comes alone") {
		t.Errorf("link with arguments: exit %d, stderr %q", code, errb.String())
	}
}
