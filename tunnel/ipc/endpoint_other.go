//go:build !windows

package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// checkEndpoint has nothing to check off Windows: /run/wgpunch is made by
// root (systemd's RuntimeDirectory or the daemon) and only root may create
// files in /run.
func checkEndpoint(string) error { return nil }

// prepareSocketDir creates the socket's directory (0755) if missing.
func prepareSocketDir(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create socket directory %s: %w", dir, err)
		}
		_ = os.Chmod(dir, 0o755) // umask may have narrowed it
	}
	return nil
}

// daemonPrivileged: the daemon must run as root.
func daemonPrivileged() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	return nil
}
