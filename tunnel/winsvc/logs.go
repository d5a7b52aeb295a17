package winsvc

import (
	"errors"
	"fmt"
	"io/fs"
)

// SeeLog tells the user where the tunnel services' log is: WireGuard's
// ring log (Layout.LogPath) is a binary file in a folder only the
// Administrators can open, and "wgpunch log" prints it as text.
const SeeLog = "to see why, run \"wgpunch log\" in a Command Prompt started as administrator"

// LogError words a failure to read the ring log at path for the user.
func LogError(path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("the tunnel services' log (%s) is readable only by administrators: run \"wgpunch log\" in a Command Prompt started as administrator (%w)", path, err)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no tunnel service has written a log yet (%s does not exist): bring a tunnel up first (%w)", path, err)
	}
	return fmt.Errorf("read the tunnel services' log %s: %w", path, err)
}
