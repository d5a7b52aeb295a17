// Package store keeps WG Punch's state directory: one wg-quick file per
// tunnel (<name>.conf), settings.json and up.json. Every write is atomic
// (temporary file in the same directory, fsync, rename, fsync of the
// directory), files are 0600 and the directory 0700, so a crash or a bad
// input never leaves a half-written or lost tunnel behind.
//
// Between processes, Lock (an advisory lock on DIR/.lock) keeps
// read-modify-writes one at a time: the daemon, the command line and the
// tray app may all work on one directory.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

var (
	// ErrNotFound: no tunnel by that name.
	ErrNotFound = errors.New("tunnel not found")
	// ErrExists: a tunnel by that name already exists.
	ErrExists = errors.New("tunnel already exists")
)

const (
	confExt      = ".conf"
	settingsFile = "settings.json"
	upFile       = "up.json"
	dirPerm      = 0o700
	filePerm     = 0o600
)

// Store is a state directory. Its methods are safe for concurrent use by
// one process.
type Store struct {
	dir       string
	protector Protector // nil: plain tunnel files
	mu        sync.Mutex
	role      string       // SetRole
	w         atomicWriter // every write of the store; tests inject faults
}

// Open opens (creating it if needed) the state directory dir. The directory
// is made 0700 if it is more open than that, and any tunnel file readable by
// others is made 0600. On Linux, a directory owned by another user is
// refused: whoever owns it could swap tunnel files. On Windows tunnel files
// are DPAPI-encrypted for the user (plain ones are encrypted at Open) and
// the default directory moves out of the roaming profile once
// (MigrateDir).
func Open(dir string) (*Store, error) {
	return OpenWith(dir, Options{Protector: platformProtector()})
}

func open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open state directory: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open state directory %q: %w", dir, err)
	}
	if old := legacyDir(); old != "" && abs == DefaultDir() {
		if _, err := MigrateDir(old, abs); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("create state directory %q: %w", abs, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open state directory %q: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("state directory %q is not a directory: remove it or choose another --state-dir", abs)
	}
	if err := checkOwner(abs, fi); err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(abs, dirPerm); err != nil {
			return nil, fmt.Errorf("state directory %q is accessible by other users and cannot be made private: %w", abs, err)
		}
	}
	s := &Store{dir: abs}
	if err := s.tightenFiles(); err != nil {
		return nil, err
	}
	s.removeStaleTemps(time.Now())
	return s, nil
}

// tightenFiles makes tunnel and settings files 0600.
func (s *Store) tightenFiles() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read state directory %q: %w", s.dir, err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(n, confExt) || n == settingsFile || n == upFile) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(filepath.Join(s.dir, n), filePerm); err != nil {
				return fmt.Errorf("make %q private: %w", filepath.Join(s.dir, n), err)
			}
		}
	}
	return nil
}

// Dir returns the absolute state directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the file of tunnel name (which need not exist). It fails only
// for an invalid name.
func (s *Store) Path(name string) (string, error) {
	if err := conf.ValidateName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name+confExt), nil
}

// List returns the names of all tunnels, sorted. Files that are not
// "<valid name>.conf" regular files (temporary files, backups, settings) are
// ignored.
func (s *Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list tunnels in %q: %w", s.dir, err)
	}
	var names []string
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), confExt)
		if !ok || !e.Type().IsRegular() || conf.ValidateName(n) != nil {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Load reads and parses tunnel name. A missing tunnel is ErrNotFound; a
// broken file gives an error naming the file and line (wrapping
// *conf.ParseError) and is left untouched.
func (s *Store) Load(name string) (*conf.Config, error) {
	path, err := s.Path(name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load tunnel %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load tunnel %q: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("load tunnel %q: %s is not a regular file (a link or directory?): replace it with the tunnel file itself", name, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tunnel %q: %w", name, err)
	}
	if data, err = s.unseal(data); err != nil {
		return nil, fmt.Errorf("load tunnel %q from %s: %w", name, path, err)
	}
	cfg, err := conf.Parse(name, data)
	if err != nil {
		return nil, &LoadError{Path: path, Err: err}
	}
	return cfg, nil
}

// LoadError is a tunnel file that cannot be parsed.
type LoadError struct {
	Path string
	Err  error // usually *conf.ParseError
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%s: %v (fix or remove %s)", e.Path, e.Err, e.Path)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Create stores a new tunnel; ErrExists if cfg.Name is taken. cfg must pass
// Validate and have a name.
func (s *Store) Create(cfg *conf.Config) error {
	path, data, err := s.prepare(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.createFile(path, data, filePerm); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create tunnel %q: %w", cfg.Name, ErrExists)
		}
		return fmt.Errorf("create tunnel %q: %w", cfg.Name, err)
	}
	return nil
}

// Save writes cfg, atomically replacing any existing file of that name. An
// invalid cfg is refused and the old file is left as it was.
func (s *Store) Save(cfg *conf.Config) error {
	path, data, err := s.prepare(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.writeFile(path, data, filePerm); err != nil {
		return fmt.Errorf("save tunnel %q: %w", cfg.Name, err)
	}
	return nil
}

func (s *Store) prepare(cfg *conf.Config) (path string, data []byte, err error) {
	if cfg == nil {
		return "", nil, errors.New("save tunnel: no config")
	}
	path, err = s.Path(cfg.Name)
	if err != nil {
		return "", nil, fmt.Errorf("save tunnel: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return "", nil, fmt.Errorf("save tunnel %q: %w", cfg.Name, err)
	}
	data = cfg.Marshal()
	// Belt and braces: never write a file we could not read back.
	if _, err := conf.Parse(cfg.Name, data); err != nil {
		return "", nil, fmt.Errorf("save tunnel %q: internal error: written form does not parse: %w", cfg.Name, err)
	}
	if data, err = s.seal(data); err != nil {
		return "", nil, fmt.Errorf("save tunnel %q: %w", cfg.Name, err)
	}
	return path, data, nil
}

// Remove deletes tunnel name; ErrNotFound if there is none.
func (s *Store) Remove(name string) error {
	path, err := s.Path(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove tunnel %q: %w", name, ErrNotFound)
		}
		return fmt.Errorf("remove tunnel %q: %w", name, err)
	}
	return syncDir(s.dir)
}

// Rename renames tunnel oldName to newName. It never overwrites: ErrExists
// if newName is taken, ErrNotFound if oldName does not exist. The up set is
// not changed.
func (s *Store) Rename(oldName, newName string) error {
	oldPath, err := s.Path(oldName)
	if err != nil {
		return err
	}
	newPath, err := s.Path(newName)
	if err != nil {
		return err
	}
	if oldName == newName {
		return fmt.Errorf("rename tunnel %q: the new name is the same", oldName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Lstat(oldPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rename tunnel %q: %w", oldName, ErrNotFound)
	}
	if err := renameNoReplace(oldPath, newPath); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("rename tunnel %q to %q: %w", oldName, newName, ErrExists)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rename tunnel %q: %w", oldName, ErrNotFound)
		}
		return fmt.Errorf("rename tunnel %q to %q: %w", oldName, newName, err)
	}
	return syncDir(s.dir)
}
