package natcheck

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
)

// defaultGateways reads the IPv4 default routes' gateways from
// /proc/net/route.
func defaultGateways() ([]netip.Addr, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil, fmt.Errorf("read routes: %w", err)
	}
	defer f.Close()
	return parseRoutes(bufio.NewScanner(f)), nil
}
