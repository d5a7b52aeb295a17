package winsvc

import (
	"encoding/json"
	"fmt"
	"net"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// WireGuardNT's device opens only for SYSTEM and the Administrators, so the
// unelevated tray cannot read a tunnel's counters with wgctrl. Each tunnel
// service therefore answers on a named pipe (StatusPipe) with its device as
// JSON, private and preshared keys removed, and DeviceReader falls back to
// it.

// StatusPipe is the named pipe of tunnel name's status.
func StatusPipe(name string) string { return `\\.\pipe\WGPunch\status\` + name }

// StatusPipeSDDL lets SYSTEM (the service) create and use the pipe and
// every authenticated user read from it (clients open it GENERIC_READ only,
// so they cannot create instances of it).
const StatusPipeSDDL = "O:SYD:P(A;;GA;;;SY)(A;;GR;;;AU)"

// maxStatusSize bounds what a reader accepts from the pipe.
const maxStatusSize = 1 << 20

type wirePeer struct {
	PublicKey                   wgtypes.Key   `json:"public_key"`
	Endpoint                    string        `json:"endpoint,omitempty"`
	PersistentKeepaliveInterval time.Duration `json:"keepalive"`
	LastHandshakeTime           time.Time     `json:"last_handshake"`
	ReceiveBytes                int64         `json:"rx"`
	TransmitBytes               int64         `json:"tx"`
	AllowedIPs                  []string      `json:"allowed_ips,omitempty"`
	ProtocolVersion             int           `json:"protocol_version"`
}

type wireDevice struct {
	Name         string      `json:"name"`
	Type         string      `json:"type"`
	PublicKey    wgtypes.Key `json:"public_key"`
	ListenPort   int         `json:"listen_port"`
	FirewallMark int         `json:"fwmark,omitempty"`
	Peers        []wirePeer  `json:"peers"`
}

// EncodeDevice renders d for the status pipe without any secret: the
// private key and preshared keys are not part of the format.
func EncodeDevice(d *wgtypes.Device) ([]byte, error) {
	w := wireDevice{Name: d.Name, Type: d.Type.String(), PublicKey: d.PublicKey, ListenPort: d.ListenPort, FirewallMark: d.FirewallMark}
	for _, p := range d.Peers {
		wp := wirePeer{
			PublicKey:                   p.PublicKey,
			PersistentKeepaliveInterval: p.PersistentKeepaliveInterval,
			LastHandshakeTime:           p.LastHandshakeTime,
			ReceiveBytes:                p.ReceiveBytes,
			TransmitBytes:               p.TransmitBytes,
			ProtocolVersion:             p.ProtocolVersion,
		}
		if p.Endpoint != nil {
			wp.Endpoint = p.Endpoint.String()
		}
		for _, n := range p.AllowedIPs {
			wp.AllowedIPs = append(wp.AllowedIPs, n.String())
		}
		w.Peers = append(w.Peers, wp)
	}
	return json.Marshal(w)
}

// DecodeDevice parses what EncodeDevice wrote.
func DecodeDevice(b []byte) (*wgtypes.Device, error) {
	if len(b) > maxStatusSize {
		return nil, fmt.Errorf("tunnel status too large (%d bytes)", len(b))
	}
	var w wireDevice
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("parse tunnel status: %w", err)
	}
	d := &wgtypes.Device{Name: w.Name, PublicKey: w.PublicKey, ListenPort: w.ListenPort, FirewallMark: w.FirewallMark}
	switch w.Type {
	case wgtypes.LinuxKernel.String():
		d.Type = wgtypes.LinuxKernel
	case wgtypes.OpenBSDKernel.String():
		d.Type = wgtypes.OpenBSDKernel
	case wgtypes.FreeBSDKernel.String():
		d.Type = wgtypes.FreeBSDKernel
	case wgtypes.WindowsKernel.String():
		d.Type = wgtypes.WindowsKernel
	default:
		d.Type = wgtypes.Userspace
	}
	for _, wp := range w.Peers {
		p := wgtypes.Peer{
			PublicKey:                   wp.PublicKey,
			PersistentKeepaliveInterval: wp.PersistentKeepaliveInterval,
			LastHandshakeTime:           wp.LastHandshakeTime,
			ReceiveBytes:                wp.ReceiveBytes,
			TransmitBytes:               wp.TransmitBytes,
			ProtocolVersion:             wp.ProtocolVersion,
		}
		if wp.Endpoint != "" {
			ep, err := net.ResolveUDPAddr("udp", wp.Endpoint)
			if err != nil {
				return nil, fmt.Errorf("parse tunnel status: endpoint %q: %w", wp.Endpoint, err)
			}
			p.Endpoint = ep
		}
		for _, s := range wp.AllowedIPs {
			_, n, err := net.ParseCIDR(s)
			if err != nil {
				return nil, fmt.Errorf("parse tunnel status: allowed IP %q: %w", s, err)
			}
			p.AllowedIPs = append(p.AllowedIPs, *n)
		}
		d.Peers = append(d.Peers, p)
	}
	return d, nil
}
