package store

import (
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDir is the state directory: /var/lib/wgpunch for root on Unix,
// on Windows %LOCALAPPDATA%\wgpunch (not the roaming %APPDATA%: tunnel files
// hold private keys and must not be copied to other computers), otherwise
// os.UserConfigDir()/wgpunch. If that directory is unknown, it falls back
// to ".wgpunch" in the home directory, then in the working directory.
func DefaultDir() string {
	if runtime.GOOS != "windows" && os.Geteuid() == 0 {
		return "/var/lib/wgpunch"
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "wgpunch")
		}
	}
	if d, err := os.UserConfigDir(); err == nil && d != "" {
		return filepath.Join(d, "wgpunch")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".wgpunch")
	}
	return ".wgpunch"
}

// legacyDir is where an older WG Punch kept the default directory, "" if
// it did not differ: on Windows %APPDATA%\wgpunch (roaming).
func legacyDir() string {
	if runtime.GOOS != "windows" || os.Getenv("LOCALAPPDATA") == "" {
		return ""
	}
	if d, err := os.UserConfigDir(); err == nil && d != "" {
		return filepath.Join(d, "wgpunch")
	}
	return ""
}
