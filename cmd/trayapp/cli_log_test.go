//go:build !windows

package main

import (
	"strings"
	"testing"
)

// "wgpunch log" exists everywhere; off Windows it says where the log is.
func TestLogCommand(t *testing.T) {
	s := newSide(t)
	r := s.run("", "log")
	if r.code == 0 || !strings.Contains(r.stderr, "journalctl -u wgpunch") {
		t.Errorf("wgpunch log: exit %d, stderr %q; want an error naming journalctl", r.code, r.stderr)
	}
	r = s.run("", "help", "log")
	if r.code != 0 || !strings.Contains(r.stdout, "administrator") || !strings.Contains(r.stdout, "--follow") {
		t.Errorf("wgpunch help log: exit %d, %q", r.code, r.stdout)
	}
}
