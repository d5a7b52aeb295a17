package store

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestInstallID(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.InstallID()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("InstallID = %q, want 16 hex digits", id)
	}
	path := filepath.Join(dir, installIDFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != filePerm {
		t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), os.FileMode(filePerm))
	}
	// The same ID again, also from another Store on the directory.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, s2} {
		if again, err := st.InstallID(); err != nil || again != id {
			t.Errorf("InstallID again = %q, %v; want %q", again, err, id)
		}
	}
	// Another installation, another ID.
	other, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if oid, err := other.InstallID(); err != nil || oid == id {
		t.Errorf("InstallID of another directory = %q, %v; want a different ID than %q", oid, err, id)
	}
	// A file without a valid ID is replaced.
	if err := os.WriteFile(path, []byte("garbage\n"), filePerm); err != nil {
		t.Fatal(err)
	}
	fresh, err := s.InstallID()
	if err != nil || fresh == id || len(fresh) != 16 {
		t.Errorf("InstallID over garbage = %q, %v; want a new ID", fresh, err)
	}
	if again, err := s2.InstallID(); err != nil || again != fresh {
		t.Errorf("InstallID after replacement = %q, %v; want %q", again, err, fresh)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != installIDFile {
			t.Errorf("left in the state directory: %s", e.Name())
		}
	}
}
