package winsvc

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestDeviceRoundTrip(t *testing.T) {
	priv, _ := wgtypes.GeneratePrivateKey()
	psk, _ := wgtypes.GenerateKey()
	peerKey, _ := wgtypes.GeneratePrivateKey()
	_, lan, _ := net.ParseCIDR("192.168.7.0/24")
	_, tun, _ := net.ParseCIDR("10.77.1.2/32")
	hs := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	in := &wgtypes.Device{
		Name:       "office",
		Type:       wgtypes.WindowsKernel,
		PrivateKey: priv,
		PublicKey:  priv.PublicKey(),
		ListenPort: 51820,
		Peers: []wgtypes.Peer{{
			PublicKey:                   peerKey.PublicKey(),
			PresharedKey:                psk,
			Endpoint:                    &net.UDPAddr{IP: net.ParseIP("203.0.113.9"), Port: 51821},
			PersistentKeepaliveInterval: 5 * time.Second,
			LastHandshakeTime:           hs,
			ReceiveBytes:                1234,
			TransmitBytes:               5678,
			AllowedIPs:                  []net.IPNet{*tun, *lan},
			ProtocolVersion:             1,
		}, {
			PublicKey: priv.PublicKey(), // a peer without endpoint or traffic
		}},
	}
	b, err := EncodeDevice(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []wgtypes.Key{priv, psk} {
		asJSON, _ := json.Marshal(secret)
		if bytes.Contains(b, []byte(secret.String())) || bytes.Contains(b, asJSON) {
			t.Fatalf("status JSON carries a secret key: %s", b)
		}
	}
	got, err := DecodeDevice(b)
	if err != nil {
		t.Fatal(err)
	}
	want := *in
	want.PrivateKey = wgtypes.Key{}
	want.Peers = append([]wgtypes.Peer(nil), in.Peers...)
	want.Peers[0].PresharedKey = wgtypes.Key{}
	if diff := cmp.Diff(&want, got, cmp.Comparer(func(a, b net.IP) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestDecodeDeviceErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "parse tunnel status"},
		{"{", "parse tunnel status"},
		{`{"peers":[{"endpoint":"nonsense"}]}`, "endpoint"},
		{`{"peers":[{"allowed_ips":["10.0.0.0/99"]}]}`, "allowed IP"},
		{strings.Repeat(" ", maxStatusSize+1), "too large"},
	}
	for _, tt := range tests {
		_, err := DecodeDevice([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeDevice(%.20q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}
