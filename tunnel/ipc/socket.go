package ipc

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// DefaultSocket is where the daemon listens: /run/wgpunch/wgpunch.sock
// (on Windows: %ProgramData%\WGPunch\wgpunch.sock).
func DefaultSocket() string {
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "WGPunch", "wgpunch.sock")
	}
	return "/run/wgpunch/wgpunch.sock"
}

// DefaultGroup is the group whose members may change tunnels.
const DefaultGroup = "wgpunch"

// Listen opens the daemon's socket at path: it creates the directory
// (0755) if missing (on Windows with EndpointDirSDDL, taking over a folder
// another user made), refuses if another daemon answers there, removes a
// stale socket file, and makes the socket connectable by every local user
// (0666) — the Server authorizes each request by the caller's uid/groups.
func Listen(path string) (net.Listener, error) {
	if err := prepareSocketDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("another WG Punch daemon already answers on %s; stop it first (%s) or use another --socket", path, stopDaemon(runtime.GOOS))
		}
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket; remove it or choose another --socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod socket %s: %w", path, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	return ln, nil
}

// stopDaemon says how to stop the running daemon on goos.
func stopDaemon(goos string) string {
	if goos == "windows" {
		return "close the other \"wgpunch daemon\" window"
	}
	return "sudo systemctl stop wgpunch"
}
