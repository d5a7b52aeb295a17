// Package winsvc runs WG Punch tunnels on Windows the way WireGuard for
// Windows does: one Windows service per tunnel ("WGPunchTunnel$NAME") that
// runs this same executable with "/tunnelservice PATH", where PATH is a
// DPAPI-encrypted wg-quick file in a directory only SYSTEM and the
// Administrators can open. The service body is WireGuard's own
// (golang.zx2c4.com/wireguard/windows/tunnel) driving WireGuardNT.
//
// Installing or removing a service needs an administrator. The tray app does
// not run elevated: when it must change a service it starts itself once with
// the "runas" verb (one UAC prompt) and hands the work over in a private
// request directory (request.go).
//
// Everything that is plain logic (names, paths, the security descriptor, the
// request format, the engine's bookkeeping) lives in files without a build
// tag and is unit-tested on any OS; only the *_windows.go files call Windows.
package winsvc
