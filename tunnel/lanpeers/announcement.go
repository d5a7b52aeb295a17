// Package lanpeers announces this machine's tunnel listen ports on the
// local network with mDNS/DNS-SD and finds the ports other machines use,
// so two machines behind one NAT do not pick the same port.
package lanpeers

import (
	"net/netip"
	"time"
)

// LocalTunnel is one of our tunnels and the UDP port it listens on.
// ports.LocalTunnel is the same type.
type LocalTunnel struct {
	Name string `json:"name"`
	Port uint16 `json:"port"`
}

// Announcement is one tunnel port another machine on the LAN announced.
type Announcement struct {
	Host   string     `json:"host"`   // the other machine's name as it announced it
	Addr   netip.Addr `json:"addr"`   // its LAN address
	Tunnel string     `json:"tunnel"` // its tunnel's name
	Port   uint16     `json:"port"`   // the UDP port that tunnel listens on
	Seen   time.Time  `json:"seen"`   // when we last heard it
}
