package conf

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// testKey returns a fixed valid private key derived from b, clamped as
// wg-generated keys are (wg clamps what it is given).
func testKey(b byte) wgtypes.Key {
	k, err := wgtypes.NewKey(bytes.Repeat([]byte{b}, wgtypes.KeyLen))
	if err != nil {
		panic(err)
	}
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
	return k
}

var (
	privA = testKey(1)
	pubA  = privA.PublicKey()
	privB = testKey(2)
	pubB  = privB.PublicKey()
	privC = testKey(3)
	pubC  = privC.PublicKey()
	psk   = testKey(9)
)

// fill replaces {PRIV}, {PUBB}, {PUBC}, {PUBA}, {PSK} in a test file.
func fill(s string) string {
	return strings.NewReplacer(
		"{PRIV}", privA.String(),
		"{PUBA}", pubA.String(),
		"{PUBB}", pubB.String(),
		"{PUBC}", pubC.String(),
		"{PSK}", psk.String(),
	).Replace(s)
}

// secretsOf returns the private and preshared keys a test file contains.
func secretsOf() []string { return []string{privA.String(), psk.String()} }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// fullConfig is a Config using every field.
func fullConfig() *Config {
	k := psk
	return &Config{
		Name: "wgp0",
		Interface: Interface{
			PrivateKey: privA,
			ListenPort: 51820,
			Addresses:  []netip.Prefix{mustPrefix("10.77.12.1/24"), mustPrefix("fd77:12::1/64")},
			DNS:        []netip.Addr{netip.MustParseAddr("10.77.12.2"), netip.MustParseAddr("fd77:12::2")},
			DNSSearch:  []string{"home.arpa"},
			MTU:        1420,
			Meta: InterfaceMeta{
				DisplayName:        "Alice's laptop",
				Subnet:             mustPrefix("10.77.12.0/24"),
				PendingInviteID:    "inv-7Hq2",
				PendingPeerAddress: mustPrefix("10.77.12.3/32"),
				LANs:               []netip.Prefix{mustPrefix("192.168.1.0/24")},
				NATMapping:         "endpoint-independent",
				NATVerdict:         "ok",
			},
		},
		Peers: []Peer{
			{
				PublicKey:           pubB,
				PresharedKey:        &k,
				Endpoint:            Endpoint{Host: "203.0.113.5", Port: 51821},
				AllowedIPs:          []netip.Prefix{mustPrefix("10.77.12.2/32"), mustPrefix("192.168.2.0/24")},
				PersistentKeepalive: DefaultKeepalive,
				Meta: PeerMeta{
					Name:        "  Bob \"the\" PC",
					InviteID:    "inv-1",
					LANEndpoint: Endpoint{Host: "192.168.1.20", Port: 51821},
					LANs:        []netip.Prefix{mustPrefix("192.168.2.0/24")},
					ReachAs:     []LANAlias{{LAN: mustPrefix("192.168.2.0/24"), As: mustPrefix("10.9.2.0/24")}},
					ServeAs:     []LANAlias{{LAN: mustPrefix("192.168.1.0/24"), As: mustPrefix("10.9.1.0/24")}},
					NATMapping:  "endpoint-independent",
					NATVerdict:  "warning",
					Endpoint4:   Endpoint{Host: "203.0.113.5", Port: 51821},
					Endpoint6:   Endpoint{Host: "2001:db8::5", Port: 51821},
				},
			},
			{
				PublicKey:  pubC,
				Endpoint:   Endpoint{Host: "2001:db8::7", Port: 4500},
				AllowedIPs: []netip.Prefix{mustPrefix("10.77.12.4/32"), mustPrefix("fd77:12::4/128")},
				Meta:       PeerMeta{Name: "Carol 🙂"},
			},
		},
	}
}

// checkNoSecret fails if err's text contains a secret.
func checkNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, secretsOf()...) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

func asParseError(t *testing.T, err error) *ParseError {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	return pe
}

// cmpOpts compares netip values by ==.
var cmpOpts = []cmp.Option{cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})}
