//go:build nogui

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// A good link is a GUI start (here runGUI's "built without GUI" on
// os.Stderr, exit 2), not an unknown command or a refused link.
func TestLinkStartIsGUIStart(t *testing.T) {
	dir := t.TempDir()
	for _, arg := range []string{"wgpunch:show", "wgpunch:wizard", "wgpunch:update?tunnel=office"} {
		var out, errb bytes.Buffer
		code := run([]string{"--socket", filepath.Join(dir, "none.sock"), "--state-dir", filepath.Join(dir, "state"), arg}, strings.NewReader(""), &out, &errb)
		if e := errb.String(); code != 2 || strings.Contains(e, "unknown command") || strings.Contains(e, "link") {
			t.Errorf("%s: exit %d, stderr %q; want the GUI start", arg, code, errb.String())
		}
	}
}
