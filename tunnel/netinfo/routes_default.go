//go:build !linux && !windows

package netinfo

// tableRoutes: the routing table is not read on this OS; interface subnets
// (osInfo.Routes) are all the Service sees.
func tableRoutes() []Route { return nil }

// defaultIface: unknown on this OS; PrimaryIPv4 takes the first usable
// address.
func defaultIface() string { return "" }
