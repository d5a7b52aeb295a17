package winsvc

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// EngineOptions wire an Engine to the machine.
type EngineOptions struct {
	// Priv installs and removes services: the service manager itself when
	// the process is elevated, else a copy of the app started with UAC.
	Priv Privileged
	// Running lists the tunnels whose service is running; it needs no
	// administrator.
	Running func() ([]string, error)
	// Marshal renders a config as the wg-quick text the service loads
	// (with the private key).
	Marshal func(*conf.Config) []byte
	Logf    func(format string, args ...any)
}

// ErrNotUp: Down was asked for a tunnel that has no service.
var ErrNotUp = errors.New("tunnel is not up")

// BatchRemover is a Privileged that can remove several tunnels at once
// (the Elevator: one UAC prompt instead of one per tunnel).
type BatchRemover interface {
	RemoveAll(names []string) error
}

// Engine is engine.Engine on Windows: a tunnel is up while its service
// runs. Like the Linux engine, Close takes down the tunnels this Engine
// brought up; services it did not bring up (another run's, ones started at
// boot) are left alone.
type Engine struct {
	mu   sync.Mutex
	opts EngineOptions
	up   map[string]bool // tunnels this Engine installed and has not removed
}

// NewEngine returns an Engine using opts; Priv, Running and Marshal are
// required.
func NewEngine(opts EngineOptions) (*Engine, error) {
	if opts.Priv == nil || opts.Running == nil || opts.Marshal == nil {
		return nil, errors.New("winsvc: EngineOptions needs Priv, Running and Marshal")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Engine{opts: opts, up: make(map[string]bool)}, nil
}

// Up stores cfg encrypted and (re)starts its service. The interface (the
// WireGuardNT adapter) is named like the tunnel.
func (e *Engine) Up(cfg *conf.Config) (string, error) {
	if cfg == nil {
		return "", errors.New("bring tunnel up: no config")
	}
	if err := ValidName(cfg.Name); err != nil {
		return "", fmt.Errorf("bring tunnel up: %w", err)
	}
	text := e.opts.Marshal(cfg)
	if len(text) == 0 {
		return "", fmt.Errorf("bring tunnel %q up: %w", cfg.Name, ErrEmptyConfig)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opts.Logf("installing service %s%s", ServicePrefix, cfg.Name)
	if err := e.opts.Priv.Install(cfg.Name, text); err != nil {
		return "", fmt.Errorf("bring tunnel %q up: %w", cfg.Name, err)
	}
	e.up[cfg.Name] = true
	return cfg.Name, nil
}

// Down stops and deletes the tunnel's service and its encrypted config. A
// tunnel without a service is already down: Down returns an error wrapping
// ErrNotUp and changes nothing (no UAC prompt appears).
func (e *Engine) Down(name string) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("take tunnel down: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if installed, err := e.opts.Priv.Installed(); err == nil && !slices.Contains(installed, name) {
		delete(e.up, name)
		return fmt.Errorf("take tunnel %q down: %w", name, ErrNotUp)
	}
	e.opts.Logf("removing service %s%s", ServicePrefix, name)
	if err := e.opts.Priv.Remove(name); err != nil {
		return fmt.Errorf("take tunnel %q down: %w", name, err)
	}
	delete(e.up, name)
	return nil
}

// Running lists the tunnels whose service runs, sorted.
func (e *Engine) Running() []string {
	names, err := e.opts.Running()
	if err != nil {
		e.opts.Logf("list tunnel services: %v", err)
		return nil
	}
	names = slices.Clone(names)
	slices.Sort(names)
	return slices.Compact(names)
}

// Close stops and deletes the services of the tunnels this Engine brought
// up, going on past failures; through a BatchRemover in one call.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.up))
	for name := range e.up {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil
	}
	e.opts.Logf("removing services of %v", names)
	if b, ok := e.opts.Priv.(BatchRemover); ok {
		if err := b.RemoveAll(names); err != nil {
			return fmt.Errorf("take tunnels %v down: %w", names, err)
		}
		clear(e.up)
		return nil
	}
	var errs []error
	for _, name := range names {
		if err := e.opts.Priv.Remove(name); err != nil {
			errs = append(errs, fmt.Errorf("take tunnel %q down: %w", name, err))
			continue
		}
		delete(e.up, name)
	}
	return errors.Join(errs...)
}
