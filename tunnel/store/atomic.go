package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data: it writes a temporary file in the
// same directory with mode perm, fsyncs it, renames it over path and fsyncs
// the directory. Readers see the old or the new content, never a mix; on
// error the old file is unchanged and the temporary file is removed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicWriter{}.writeFile(path, data, perm)
}

// atomicWriter does the atomic writes. Its zero value is the real thing;
// tests set fault on a Store's writer.
type atomicWriter struct {
	// fault, if set, makes a write fail at a stage ("write", "sync",
	// "rename") by returning an error.
	fault func(stage string) error
}

func (w atomicWriter) faultAt(stage string) error {
	if w.fault == nil {
		return nil
	}
	return w.fault(stage)
}

// writeFile is WriteFileAtomic.
func (w atomicWriter) writeFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := w.writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := w.faultAt("rename"); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %q: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// createFile is writeFile that fails with fs.ErrExist instead of
// replacing an existing path.
func (w atomicWriter) createFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := w.writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := w.faultAt("rename"); err != nil {
		return fmt.Errorf("create %q: %w", path, err)
	}
	if err := renameNoReplace(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// renameNoReplace moves oldPath to newPath unless newPath exists (then an
// error wrapping fs.ErrExist). It hard-links and unlinks, so no moment
// exists where newPath holds something else; on file systems without hard
// links it falls back to check-then-rename.
func renameNoReplace(oldPath, newPath string) error {
	err := os.Link(oldPath, newPath)
	if err == nil {
		return os.Remove(oldPath)
	}
	if errors.Is(err, fs.ErrExist) || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, serr := os.Lstat(newPath); serr == nil {
		return &fs.PathError{Op: "rename", Path: newPath, Err: fs.ErrExist}
	}
	return os.Rename(oldPath, newPath)
}

// writeTemp writes data to a new hidden temporary file next to path and
// returns its name. The name starts with "." and ends in ".tmp", so List
// never mistakes it for a tunnel.
func (w atomicWriter) writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %q: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("write %q: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil && !errors.Is(err, errChmodUnsupported) {
		return fail(err)
	}
	if err := w.faultAt("write"); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := w.faultAt("sync"); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %q: %w", path, err)
	}
	return tmp, nil
}
