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
	Host string `json:"host"` // the other machine's name as it announced it (for display)
	// Install is the other installation's ID; "" from versions before
	// installation IDs.
	Install string     `json:"install,omitempty"`
	Addr    netip.Addr `json:"addr"`   // its LAN address
	Tunnel  string     `json:"tunnel"` // its tunnel's name
	Port    uint16     `json:"port"`   // the UDP port that tunnel listens on
	Seen    time.Time  `json:"seen"`   // when we last heard it
}

// Self is how an installation recognises announcements of its own: by its
// installation ID, and by host name only where an ID is missing on either
// side (an announcement from an older version, or no ID here).
type Self struct {
	Install string // our installation ID; "" when unknown
	Host    string // our host name as we announce it
}

// Owns reports whether a is one of our own announcements. Two machines
// with the same host name but different installation IDs are two machines.
func (s Self) Owns(a Announcement) bool {
	if s.Install != "" && a.Install != "" {
		return a.Install == s.Install
	}
	return a.Host == s.Host
}
