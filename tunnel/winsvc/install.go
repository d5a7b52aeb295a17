package winsvc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ServiceManager is the part of the Windows service manager that installing
// and removing a tunnel uses. scm_windows.go implements it with
// golang.org/x/sys/windows/svc/mgr; tests use a fake. Service names are
// ServiceSpec.Name values.
type ServiceManager interface {
	// Delete stops the service, deletes it and waits until it is gone. A
	// service that does not exist is not an error.
	Delete(service string) error
	// Create registers the service as spec says (automatic start).
	Create(spec ServiceSpec) error
	// Start starts the service and waits until it runs; it returns an
	// error when the service stops instead or does not start in time.
	Start(service string) error
}

// Installer installs and removes tunnel services. Every failure of Install
// leaves nothing behind: no service and no sealed config (which holds the
// private key).
type Installer struct {
	Layout    Layout
	Exe       string // the program the services run; must be Layout.ServiceExe()
	Protector Protector
	Services  ServiceManager
	// EnsureDataDir creates the locked-down data directory; nil: plain
	// os.MkdirAll (tests).
	EnsureDataDir func(Layout) error
}

// Install stores wgQuick sealed and creates and starts the service of
// tunnel name, replacing a previous one.
func (in *Installer) Install(name string, wgQuick []byte) error {
	if err := CheckServiceExe(in.Layout, in.Exe); err != nil {
		return err
	}
	spec, err := SpecFor(in.Layout, in.Exe, name)
	if err != nil {
		return err
	}
	sealed, err := Seal(in.Protector, name, wgQuick)
	if err != nil {
		return err
	}
	ensure := in.EnsureDataDir
	if ensure == nil {
		ensure = func(l Layout) error { return os.MkdirAll(l.ConfigDir(), 0o700) }
	}
	if err := ensure(in.Layout); err != nil {
		return err
	}
	if err := in.Services.Delete(spec.Name); err != nil {
		return err
	}
	path := spec.Args[1]
	if err := writeSealed(path, sealed); err != nil {
		return fmt.Errorf("store config: %w", err)
	}
	if err := in.Services.Create(spec); err != nil {
		// A create that failed half-way (the service registered, a
		// setting refused) must not leave the service either.
		return errors.Join(fmt.Errorf("create service %s: %w", spec.Name, err), in.Services.Delete(spec.Name), removeSealed(path))
	}
	if err := in.Services.Start(spec.Name); err != nil {
		// An automatic-start service left behind would retry the broken
		// tunnel at every boot, with the key on disk.
		return errors.Join(err, in.Services.Delete(spec.Name), removeSealed(path))
	}
	return nil
}

// Remove stops and deletes the service of tunnel name and its sealed
// config; a tunnel that is not installed is not an error.
func (in *Installer) Remove(name string) error {
	spec, err := SpecFor(in.Layout, in.Exe, name)
	if err != nil {
		return err
	}
	if err := in.Services.Delete(spec.Name); err != nil {
		return err
	}
	return removeSealed(spec.Args[1])
}

// RemoveSealed implements SealedRemover: it deletes every sealed config
// (and every temporary file a crash left) in the configuration directory
// whose tunnel has no service in installed. It returns the tunnels whose
// file it deleted.
func (in *Installer) RemoveSealed(installed []string) ([]string, error) {
	entries, err := os.ReadDir(in.Layout.ConfigDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list stored configs: %w", err)
	}
	keep := map[string]bool{}
	for _, n := range installed {
		keep[strings.ToLower(n)] = true
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		base := e.Name()
		name, isConf := strings.CutSuffix(base, ConfigSuffix)
		if !isConf && !strings.HasPrefix(base, ".tmp-") {
			continue
		}
		if isConf && keep[strings.ToLower(name)] {
			continue
		}
		if err := removeSealed(filepath.Join(in.Layout.ConfigDir(), base)); err != nil {
			errs = append(errs, err)
			continue
		}
		if isConf {
			removed = append(removed, name)
		}
	}
	return removed, errors.Join(errs...)
}

func removeSealed(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete stored config %s: %w", filepath.Base(path), err)
	}
	return nil
}

func writeSealed(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SealedRemover is a Privileged that can delete sealed configs that have
// no service (left by a crash or an older version); UninstallAll uses it
// so that no private key survives an uninstall.
type SealedRemover interface {
	RemoveSealed(installed []string) ([]string, error)
}
