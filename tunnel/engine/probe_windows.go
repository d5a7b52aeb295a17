package engine

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// PublicAddress implements Prober on Windows. WireGuardNT owns the
// tunnel's socket in the kernel, so the query goes from a separate socket
// and only the public address means anything: the port is 0, and the
// address watch compares addresses only (docs/engine.md).
func (e windowsEngine) PublicAddress(ctx context.Context, name string, server netip.AddrPort) (netip.AddrPort, error) {
	rep, err := natcheck.Check(ctx, natcheck.Options{Servers: []string{server.String()}})
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap, err := netip.ParseAddrPort(rep.PublicEndpoint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("no public address from %s: %s", server, rep.Message)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), 0), nil
}
