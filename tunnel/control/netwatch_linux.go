package control

import (
	"context"

	"github.com/vishvananda/netlink"
)

// netChanges signals (coalesced) when a local address or route changes,
// so the address watch looks at once. nil if netlink cannot be watched.
func netChanges(ctx context.Context, logf func(string, ...any)) <-chan struct{} {
	addrs := make(chan netlink.AddrUpdate, 16)
	routes := make(chan netlink.RouteUpdate, 16)
	done := make(chan struct{})
	if err := netlink.AddrSubscribe(addrs, done); err != nil {
		logf("address watch: cannot follow address changes: %v", err)
		return nil
	}
	if err := netlink.RouteSubscribe(routes, done); err != nil {
		logf("address watch: cannot follow route changes: %v", err)
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-addrs:
				if !ok {
					return
				}
			case _, ok := <-routes:
				if !ok {
					routes = nil
					continue
				}
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out
}
