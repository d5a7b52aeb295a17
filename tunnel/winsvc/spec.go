package winsvc

import "fmt"

// ServiceSpec is how a tunnel's Windows service is created; the values
// follow WireGuard for Windows' manager.InstallTunnel: its own process,
// automatic start, depending on Nsi and TcpIp, unrestricted service SID (so
// the firewall rules of the tunnel can name it).
type ServiceSpec struct {
	Name         string // WGPunchTunnel$NAME
	DisplayName  string // WG Punch Tunnel: NAME
	Description  string
	Dependencies []string // Nsi, TcpIp
	Exe          string
	Args         []string // /tunnelservice CONFIGPATH
}

// SpecFor returns the service of tunnel name run by exe from layout l.
func SpecFor(l Layout, exe, name string) (ServiceSpec, error) {
	svc, err := ServiceName(name)
	if err != nil {
		return ServiceSpec{}, err
	}
	path, err := l.ConfigPath(name)
	if err != nil {
		return ServiceSpec{}, err
	}
	return ServiceSpec{
		Name:         svc,
		DisplayName:  DisplayPrefix + name,
		Description:  fmt.Sprintf("WireGuard tunnel %q set up by WG Punch", name),
		Dependencies: []string{"Nsi", "TcpIp"},
		Exe:          exe,
		Args:         []string{FlagTunnelService, path},
	}, nil
}

// Command-line flags of the Windows entry points (checked before anything
// else in main).
const (
	// FlagTunnelService PATH: run as the service of one tunnel.
	FlagTunnelService = "/tunnelservice"
	// FlagElevated DIR: the UAC-elevated copy doing Request in DIR.
	FlagElevated = "/elevated"
	// FlagUninstallServices: remove every tunnel service (run by the MSI
	// on uninstall). User configs in %LOCALAPPDATA%\wgpunch stay.
	FlagUninstallServices = "/uninstall-services"
	// FlagStopServices: stop the running tunnel services before an
	// upgrade replaces the files, remembering them (run by the MSI with
	// the installed copy).
	FlagStopServices = "/stop-services"
	// FlagStartServices: start the tunnels FlagStopServices stopped (run
	// by the MSI with the new copy).
	FlagStartServices = "/start-services"
)

// Command is a parsed Windows entry point.
type Command struct {
	Flag string // one of the Flag constants
	Arg  string // PATH or DIR; empty for the flags without an argument
}

// ParseCommand recognises the Windows entry points in args (without the
// program name). ok is false when args are an ordinary command line for
// the CLI or GUI; err is set when a flag is recognised but misused.
func ParseCommand(args []string) (cmd Command, ok bool, err error) {
	if len(args) == 0 {
		return Command{}, false, nil
	}
	switch args[0] {
	case FlagTunnelService, FlagElevated:
		if len(args) != 2 || args[1] == "" {
			return Command{}, true, fmt.Errorf("usage: wgpunch %s %s", args[0], map[string]string{FlagTunnelService: "CONFIG.conf.dpapi", FlagElevated: "REQUESTDIR"}[args[0]])
		}
		if args[0] == FlagTunnelService {
			if _, err := NameFromPath(args[1]); err != nil {
				return Command{}, true, err
			}
		}
		return Command{Flag: args[0], Arg: args[1]}, true, nil
	case FlagUninstallServices, FlagStopServices, FlagStartServices:
		if len(args) != 1 {
			return Command{}, true, fmt.Errorf("usage: wgpunch %s", args[0])
		}
		return Command{Flag: args[0]}, true, nil
	}
	return Command{}, false, nil
}
