package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// xorProtector stands in for DPAPI: it scrambles and marks the data.
type xorProtector struct{ fail bool }

func (p xorProtector) Protect(data []byte) ([]byte, error) {
	if p.fail {
		return nil, errors.New("key store unavailable")
	}
	out := append([]byte("XOR"), data...)
	for i := 3; i < len(out); i++ {
		out[i] ^= 0x5A
	}
	return out, nil
}

func (p xorProtector) Unprotect(data []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(data, []byte("XOR"))
	if !ok {
		return nil, errors.New("not ours")
	}
	out := bytes.Clone(rest)
	for i := range out {
		out[i] ^= 0x5A
	}
	return out, nil
}

// With a Protector (Windows: DPAPI for the user) the private key is never
// on disk in clear text, and the tunnel loads back.
func TestProtectedStore(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenWith(dir, Options{Protector: xorProtector{}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, "office")
	if err := s.Create(cfg); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "office.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if key := cfg.Interface.PrivateKey.String(); bytes.Contains(raw, []byte(key)) || bytes.Contains(raw, []byte("PrivateKey")) {
		t.Fatalf("the tunnel file holds the private key in clear text:\n%s", raw)
	}
	got, err := s.Load("office")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg, got, cmpOpts...); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
	if err := s.Rename("office", "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("shop"); err != nil {
		t.Errorf("load after rename: %v", err)
	}
	// Without the key (another OS, another user) the file says why.
	plain, err := OpenWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Load("shop"); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("loading a sealed file without the protector: %v", err)
	}
}

// A plain tunnel file (an older WG Punch's) is sealed once at Open.
func TestProtectedStoreSealsPlainFiles(t *testing.T) {
	dir := t.TempDir()
	old, err := OpenWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, "office")
	if err := old.Create(cfg); err != nil {
		t.Fatal(err)
	}
	s, err := OpenWith(dir, Options{Protector: xorProtector{}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "office.conf"))
	if !bytes.HasPrefix(raw, sealedMagic) || bytes.Contains(raw, []byte(cfg.Interface.PrivateKey.String())) {
		t.Errorf("plain file not sealed at Open:\n%s", raw)
	}
	if _, err := s.Load("office"); err != nil {
		t.Errorf("load after sealing: %v", err)
	}
	// A failing key store is an error, and the key stays where it was.
	if err := old.Save(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWith(dir, Options{Protector: xorProtector{fail: true}}); err == nil {
		t.Error("Open with a failing protector hid the failure")
	}
	if _, err := old.Load("office"); err != nil {
		t.Errorf("the plain file was damaged: %v", err)
	}
}

func TestMigrateDir(t *testing.T) {
	base := t.TempDir()
	roaming := filepath.Join(base, "Roaming", "wgpunch")
	local := filepath.Join(base, "Local", "wgpunch")
	if err := os.MkdirAll(roaming, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roaming, "office.conf"), []byte("[Interface]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	moved, err := MigrateDir(roaming, local)
	if err != nil || !moved {
		t.Fatalf("MigrateDir = %v, %v; want moved", moved, err)
	}
	if _, err := os.Stat(filepath.Join(local, "office.conf")); err != nil {
		t.Errorf("tunnel not in the new folder: %v", err)
	}
	if _, err := os.Stat(roaming); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the roaming folder (with the keys) is still there: %v", err)
	}
	// Once only: a new roaming folder does not replace the local one.
	if err := os.MkdirAll(roaming, 0o700); err != nil {
		t.Fatal(err)
	}
	if moved, err := MigrateDir(roaming, local); moved || err != nil {
		t.Errorf("second MigrateDir = %v, %v; want nothing done", moved, err)
	}
	if moved, err := MigrateDir(filepath.Join(base, "none"), filepath.Join(base, "new")); moved || err != nil {
		t.Errorf("MigrateDir without an old folder = %v, %v", moved, err)
	}
}
