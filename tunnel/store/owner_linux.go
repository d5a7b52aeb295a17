package store

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses a state directory owned by another user.
func checkOwner(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("state directory %q belongs to user id %d, not to you (%d): choose a directory of your own with --state-dir, or fix its owner", dir, st.Uid, uid)
	}
	return nil
}
