//go:build !windows

package store

import (
	"errors"
	"fmt"
	"os"
)

// errChmodUnsupported never occurs here.
var errChmodUnsupported = errors.New("chmod unsupported")

// syncDir fsyncs a directory so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}
