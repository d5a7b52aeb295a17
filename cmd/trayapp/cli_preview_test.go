package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// before fails unless each of marks appears in text, in that order.
func before(t *testing.T, text string, marks ...string) {
	t.Helper()
	at := 0
	for _, m := range marks {
		i := strings.Index(text[at:], m)
		if i < 0 {
			t.Errorf("%q missing or out of order (want %q in that order) in:\n%s", m, marks, text)
			return
		}
		at += i + len(m)
	}
}

// TestAcceptShowsBeforeTaking: off a terminal (a script) accept asks
// nothing, but still says what the link routes and shares before the line
// that says it was saved; for a reply the safety code comes before too.
func TestAcceptShowsBeforeTaking(t *testing.T) {
	a, b := newSide(t), newSide(t)
	inv := strings.TrimSpace(a.ok("", "invite", "home", "--endpoint", "127.0.0.1:51820", "--lan", "10.20.0.0/24").stdout)
	acc := b.ok("", "accept", "work", inv, "--endpoint", "127.0.0.1:51821", "--lan", "10.30.0.0/24")
	before(t, acc.stderr, "This invite from ", "This link sends ", "10.20.0.0/24", "your shared 10.30.0.0/24", "The safety code comes with the reply", "Tunnel work created", "Safety code: ")
	if strings.Contains(acc.stderr, "Accept?") {
		t.Errorf("accept asked off a terminal:\n%s", acc.stderr)
	}
	rep := a.ok(acc.stdout, "accept", "home", "-")
	before(t, rep.stderr, "This reply from ", "This link sends ", "Safety code: "+safetyCode(t, acc.stderr), "added to tunnel home")
	if n := strings.Count(rep.stderr, "Safety code: "); n != 1 {
		t.Errorf("the reply's safety code printed %d times, want once (before):\n%s", n, rep.stderr)
	}
}

// acceptOnTTY runs accept in process with stdin as a terminal holding
// answer; it returns stdout, stderr and the exit code.
func acceptOnTTY(t *testing.T, s *side, answer string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	c := newCLI(strings.NewReader(answer), &out, &errb)
	c.isTTY = func(io.Reader) bool { return true }
	code := c.main(append([]string{"--state-dir", s.dir, "--socket", s.sock, "accept"}, args...))
	return result{out.String(), errb.String(), code}
}

// TestAcceptAsksOnTerminal: on a terminal accept shows the routing sentence
// (and for a reply the safety code), then asks "Accept? [y/N]"; "n" (or
// nothing) saves nothing, "y" accepts, --yes and -y do not ask.
func TestAcceptAsksOnTerminal(t *testing.T) {
	a, b := newSide(t), newSide(t)
	inv := strings.TrimSpace(a.ok("", "invite", "home", "--endpoint", "127.0.0.1:51820").stdout)
	for _, ans := range []string{"n\n", "\n", "", "no\n"} {
		r := acceptOnTTY(t, b, ans, "work", inv, "--endpoint", "127.0.0.1:51821")
		if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "nothing was accepted or saved") {
			t.Errorf("answer %q: exit %d, stdout %q, stderr:\n%s", ans, r.code, r.stdout, r.stderr)
		}
		before(t, r.stderr, "This link sends ", "Accept? [y/N] ")
		if f := b.files(); len(f) != 0 {
			t.Errorf("answer %q saved %v", ans, f)
		}
	}
	r := acceptOnTTY(t, b, "y\n", "work", inv, "--endpoint", "127.0.0.1:51821")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "WGP") {
		t.Fatalf("answer y: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	before(t, r.stderr, "This link sends ", "Accept? [y/N] ", "Tunnel work created")

	// The reply on the inviter's side: the code is shown before the question.
	reply := strings.TrimSpace(r.stdout)
	was := a.files()
	r2 := acceptOnTTY(t, a, "n\n", "home", reply)
	before(t, r2.stderr, "This reply from ", "Safety code: "+safetyCode(t, r.stderr), "Accept? [y/N] ")
	if d := cmp.Diff(was, a.files()); r2.code == 0 || d != "" {
		t.Errorf("reply answered n: exit %d, files changed (-before +after):\n%s", r2.code, d)
	}
	for _, flag := range []string{"--yes", "-y"} {
		c := newSide(t)
		r := acceptOnTTY(t, c, "", "work", inv, "--endpoint", "127.0.0.1:51822", flag)
		if r.code != 0 || strings.Contains(r.stderr, "Accept?") {
			t.Errorf("%s: exit %d, stderr:\n%s", flag, r.code, r.stderr)
		}
		before(t, r.stderr, "This link sends ", "Tunnel work created")
	}
}

// TestAcceptOnPseudoTerminal: the real binary on a pseudo-terminal (made
// by util-linux script) asks, and answering n saves nothing.
func TestAcceptOnPseudoTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("no script(1) to make a pseudo-terminal")
	}
	a, b := newSide(t), newSide(t)
	inv := strings.TrimSpace(a.ok("", "invite", "home", "--endpoint", "127.0.0.1:51820").stdout)
	line := strings.Join([]string{wgpunchBin, "--state-dir", b.dir, "--socket", b.sock, "accept", "work", inv, "--endpoint", "127.0.0.1:51821"}, " ")
	cmd := exec.Command("script", "-qec", line, "/dev/null")
	cmd.Stdin = strings.NewReader("n\n")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("accept answered n exited 0")
	}
	before(t, string(out), "This link sends ", "Accept? [y/N] ", "nothing was accepted or saved")
	if f := b.files(); len(f) != 0 {
		t.Errorf("answer n on a terminal saved %v", f)
	}
}
