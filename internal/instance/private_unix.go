//go:build !windows

package instance

import (
	"fmt"
	"os"
	"syscall"
)

// checkPrivate refuses a directory that others may enter or that belongs
// to someone else: a socket there could be someone else's.
func checkPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("instance directory %s belongs to another user", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("instance directory %s is open to others: %w", dir, err)
		}
	}
	return nil
}
