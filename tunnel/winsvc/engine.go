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

// Engine is engine.Engine on Windows: a tunnel is up while its service
// runs. Services outlive the app (and start at boot, like WireGuard for
// Windows' tunnels), so Close leaves them running: the services are the
// Windows counterpart of the Linux daemon.
type Engine struct {
	mu   sync.Mutex
	opts EngineOptions
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
	return &Engine{opts: opts}, nil
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
	return cfg.Name, nil
}

// Down stops and deletes the tunnel's service and its encrypted config. A
// tunnel without a service is already down: nothing happens (and no UAC
// prompt appears).
func (e *Engine) Down(name string) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("take tunnel down: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if installed, err := e.opts.Priv.Installed(); err == nil && !slices.Contains(installed, name) {
		return nil
	}
	e.opts.Logf("removing service %s%s", ServicePrefix, name)
	if err := e.opts.Priv.Remove(name); err != nil {
		return fmt.Errorf("take tunnel %q down: %w", name, err)
	}
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

// Close releases the engine; the tunnel services keep running (see Engine).
func (e *Engine) Close() error { return nil }
