package ipc

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// startDaemon says how to start the packaged daemon.
const startDaemon = "start it with: sudo systemctl start wgpunch  (or: sudo wgpunch daemon)"

// ConnectOptions say where the daemon listens and which state directory
// the caller means. Zero fields mean the defaults.
type ConnectOptions struct {
	Socket   string // default DefaultSocket()
	StateDir string // default store.DefaultDir()
	// StateDirSet: the user named StateDir (--state-dir), so a daemon that
	// serves another directory is not used.
	StateDirSet bool
	// LocalEngine gives the engine and device reader for a local Service
	// (e.g. the Windows tunnel services); nil or nil engine: none, and Up
	// and Down say how to start the daemon.
	LocalEngine func() (engine.Engine, monitor.DeviceReader)
	// Notef receives notes for the user (the CLI prints them on stderr);
	// nil: discard.
	Notef func(format string, args ...any)
	// Role names the caller in the state directory's lock (store.SetRole)
	// when it works locally; "": RoleCLI.
	Role string
}

// The roles (store.SetRole) of the processes that change a state directory.
const (
	RoleDaemon = "the daemon"
	RoleCLI    = "the command line"
	RoleTray   = "the tray app"
)

func (o ConnectOptions) socket() string {
	if o.Socket == "" {
		return DefaultSocket()
	}
	return o.Socket
}

// DialServing returns the daemon's Client if a daemon answers on the
// socket and serves the state directory the caller means.
func DialServing(opts ConnectOptions) (*Client, bool) {
	cl, err := Dial(opts.socket())
	if err != nil {
		return nil, false
	}
	if !serves(cl, opts) {
		cl.Close()
		return nil, false
	}
	return cl, true
}

func serves(cl *Client, opts ConnectOptions) bool {
	return !opts.StateDirSet || sameDir(cl.Info.StateDir, opts.StateDir)
}

// Connect decides between the daemon and working locally: it returns the
// daemon's *Client when a daemon answers on the socket and serves the state
// directory; otherwise a local *control.Service on the directory, whose Up
// and Down (without a LocalEngine) fail with ErrNeedDaemon saying how to
// start a daemon for it.
func Connect(opts ConnectOptions) (control.Controller, error) {
	sock := opts.socket()
	notef := opts.Notef
	if notef == nil {
		notef = func(string, ...any) {}
	}
	var needDaemon error
	cl, err := Dial(sock)
	if errors.Is(err, ErrUntrustedEndpoint) {
		notef("note: %v; working on the state directory directly", err)
	}
	if err == nil {
		if serves(cl, opts) {
			return cl, nil
		}
		cl.Close()
		notef("note: the daemon on %s serves %s, not --state-dir %s; working on %s directly", sock, cl.Info.StateDir, opts.StateDir, opts.StateDir)
		needDaemon = fmt.Errorf("%w: the daemon on %s serves the state directory %s, not %s; to bring these tunnels up run a daemon on them: sudo wgpunch --state-dir %s --socket OTHER.sock daemon",
			control.ErrNeedDaemon, sock, cl.Info.StateDir, opts.StateDir, opts.StateDir)
	}
	dir := opts.StateDir
	if dir == "" {
		dir = store.DefaultDir()
	}
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	role := opts.Role
	if role == "" {
		role = RoleCLI
	}
	st.SetRole(role)
	if needDaemon == nil {
		needDaemon = noDaemonErr(sock, dir, opts.StateDirSet)
	}
	svcOpts := control.ServiceOptions{Store: st, NeedDaemon: needDaemon}
	if opts.LocalEngine != nil {
		svcOpts.Engine, svcOpts.Reader = opts.LocalEngine()
	}
	return control.NewService(svcOpts)
}

// noDaemonErr says that no daemon answers on sock and how to start one for
// dir: the packaged one for the default directory, else one on dir.
func noDaemonErr(sock, dir string, dirSet bool) error {
	if !dirSet {
		return fmt.Errorf("%w (socket %s); %s", control.ErrNeedDaemon, sock, startDaemon)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	flags := "--state-dir " + abs
	if sock != DefaultSocket() {
		flags += " --socket " + sock
	}
	return fmt.Errorf("%w (socket %s) for %s; start one on it with: sudo wgpunch %s daemon", control.ErrNeedDaemon, sock, abs, flags)
}

// sameDir says whether a and b name one directory (after making them
// absolute and following symlinks).
func sameDir(a, b string) bool {
	ca, err1 := filepath.Abs(a)
	cb, err2 := filepath.Abs(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	if ra, err := filepath.EvalSymlinks(ca); err == nil {
		ca = ra
	}
	if rb, err := filepath.EvalSymlinks(cb); err == nil {
		cb = rb
	}
	return ca == cb
}
