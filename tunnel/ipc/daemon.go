package ipc

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"runtime"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"

	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// DaemonOptions configure RunDaemon. Zero fields mean the defaults.
type DaemonOptions struct {
	StateDir string // default store.DefaultDir()
	Socket   string // default DefaultSocket()
	Group    string // default: settings "group", else DefaultGroup
	// NoLAN turns off LAN discovery (mDNS).
	NoLAN bool
	// Hostname is the name announced on the LAN and the default display
	// name in invites; default os.Hostname(). Lets two daemons on one host
	// (e.g. in network namespaces) tell each other apart.
	Hostname string
	// Debug sends LAN discovery's debug lines to Logf too.
	Debug bool
	// Logf receives the daemon's log lines; never keys. nil: discard.
	Logf func(format string, args ...any)
}

// ErrNotRoot is returned by RunDaemon when not run by root (on Windows: by
// an administrator).
var ErrNotRoot = errors.New(notRootText(runtime.GOOS))

func notRootText(goos string) string {
	if goos == "windows" {
		return "the WG Punch daemon must run as an administrator: it installs tunnel services and owns its socket folder; run \"wgpunch daemon\" in a Command Prompt started as administrator"
	}
	return "the WG Punch daemon must run as root: it creates network interfaces; run: sudo wgpunch daemon  (or: sudo systemctl start wgpunch)"
}

// whoMayChange says who may change tunnels through a daemon on goos, and
// what to log about it ("" for nothing). Groups are a Unix matter: on
// Windows the daemon tells callers apart by nothing but their token, and
// the advice to groupadd would be wrong.
func whoMayChange(goos, group string, groupExists bool) (who, advice string) {
	switch {
	case goos == "windows":
		return "only administrators may change tunnels", ""
	case groupExists:
		return fmt.Sprintf("root and group %q may change tunnels", group), ""
	}
	return "only root may change tunnels", fmt.Sprintf("group %q does not exist: only root can change tunnels; to allow users: sudo groupadd --system %s && sudo usermod -aG %s USER", group, group, group)
}

// RunDaemon runs the privileged daemon until ctx ends: it opens the state
// directory and the engine, brings up the tunnels that were up last time,
// and serves the Controller on the socket. When ctx ends it takes every
// tunnel down WITHOUT forgetting they were up (so they come back on the next
// start) and removes the socket.
func RunDaemon(ctx context.Context, opts DaemonOptions) error {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := daemonPrivileged(); err != nil {
		return err
	}
	if opts.StateDir == "" {
		opts.StateDir = store.DefaultDir()
	}
	if opts.Socket == "" {
		opts.Socket = DefaultSocket()
	}
	st, err := store.Open(opts.StateDir)
	if err != nil {
		return fmt.Errorf("open state directory: %w", err)
	}
	st.SetRole(RoleDaemon)
	set, err := st.LoadSettings()
	if err != nil {
		logf("settings: %v (using defaults)", err)
	}
	group := opts.Group
	if group == "" {
		group = set.Group
	}
	if group == "" {
		group = DefaultGroup
	}
	groupExists := false
	if runtime.GOOS != "windows" {
		_, err := user.LookupGroup(group)
		groupExists = err == nil
	}
	who, advice := whoMayChange(runtime.GOOS, group, groupExists)
	if advice != "" {
		logf("%s", advice)
	}
	ln, err := Listen(opts.Socket)
	if err != nil {
		return err
	}
	defer ln.Close()

	eng, err := engine.New(engine.Options{Logf: logf, RouterForget: time.Duration(set.RouterForgetSeconds) * time.Second, PathRetry: time.Duration(set.PathRetrySeconds) * time.Second})
	if err != nil {
		return fmt.Errorf("start the tunnel engine: %w", err)
	}
	defer eng.Close()
	installID, err := st.InstallID()
	if err != nil {
		logf("%v (LAN neighbours with this host name are taken for this machine)", err)
	}
	wg, err := wgctrl.New()
	var svcOpts = control.ServiceOptions{Store: st, Engine: eng, Logf: logf, Hostname: opts.Hostname, InstallID: installID}
	if err != nil {
		logf("wgctrl: %v (status will show tunnels without counters)", err)
	} else {
		defer wg.Close()
		svcOpts.Reader = wg
	}
	svc, err := control.NewService(svcOpts)
	if err != nil {
		return err
	}
	if !opts.NoLAN {
		lanCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		lo := lanpeers.Options{Host: svc.Hostname(), Install: svc.InstallID(), Ports: svc.LocalTunnels}
		if opts.Debug {
			lo.Logf = logf
		}
		d, err := lanpeers.Start(lanCtx, lo)
		if err != nil {
			logf("LAN discovery off: %v", err)
		} else {
			defer d.Close()
			svc.SetLAN(d)
		}
	}
	// Restore before serving: once the socket answers, the tunnels that were
	// up are up (or show why not).
	if err := svc.RestoreUp(ctx); err != nil {
		logf("some tunnels did not come back up: %v", err)
	}
	// The address watch: notices when this machine's public address moves
	// and makes the updates to send (control/selfaddr.go).
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	svc.StartAddressWatch(watchCtx)
	abs, _ := filepath.Abs(opts.StateDir)
	srv := NewServer(ServerOptions{Controller: svc, Group: group, StateDir: abs, Engine: true, Logf: logf})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logf("daemon ready: socket %s, state %s; %s", opts.Socket, abs, who)

	var serveErr error
	select {
	case <-ctx.Done():
		logf("stopping")
	case serveErr = <-errc:
		logf("serve: %v", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := svc.Shutdown(); err != nil {
		logf("take tunnels down: %v", err)
	}
	return serveErr
}
