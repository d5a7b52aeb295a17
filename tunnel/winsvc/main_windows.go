package winsvc

import (
	"context"
	"fmt"
	"os"

	wgconf "golang.zx2c4.com/wireguard/windows/conf"
	"golang.zx2c4.com/wireguard/windows/tunnel"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// Main runs the Windows entry points (see ParseCommand). handled is false
// for ordinary command lines, which main then runs as usual.
func Main(args []string) (handled bool, exitCode int) {
	cmd, ok, err := ParseCommand(args)
	if !ok {
		return false, 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wgpunch:", err)
		return true, 2
	}
	if err := run(cmd); err != nil {
		fmt.Fprintln(os.Stderr, "wgpunch:", err)
		return true, 1
	}
	return true, 0
}

func run(cmd Command) error {
	switch cmd.Flag {
	case FlagTunnelService:
		l, err := DefaultLayout()
		if err != nil {
			return err
		}
		if err := EnsureDataDir(l); err != nil {
			return err
		}
		// WireGuard's service keeps its log in its root directory; ours.
		wgconf.PresetRootDirectory(l.DataDir())
		name, err := NameFromPath(cmd.Arg)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go ServeStatus(ctx, name) // status for the unelevated tray
		return tunnel.Run(cmd.Arg)
	case FlagElevated:
		scm, err := NewSCM(nil)
		if err != nil {
			return err
		}
		return HandleRequest(cmd.Arg, sanitizing{scm})
	case FlagUninstallServices:
		scm, err := NewSCM(nil)
		if err != nil {
			return err
		}
		return UninstallAll(scm, nil)
	case FlagStopServices, FlagStartServices:
		l, err := DefaultLayout()
		if err != nil {
			return err
		}
		if cmd.Flag == FlagStopServices {
			return StopForUpgrade(controller{}, l.RestartPath())
		}
		return RestartAfterUpgrade(controller{}, l.RestartPath())
	}
	return fmt.Errorf("unknown command %q", cmd.Flag)
}

// sanitizing parses every config handed over by the unelevated side with
// WG Punch's strict parser and renders it again, so a file changed in the
// request directory cannot smuggle keys such as PostUp into a service
// running as SYSTEM.
type sanitizing struct{ Privileged }

func (s sanitizing) Install(name string, wgQuick []byte) error {
	clean, err := Sanitize(name, wgQuick)
	if err != nil {
		return err
	}
	return s.Privileged.Install(name, clean)
}

// RemoveSealed forwards to the wrapped Privileged, so that an uninstall
// through the elevated helper also deletes orphaned sealed configs.
func (s sanitizing) RemoveSealed(installed []string) ([]string, error) {
	if sr, ok := s.Privileged.(SealedRemover); ok {
		return sr.RemoveSealed(installed)
	}
	return nil, nil
}

// NewWindowsEngine returns the engine of this process: the service manager itself
// when elevated, the UAC helper otherwise.
func NewWindowsEngine(logf func(string, ...any)) (*Engine, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	l, err := DefaultLayout()
	if err != nil {
		return nil, err
	}
	var priv Privileged = &Elevator{Exe: exe, Layout: l}
	if Elevated() {
		scm, err := NewSCM(logf)
		if err != nil {
			return nil, err
		}
		priv = scm
	}
	return NewEngine(EngineOptions{
		Priv:    priv,
		Running: RunningTunnels,
		Marshal: func(c *conf.Config) []byte { return c.MarshalExport(true) },
		Logf:    logf,
	})
}
