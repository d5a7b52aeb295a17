//go:build !nogui

package main

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/instance"
)

// A window process that ended is started again on the next open, at once.
// (The race this guards, an open between the window's exit and its
// reaping, is what TestTrayInPanel's reopen ran into; it is not forced here.)
func TestWindowProcRestarts(t *testing.T) {
	exe, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	w := &windowProc{exe: exe, sock: filepath.Join(t.TempDir(), "window.sock")}
	ended := make(chan struct{}, 4)
	w.exited = func() { ended <- struct{}{} }
	show := instance.Request{Action: instance.ActionShow}
	for i := 0; i < 3; i++ {
		start := time.Now()
		w.open(show)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("open %d took %v", i, d)
		}
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatalf("window process %d never ended", i)
		}
	}
	if w.running() {
		t.Error("running after the window process ended")
	}
}
