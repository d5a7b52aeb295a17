package winsvc

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

func testConfig(t *testing.T) *conf.Config {
	t.Helper()
	priv, _ := wgtypes.GeneratePrivateKey()
	peer, _ := wgtypes.GeneratePrivateKey()
	return &conf.Config{
		Name: "office",
		Interface: conf.Interface{
			PrivateKey: priv,
			ListenPort: 51820,
			Addresses:  []netip.Prefix{netip.MustParsePrefix("10.77.1.1/24")},
		},
		Peers: []conf.Peer{{
			PublicKey:           peer.PublicKey(),
			Endpoint:            conf.Endpoint{Host: "203.0.113.7", Port: 51821},
			AllowedIPs:          []netip.Prefix{netip.MustParsePrefix("10.77.1.2/32")},
			PersistentKeepalive: conf.DefaultKeepalive,
		}},
	}
}

func TestSanitize(t *testing.T) {
	cfg := testConfig(t)
	text := cfg.MarshalExport(true)
	got, err := Sanitize("office", text)
	if err != nil {
		t.Fatalf("Sanitize of WG Punch's own rendering: %v\n%s", err, text)
	}
	if !bytes.Contains(got, []byte(cfg.Interface.PrivateKey.String())) {
		t.Error("sanitized config lost the private key the service needs")
	}
	if !bytes.Contains(got, []byte("203.0.113.7:51821")) || !bytes.Contains(got, []byte("ListenPort = 51820")) {
		t.Errorf("sanitized config lost endpoint or port:\n%s", got)
	}

	evil := strings.Replace(string(text), "[Interface]", "[Interface]\nPostUp = cmd /c calc.exe", 1)
	out, err := Sanitize("office", []byte(evil))
	if err == nil && bytes.Contains(out, []byte("PostUp")) {
		t.Errorf("PostUp survived sanitizing:\n%s", out)
	}
	if _, err := Sanitize("office", []byte("[Interface]\nPrivateKey = broken\n")); err == nil || !strings.Contains(err.Error(), `config of "office"`) {
		t.Errorf("Sanitize of a broken config = %v", err)
	}
}
