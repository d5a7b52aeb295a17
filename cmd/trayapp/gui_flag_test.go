package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --tray belongs to the GUI: with a command it is refused, before the
// command runs.
func TestTrayFlagIsGUIOnly(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	sock := filepath.Join(dir, "none.sock")
	tests := []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{[]string{"--tray", "list"}, 2, "", `--tray only applies to the GUI (no command), not to "list"`},
		{[]string{"--state-dir", state, "--socket", sock, "--tray", "invite", "x"}, 2, "", "--tray only applies to the GUI"},
		{[]string{"--tray", "--version"}, 0, "wgpunch ", ""},
		{[]string{"--help"}, 0, "--tray            GUI only", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &out, &errb)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q", code, tt.code, out.String(), errb.String(), tt.stdout, tt.stderr)
			}
		})
	}
	// The refused invite did not run: it would have made the state dir.
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("the state dir exists after a refused command (%v)", err)
	}
}
