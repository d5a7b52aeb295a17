package winsvc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// An upgrade (the MSI's RemoveExistingProducts, then InstallFiles) replaces
// wgpunch.exe and wireguard.dll, which every running tunnel service has
// open. So the MSI first runs the installed copy with FlagStopServices,
// which stops the running tunnel services and writes their names to
// Layout.RestartPath, and after the new files are in place the new copy
// with FlagStartServices, which starts them again and deletes the list.

// ServiceControl starts and stops tunnel services without removing them.
type ServiceControl interface {
	// Running lists the tunnels whose service runs or is starting.
	Running() ([]string, error)
	// Stop stops tunnel name's service and waits until it has stopped.
	Stop(name string) error
	// Start starts tunnel name's service and waits until it runs.
	Start(name string) error
}

// StopForUpgrade stops every running tunnel service and records which
// ones at record, going on past failures. A tunnel whose service did not
// stop is recorded too (starting a running service again is harmless).
func StopForUpgrade(sc ServiceControl, record string) error {
	names, err := sc.Running()
	if err != nil {
		return fmt.Errorf("list tunnel services: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	// Written first: if the upgrade dies after some stops, the next
	// FlagStartServices still knows them.
	if err := writeSealed(record, []byte(strings.Join(names, "\n")+"\n")); err != nil {
		return fmt.Errorf("record the running tunnels: %w", err)
	}
	var errs []error
	for _, name := range names {
		if err := sc.Stop(name); err != nil {
			errs = append(errs, fmt.Errorf("stop tunnel %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// RestartAfterUpgrade starts the tunnels StopForUpgrade recorded at record
// and deletes the record; no record: nothing to do.
func RestartAfterUpgrade(sc ServiceControl, record string) error {
	b, err := os.ReadFile(record)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the tunnels to restart: %w", err)
	}
	var errs []error
	for _, name := range strings.Fields(string(b)) {
		if err := ValidName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := sc.Start(name); err != nil {
			errs = append(errs, fmt.Errorf("start tunnel %q again: %w", name, err))
		}
	}
	if err := os.Remove(record); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
