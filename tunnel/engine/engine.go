// Package engine brings tunnels up and down on this OS: embedded wireguard-go
// plus netlink on Linux (engine_linux.go), WireGuard's tunnel services on
// Windows (engine_windows.go), and a stub that says "not supported" elsewhere.
package engine

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// Errors every engine returns (wrapped, so errors.Is works) on every OS.
var (
	// ErrUnsupported is returned by New on platforms without an engine.
	ErrUnsupported = errors.New("bringing tunnels up is not supported on this platform")
	// ErrPortInUse: the tunnel's ListenPort is taken by another program or
	// tunnel on this machine.
	ErrPortInUse = errors.New("port already in use on this machine")
	// ErrNotUp: Down was asked for a tunnel this engine does not have up.
	ErrNotUp = errors.New("tunnel is not up")
	// ErrLANSharingUnsupported: the config shares LAN subnets (Meta.LANs),
	// which this OS's engine cannot forward.
	ErrLANSharingUnsupported = errors.New("sharing LAN subnets is not supported on this platform")
)

// Engine owns the running tunnels of one daemon. Safe for concurrent use.
type Engine interface {
	// Up creates the interface for cfg (named cfg.Name), configures keys,
	// port and peers, assigns addresses and routes (peer AllowedIPs), and
	// makes every peer with an endpoint send a handshake at once. Up on a
	// tunnel that is already up applies cfg again (peers, port).
	// It returns the interface name. A taken ListenPort is an error
	// wrapping ErrPortInUse; a config this OS cannot carry out (shared LANs
	// on Windows) one wrapping ErrLANSharingUnsupported.
	Up(cfg *conf.Config) (string, error)
	// Down removes the tunnel's interface, routes and UAPI socket. Down of
	// a tunnel that is not up changes nothing and returns an error wrapping
	// ErrNotUp, on every OS.
	Down(name string) error
	// Running lists the names of the tunnels this engine has up.
	Running() []string
	// Close takes every tunnel this engine brought up down, on every OS.
	Close() error
}

// Prober is implemented by engines that can ask a STUN server, through a
// running tunnel's own UDP socket, which public address and port the NAT
// gives that socket (Linux: tunnel/stunbind wraps wireguard-go's bind). The
// answer is the tunnel's real mapping, the one its peers send to. An
// engine that cannot use the tunnel's socket (Windows: WireGuardNT owns it),
// or must not just now (Linux, while a peer has no session: a query would
// keep a stuck router's wrong port alive, docs/engine.md), asks from
// another socket and returns port 0: only the address counts.
type Prober interface {
	PublicAddress(ctx context.Context, tunnel string, server netip.AddrPort) (netip.AddrPort, error)
}

// Recoverer is implemented by engines that get a link out of a stuck
// router mapping by themselves (unstick.go): Recovering says how long
// until the engine tries peer again while it waits for routers to forget
// a wrong entry; 0 when it is not recovering that peer.
type Recoverer interface {
	Recovering(tunnel string, peer wgtypes.Key) time.Duration
}

// Options tune an engine. Zero fields mean the defaults; the timings and
// paths are for tests and used only by the Linux engine.
type Options struct {
	// Logf receives diagnostics; never private keys. nil: discard.
	Logf func(format string, args ...any)

	// ResolveRetry: how often hostname peers are looked at (10 s).
	ResolveRetry time.Duration
	// ReresolveHandshake: a handshake this old makes a hostname peer
	// unreachable (135 s).
	ReresolveHandshake time.Duration
	// ReresolveSilence: this long without anything received makes a
	// hostname peer with keepalive unreachable (15 s).
	ReresolveSilence time.Duration
	// GuardInterval: how often LAN sharing checks its rules are in place
	// (5 s).
	GuardInterval time.Duration
	// RouterForget is how long routers keep an unreplied UDP entry, for
	// the stuck-mapping recovery (DefaultRouterForget, 30 s; OpenWrt: 60 s;
	// both sides must agree).
	RouterForget time.Duration
	// PathRetry is how often a link on a worse path (IPv4 when IPv6 or
	// the LAN is known) tries a better candidate, in slots aligned to the
	// clock (DefaultPathRetry, 5 min; both sides must agree; settings:
	// path_retry_seconds).
	PathRetry time.Duration
	// SysctlDir: where LAN sharing finds the forwarding switches
	// (/proc/sys; it writes net/ipv4/conf/IF/forwarding,
	// net/ipv6/conf/IF/force_forwarding, or net/ipv6/conf/all/forwarding
	// on kernels without that, under it).
	SysctlDir string
}
