package xvfbtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// mangle returns tok with one character changed such that Decode says
// KindMistyped (a checksum mismatch), as a typo would.
func mangle(t testing.TB, tok string) string {
	t.Helper()
	for i := len(tok) / 2; i < len(tok); i++ {
		for _, c := range "ABCDEFGHJKMNPQRSTVWXYZ0123456789" {
			if byte(c) == tok[i] {
				continue
			}
			m := tok[:i] + string(c) + tok[i+1:]
			var de *invite.DecodeError
			if _, err := invite.Decode(m); errors.As(err, &de) && de.Kind == invite.KindMistyped {
				return m
			}
		}
	}
	t.Fatalf("no one-character change of %q decodes as mistyped", tok)
	return ""
}

// TestWizardAnswerPaste drives the answering side of the wizard: a real
// invite from another machine's state dir is typed into the paste box (it
// shows who sent it), then the same invite with one character changed and
// with its end cut off (each shows what is wrong and what to do).
func TestWizardAnswerPaste(t *testing.T) {
	needTools(t)
	l := newLab(t)
	// The inviting machine: another state dir, no daemon, its endpoint given
	// so nothing is probed.
	other := filepath.Join(l.dir, "state-inviter")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	out := l.ns_(t, l.bin, "--state-dir", other, "--socket", filepath.Join(l.dir, "none.sock"),
		"invite", "office", "--port", "51820", "--endpoint", "198.51.100.7:51820", "--name", "Office PC")
	var tok string
	for _, line := range strings.Split(out, "\n") { // the token, among notes
		if strings.HasPrefix(line, "WGP1I-") {
			tok = strings.TrimSpace(line)
		}
	}
	if m, err := invite.Decode(tok); err != nil || m.Invite == nil {
		t.Fatalf("the CLI's invite does not decode: %v\n%q", err, tok)
	}
	mistyped := mangle(t, tok)
	cut := tok[:len(tok)*2/3]
	var de *invite.DecodeError
	if _, err := invite.Decode(cut); !errors.As(err, &de) || de.Kind != invite.KindTruncated {
		t.Fatalf("the cut invite decodes as %v, want a truncated one", err)
	}

	l.app(t)
	main := l.window(t, "WG Punch", 60*time.Second)
	l.key(t, main, "ctrl+n")
	wiz := l.window(t, "Link another computer", 10*time.Second)
	// Tab, Tab to the second choice, Space: "Answer an invite"; Alt+N: Next.
	l.key(t, wiz, "Tab", "Tab", "space", "alt+n")
	l.settle(t, wiz, settleLimit)

	// The paste box has the focus.
	typeInto := func(s string) {
		t.Helper()
		l.ns_(t, "xdotool", "windowfocus", "--sync", wiz)
		l.ns_(t, "xdotool", "key", "--clearmodifiers", "ctrl+a")
		l.ns_(t, "xdotool", "type", "--delay", "4", s)
		l.settle(t, wiz, settleLimit) // the answer is checked as it is typed
	}
	typeInto(tok)
	l.shotWindow(t, wiz, "wizard-answer-invite-pasted")
	typeInto(mistyped)
	l.shotWindow(t, wiz, "wizard-answer-invite-mistyped")
	typeInto(cut)
	l.shotWindow(t, wiz, "wizard-answer-invite-cut-off")
}
