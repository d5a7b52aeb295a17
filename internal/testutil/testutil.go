// Package testutil holds the helpers every test package shares: waiting on
// a visible condition instead of sleeping, and skipping a test that needs
// root or a tool, with the Debian package that brings the tool.
//
// It is imported only from _test.go files.
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Poll is how often Eventually and WaitFor look at their condition.
const Poll = 20 * time.Millisecond

// WaitFor calls cond every interval (Poll when 0) until it reports true or
// timeout passes. It returns how long that took, or an error carrying the
// note cond gave last, so a failure says what was still wrong.
func WaitFor(timeout, interval time.Duration, cond func() (bool, string)) (time.Duration, error) {
	if interval <= 0 {
		interval = Poll
	}
	start := time.Now()
	for {
		ok, note := cond()
		if ok {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("not after %v: %s", timeout, note)
		}
		time.Sleep(interval)
	}
}

// Eventually fails t unless cond becomes true within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if _, err := WaitFor(timeout, 0, func() (bool, string) { return cond(), what }); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// RequireRoot skips t unless it runs as root; why says what needs it.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s", why)
	}
}

// RequireTool fails t when tool is not on PATH, naming the Debian package
// that brings it. `make test` installs every such package
// (scripts/deps.sh test), so a missing tool is a broken set-up, not a skip.
func RequireTool(t testing.TB, tool, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found: install Debian package %s (scripts/deps.sh test does)", tool, debianPackage)
	}
	return p
}
