package winsvc

import (
	"fmt"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// ServicePrefix starts the Windows service name of every WG Punch tunnel.
// WireGuard for Windows uses "WireGuardTunnel$"; ours differs so that both
// apps can be installed side by side.
const ServicePrefix = "WGPunchTunnel$"

// DisplayPrefix starts the services' display names (services.msc).
const DisplayPrefix = "WG Punch Tunnel: "

var reservedNames = []string{
	"CON", "PRN", "AUX", "NUL",
	"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
	"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
}

// ValidName reports whether name can be a tunnel on Windows. It applies
// WireGuard for Windows' rules (conf.TunnelNameIsValid): 1..32 of
// [a-zA-Z0-9_=+.-], not starting or ending with a dot, not a reserved DOS
// device name. The characters are conf.NameRune's; WG Punch's own rule
// (conf.ValidateName: at most 15 characters) is stricter.
func ValidName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("tunnel name %q must be 1 to 32 characters long", name)
	}
	for _, r := range name {
		if !conf.NameRune(r) {
			return fmt.Errorf("tunnel name %q contains %q: use only letters, digits and _=+.-", name, r)
		}
	}
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("tunnel name %q must not start or end with a dot", name)
	}
	base, _, _ := strings.Cut(name, ".")
	for _, r := range reservedNames {
		if strings.EqualFold(base, r) {
			return fmt.Errorf("tunnel name %q is a reserved Windows device name: pick another name", name)
		}
	}
	return nil
}

// ServiceName returns the Windows service name of tunnel name.
func ServiceName(name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	return ServicePrefix + name, nil
}

// TunnelOfService returns the tunnel name of a WG Punch service name, and
// false for any other service (the comparison of the prefix ignores case,
// as the service manager does).
func TunnelOfService(service string) (string, bool) {
	if len(service) <= len(ServicePrefix) || !strings.EqualFold(service[:len(ServicePrefix)], ServicePrefix) {
		return "", false
	}
	name := service[len(ServicePrefix):]
	if ValidName(name) != nil {
		return "", false
	}
	return name, true
}
