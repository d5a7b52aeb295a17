package engine

import (
	"context"
	"net/netip"
)

// PublicAddress implements Prober on Windows. WireGuardNT owns the
// tunnel's socket in the kernel, so the query goes from a separate socket
// and only the public address means anything: the port is 0, and the
// address watch compares addresses only (docs/engine.md).
func (e windowsEngine) PublicAddress(ctx context.Context, name string, server netip.AddrPort) (netip.AddrPort, error) {
	return separateProbe(ctx, server)
}
