package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenRemovesStaleTemps: a temporary file left by a crash between
// write and rename holds a private key; Open deletes it once it is old,
// but never a fresh one another process may be about to rename, and never
// anything else.
func TestOpenRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(newConfig(t, "wgp0")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	files := map[string]bool{ // name -> should survive
		".wgp0.conf.123456.tmp":  false,
		".settings.json.999.tmp": false,
		".wgp1.conf.777.tmp":     true, // fresh: maybe in flight
		"notes.tmp":              true, // not ours (no leading dot)
		".keep-me":               true,
		"wgp0.conf":              true,
	}
	for name, keep := range files {
		p := filepath.Join(dir, name)
		if name != "wgp0.conf" {
			if err := os.WriteFile(p, []byte("PrivateKey = secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if !keep || name == "notes.tmp" || name == ".keep-me" || name == "wgp0.conf" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	for name, keep := range files {
		_, err := os.Lstat(filepath.Join(dir, name))
		if exists := err == nil; exists != keep {
			t.Errorf("%s: exists = %v after Open, want %v", name, exists, keep)
		}
	}
	if _, err := s.Load("wgp0"); err != nil {
		t.Errorf("tunnel lost: %v", err)
	}
}
