package winsvc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// DataDirSDDL is the security descriptor of the data directory: owned by
// SYSTEM, protected (no inherited entries) and readable only by SYSTEM and
// the Administrators, inherited by everything created inside. It is
// WireGuard for Windows' descriptor for its own Data directory.
const DataDirSDDL = "O:SYG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

// ConfigSuffix ends every stored (DPAPI-encrypted) tunnel config.
const ConfigSuffix = ".conf.dpapi"

// PlainSuffix ends plain wg-quick files handed to the elevated helper.
const PlainSuffix = ".conf"

// Layout locates WG Punch's machine-wide files below Root, the install
// directory (normally C:\Program Files\WG Punch).
//
//	Root\Data                        DataDirSDDL applies here
//	Root\Data\Configurations\N.conf.dpapi
//	Root\Data\log.bin                WireGuard's ring log of the services
type Layout struct{ Root string }

// DefaultRoot returns the install directory below programFiles (the
// FOLDERID_ProgramFiles known folder).
func DefaultRoot(programFiles string) string {
	return filepath.Join(programFiles, "WG Punch")
}

// DataDir is the locked-down directory.
func (l Layout) DataDir() string { return filepath.Join(l.Root, "Data") }

// ConfigDir holds the encrypted configs.
func (l Layout) ConfigDir() string { return filepath.Join(l.DataDir(), "Configurations") }

// RestartPath lists the tunnels to start again after an upgrade
// (StopForUpgrade).
func (l Layout) RestartPath() string { return filepath.Join(l.DataDir(), "restart-after-upgrade") }

// LogPath is the services' log.
func (l Layout) LogPath() string { return filepath.Join(l.DataDir(), "log.bin") }

// ConfigPath is where tunnel name's encrypted config is stored.
func (l Layout) ConfigPath(name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	return filepath.Join(l.ConfigDir(), name+ConfigSuffix), nil
}

// NameFromPath returns the tunnel name of a config path ending in
// ConfigSuffix or PlainSuffix, as WireGuard's conf.NameFromPath does.
func NameFromPath(path string) (string, error) {
	base := filepath.Base(path)
	if i := strings.LastIndexAny(base, `\/`); i >= 0 { // Windows paths on any OS
		base = base[i+1:]
	}
	var name string
	switch {
	case strings.HasSuffix(base, ConfigSuffix):
		name = strings.TrimSuffix(base, ConfigSuffix)
	case strings.HasSuffix(base, PlainSuffix):
		name = strings.TrimSuffix(base, PlainSuffix)
	default:
		return "", fmt.Errorf("config path %q must end in %s or %s", path, ConfigSuffix, PlainSuffix)
	}
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("config path %q: %w", path, err)
	}
	return name, nil
}

// ExeName is the program's file name in the install directory.
const ExeName = "wgpunch.exe"

// ServiceExe is the program the tunnel services run: the installed copy,
// which only the Administrators can change (Program Files' ACL).
func (l Layout) ServiceExe() string { return filepath.Join(l.Root, ExeName) }

// ErrNotInstalled is wrapped by CheckServiceExe's error.
var ErrNotInstalled = errors.New("WG Punch is not installed")

// CheckServiceExe refuses to make exe a tunnel service's program unless it
// is the installed copy (l.ServiceExe(), compared without case as Windows
// does). A service runs as LocalSystem at every boot; a wgpunch.exe in
// Downloads, or a DLL next to it, can be replaced by the user, who would
// then run code as SYSTEM.
func CheckServiceExe(l Layout, exe string) error {
	if exe != "" && strings.EqualFold(filepath.Clean(exe), filepath.Clean(l.ServiceExe())) {
		return nil
	}
	return &notInstalledError{exe: exe, want: l.ServiceExe()}
}

type notInstalledError struct{ exe, want string }

func (e *notInstalledError) Error() string {
	return fmt.Sprintf("this copy of WG Punch (%s) cannot bring tunnels up: tunnels run as Windows services, "+
		"which may only start the installed copy in %s. Install WG Punch with its installer (wgpunch-VERSION-amd64.msi), "+
		"then start WG Punch from the Start menu or run \"%s\"", e.exe, filepath.Dir(e.want), e.want)
}

func (e *notInstalledError) Unwrap() error { return ErrNotInstalled }
