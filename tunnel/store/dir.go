package store

import (
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDir is the state directory: /var/lib/wgpunch for root on Unix,
// otherwise os.UserConfigDir()/wgpunch (on Windows %AppData%\wgpunch, which
// for the LocalSystem service is under the system profile). If the user
// config directory is unknown, it falls back to ".wgpunch" in the home
// directory, then in the working directory.
func DefaultDir() string {
	if runtime.GOOS != "windows" && os.Geteuid() == 0 {
		return "/var/lib/wgpunch"
	}
	if d, err := os.UserConfigDir(); err == nil && d != "" {
		return filepath.Join(d, "wgpunch")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".wgpunch")
	}
	return ".wgpunch"
}
