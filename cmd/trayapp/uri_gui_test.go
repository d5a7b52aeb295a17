//go:build !nogui

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/instance"
)

// A start with a wgpunch: link asks the running app, as a second start
// does, and ends.
func TestLinkStartAsksRunningApp(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()
	sock := filepath.Join(dir, "none.sock")
	state := filepath.Join(dir, "state")
	path, err := instance.Path("app", instanceKey(guiOptions{Socket: sock, StateDir: state}))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := instance.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := make(chan instance.Request, 4)
	go srv.Serve(func(r instance.Request) { got <- r })
	for _, tc := range []struct {
		arg  string
		want instance.Request
	}{
		{"wgpunch:wizard", instance.Request{Action: instance.ActionWizard}},
		{"wgpunch:show", instance.Request{Action: instance.ActionShow}},
		// No service to read the update from: the window opens.
		{"wgpunch:update?tunnel=office", instance.Request{Action: instance.ActionShow}},
	} {
		var out, errb bytes.Buffer
		if code := run([]string{"--socket", sock, "--state-dir", state, tc.arg}, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d, stderr %s", tc.arg, code, errb.String())
		}
		select {
		case r := <-got:
			if r != tc.want {
				t.Errorf("%s: the running app got %+v, want %+v", tc.arg, r, tc.want)
			}
		case <-time.After(5 * time.Second): // run returned after "ok": it is there already
			t.Fatalf("%s: the running app got nothing", tc.arg)
		}
	}
}
