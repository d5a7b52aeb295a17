package xvfbtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRootGUIRunsTunnelsInProcess: as root with no daemon on its socket, the
// GUI runs tunnels itself. A tunnel that was up (in the state directory's
// up-set) comes up when the window starts, and goes down when it quits, but
// stays in the up-set so the next start, or the daemon, brings it back.
func TestRootGUIRunsTunnelsInProcess(t *testing.T) {
	l := newLab(t)
	l.cli(t, "invite", "solo", "--port", "51961", "--endpoint", "127.0.0.1:51961")
	upSet := filepath.Join(l.stateDir, "up.json")
	b, _ := json.Marshal([]string{"solo"})
	if err := os.WriteFile(upSet, b, 0o600); err != nil {
		t.Fatal(err)
	}
	linkUp := func() bool { return l.nsCmdIn(l.ns, "ip", "link", "show", "solo").Run() == nil }
	if linkUp() {
		t.Fatal("interface solo exists before the GUI started")
	}

	gui := l.app(t)
	l.window(t, "WG Punch", 60*time.Second)
	l.waitFor(t, "the GUI to bring tunnel solo up in-process", 20*time.Second, linkUp)
	out, err := l.nsCmdIn(l.ns, "wg", "show", "solo", "listen-port").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "51961" {
		t.Fatalf("wg show solo listen-port = %q, %v; want 51961", out, err)
	}

	// Quit (SIGTERM, as a session logout does): the tunnel goes down with
	// the GUI, and the up-set still names it.
	gui.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- gui.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the GUI did not quit on SIGINT within 15 s")
	}
	l.waitFor(t, "interface solo to go away after the GUI quit", 10*time.Second, func() bool { return !linkUp() })
	b, err = os.ReadFile(upSet)
	if err != nil || !strings.Contains(string(b), `"solo"`) {
		t.Fatalf("up.json after quitting = %s, %v; want it to still name solo", b, err)
	}
}
