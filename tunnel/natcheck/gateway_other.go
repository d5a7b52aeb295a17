//go:build !linux

package natcheck

import "net/netip"

// defaultGateways is not implemented here: a carrier-grade NAT is then
// only explained when a STUN server sees its address.
func defaultGateways() ([]netip.Addr, error) { return nil, nil }
