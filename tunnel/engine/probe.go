package engine

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// separateProbe asks server from a socket of its own: only the public
// address means anything, so the port is 0 (Windows always, where
// WireGuardNT owns the tunnel's socket; Linux while a peer has no
// session, see PublicAddress in recover_linux.go).
func separateProbe(ctx context.Context, server netip.AddrPort) (netip.AddrPort, error) {
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
