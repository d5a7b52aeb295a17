package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Protector encrypts tunnel files for the user who runs WG Punch. On
// Windows it is DPAPI in the user's scope (protect_windows.go): the wg-quick
// text holds the tunnel's private key, and only this user on this machine
// can decrypt what DPAPI sealed. Elsewhere the store has none: the 0700
// directory is the protection.
type Protector interface {
	Protect(data []byte) ([]byte, error)
	Unprotect(data []byte) ([]byte, error)
}

// sealedMagic starts every sealed tunnel file, so a plain wg-quick file (an
// older version's, or one a user put there) is told apart and sealed on
// the next Open.
var sealedMagic = []byte("WGPUNCH-SEALED-1\n")

// Options configure OpenWith.
type Options struct {
	// Protector seals tunnel files; nil: plain files.
	Protector Protector
}

// OpenWith is Open with opts (Open uses this platform's Protector).
func OpenWith(dir string, opts Options) (*Store, error) {
	s, err := open(dir)
	if err != nil {
		return nil, err
	}
	s.protector = opts.Protector
	if err := s.sealPlainFiles(); err != nil {
		return nil, err
	}
	return s, nil
}

// seal is what a tunnel file holds for the wg-quick text data.
func (s *Store) seal(data []byte) ([]byte, error) {
	if s.protector == nil {
		return data, nil
	}
	b, err := s.protector.Protect(data)
	if err != nil {
		return nil, fmt.Errorf("encrypt the tunnel file: %w", err)
	}
	return append(bytes.Clone(sealedMagic), b...), nil
}

// unseal returns the wg-quick text of a tunnel file's contents.
func (s *Store) unseal(data []byte) ([]byte, error) {
	rest, sealed := bytes.CutPrefix(data, sealedMagic)
	if !sealed {
		return data, nil
	}
	if s.protector == nil {
		return nil, errors.New("the file is encrypted for Windows (DPAPI) and cannot be read here")
	}
	b, err := s.protector.Unprotect(rest)
	if err != nil {
		return nil, fmt.Errorf("decrypt the tunnel file (only the Windows user who made it can, on this computer): %w", err)
	}
	return b, nil
}

// sealPlainFiles seals every plain tunnel file once, when the store has a
// Protector. A file that does not parse is left for Load to report.
func (s *Store) sealPlainFiles() error {
	if s.protector == nil {
		return nil
	}
	names, err := s.List()
	if err != nil {
		return err
	}
	for _, name := range names {
		path, _ := s.Path(name)
		data, err := os.ReadFile(path)
		if err != nil || bytes.HasPrefix(data, sealedMagic) {
			continue
		}
		cfg, err := s.Load(name)
		if err != nil {
			continue
		}
		if err := s.Save(cfg); err != nil {
			return fmt.Errorf("encrypt tunnel %q: %w", name, err)
		}
	}
	return nil
}

// MigrateDir moves the state directory from old to dir once: when dir
// does not exist yet and old does. (On Windows WG Punch kept its tunnels in
// the roaming %APPDATA%\wgpunch, which domain profiles copy to servers; they
// now live in %LOCALAPPDATA%\wgpunch.) It reports whether it moved anything.
func MigrateDir(old, dir string) (bool, error) {
	if old == "" || strings.EqualFold(filepath.Clean(old), filepath.Clean(dir)) {
		return false, nil
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	fi, err := os.Lstat(old)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("move the tunnels from %s: %w", old, err)
	}
	if !fi.IsDir() {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), dirPerm); err != nil {
		return false, fmt.Errorf("move the tunnels to %s: %w", dir, err)
	}
	if err := os.Rename(old, dir); err != nil {
		return false, fmt.Errorf("move the tunnels from %s to %s: %w (move the folder by hand, or start WG Punch with --state-dir %s)", old, dir, err, old)
	}
	return true, nil
}
