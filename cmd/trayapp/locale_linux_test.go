package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/ipc"
)

// localeCases are the locale environments TestQuietLocale runs the
// commands under: LANG unset, C, C.UTF-8, POSIX and en_US.UTF-8, and the
// same through LC_ALL (which wins over LANG).
var localeCases = []struct {
	name string
	env  []string
}{
	{"unset", nil},
	{"LANG=C", []string{"LANG=C"}},
	{"LANG=C.UTF-8", []string{"LANG=C.UTF-8"}},
	{"LANG=POSIX", []string{"LANG=POSIX"}},
	{"LANG=en_US.UTF-8", []string{"LANG=en_US.UTF-8"}},
	{"LC_ALL=C", []string{"LC_ALL=C", "LANG=en_US.UTF-8"}},
	{"LC_ALL=C.UTF-8", []string{"LC_ALL=C.UTF-8", "LANG=en_US.UTF-8"}},
	{"LC_ALL=POSIX", []string{"LC_ALL=POSIX"}},
	{"LC_ALL=en_US.UTF-8", []string{"LC_ALL=en_US.UTF-8", "LANG=C.UTF-8"}},
}

// localeEnv is the test's environment without any locale variable, plus env.
func localeEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "LANG" || name == "LANGUAGE" || strings.HasPrefix(name, "LC_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

var (
	guiBinOnce sync.Once
	guiBinPath string
	guiBinErr  error
)

// guiBin returns WGPUNCH_BIN or builds the GUI-capable binary (cgo, Fyne
// linked) once: the -tags nogui binary the other tests use does not link
// Fyne, so its inits would prove nothing.
func guiBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("WGPUNCH_BIN"); b != "" {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("WGPUNCH_BIN: %v (make build makes it)", err)
		}
		return b
	}
	testutil.RequireTool(t, "gcc", "gcc")
	guiBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wgpunch-locale-bin-")
		if err != nil {
			guiBinErr = err
			return
		}
		guiBinPath = filepath.Join(dir, "wgpunch")
		cmd := exec.Command("go", "build", "-o", guiBinPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			guiBinErr = fmt.Errorf("go build ./cmd/trayapp (cgo, Fyne): %v\n%s", err, out)
		}
	})
	if guiBinErr != nil {
		t.Fatal(guiBinErr)
	}
	return guiBinPath
}

// checkOwnLines fails t unless every line of stderr is one WG Punch
// writes itself: Fyne (or a library under it) must say nothing.
func checkOwnLines(t *testing.T, what, stderr string, own ...string) {
	t.Helper()
	if strings.Contains(stderr, "Fyne") {
		t.Errorf("%s: stderr mentions Fyne:\n%s", what, stderr)
		return
	}
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if line == "" {
			continue
		}
		mine := false
		for _, p := range own {
			mine = mine || strings.HasPrefix(line, p)
		}
		if !mine {
			t.Errorf("%s: stderr line not WG Punch's own: %q\nall of stderr:\n%s", what, line, stderr)
		}
	}
}

// TestQuietLocale runs CLI commands of the GUI-capable binary under each
// locale environment: stderr holds only WG Punch's own lines (issue 9:
// LANG=C.UTF-8 made Fyne's init print "Error parsing user locale C").
func TestQuietLocale(t *testing.T) {
	bin := guiBin(t)
	commands := [][]string{{"version"}, {"list"}, {"status"}, {"status", "--json"}, {"help"}, {"settings"}, {"settings", "--json"}}
	for _, lc := range localeCases {
		t.Run(lc.name, func(t *testing.T) {
			d := t.TempDir()
			for _, args := range commands {
				full := append([]string{"--state-dir", filepath.Join(d, "state"), "--socket", filepath.Join(d, "none.sock")}, args...)
				cmd := exec.Command(bin, full...)
				cmd.Env = localeEnv(lc.env)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("wgpunch %v: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
				}
				checkOwnLines(t, fmt.Sprintf("wgpunch %v", args), stderr.String(), "note: ")
			}
		})
	}
}

// TestQuietLocaleDaemon starts the daemon of the GUI-capable binary (in a
// network namespace of its own, on a temporary state directory and socket)
// under each locale environment and stops it: its log holds only its own
// "wgpunch daemon:" lines.
func TestQuietLocaleDaemon(t *testing.T) {
	testutil.RequireRoot(t, "the daemon runs as root")
	bin := guiBin(t)
	for _, lc := range localeCases {
		t.Run(lc.name, func(t *testing.T) {
			d := t.TempDir()
			sock := filepath.Join(d, "d.sock")
			cmd := exec.Command(bin, "--state-dir", filepath.Join(d, "state"), "--socket", sock, "daemon", "--no-lan")
			cmd.Env = localeEnv(lc.env)
			// A network namespace of its own: the daemon touches no interface here.
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
			// A file, not a buffer: the daemon writes it while the test waits.
			stderr, err := os.Create(filepath.Join(d, "daemon.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			cmd.Stderr = stderr
			log := func() string {
				b, _ := os.ReadFile(stderr.Name())
				return string(b)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			testutil.Eventually(t, 10*time.Second, "the daemon answers on its socket", func() bool {
				c, err := ipc.Dial(sock)
				if err != nil {
					return false
				}
				c.Close()
				return true
			})
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("daemon: %v", err)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("daemon did not stop on SIGTERM; log:\n%s", log())
			}
			checkOwnLines(t, "wgpunch daemon", log(), "wgpunch daemon: ")
		})
	}
}
