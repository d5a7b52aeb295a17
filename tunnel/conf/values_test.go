package conf

import (
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestParseKey(t *testing.T) {
	good := privA.String()
	nonCanonical := []byte(good)
	nonCanonical[42] ^= 1
	tests := []struct {
		in      string
		wantErr string
	}{
		{good, ""},
		{pubB.String(), ""},
		{"", "44 characters"},
		{good[:43], "44 characters"},
		{good + "A", "44 characters"},
		{" " + good[1:], "44 characters"},
		{base64.StdEncoding.EncodeToString(make([]byte, 31)), "44 characters"},
		{base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xfb", 32))), "44 characters"},
		{string(nonCanonical), "canonical"},
		{wgtypes.Key{}.String(), "all zeros"},
	}
	for _, tt := range tests {
		k, err := ParseKey(tt.in)
		if tt.wantErr == "" {
			if err != nil || k.String() != tt.in {
				t.Errorf("ParseKey(%q) = %v, %v", tt.in, k, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseKey(%q) error = %v, want %q", tt.in, err, tt.wantErr)
		}
		if err != nil && tt.in != "" && strings.Contains(err.Error(), tt.in) {
			t.Errorf("ParseKey error %q echoes the input", err)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		want    Endpoint
		str     string
		wantErr string
	}{
		{in: "203.0.113.1:51820", want: Endpoint{"203.0.113.1", 51820}, str: "203.0.113.1:51820"},
		{in: "[2001:db8::1]:1", want: Endpoint{"2001:db8::1", 1}, str: "[2001:db8::1]:1"},
		{in: "[2001:DB8:0:0::1]:65535", want: Endpoint{"2001:db8::1", 65535}, str: "[2001:db8::1]:65535"},
		{in: "[fe80::1%eth0]:5", want: Endpoint{"fe80::1%eth0", 5}, str: "[fe80::1%eth0]:5"},
		{in: "home.example.org:51820", want: Endpoint{"home.example.org", 51820}, str: "home.example.org:51820"},
		{in: "localhost:1", want: Endpoint{"localhost", 1}, str: "localhost:1"},
		{in: "xn--bcher-kva.example.:2", want: Endpoint{"xn--bcher-kva.example.", 2}, str: "xn--bcher-kva.example.:2"},
		{in: "", wantErr: "empty"},
		{in: "1.2.3.4", wantErr: "expected IP:port"},
		{in: "1.2.3.4:", wantErr: "port is missing"},
		{in: ":51820", wantErr: "host is missing"},
		{in: "1.2.3.4:0", wantErr: "out of range"},
		{in: "1.2.3.4:65536", wantErr: "out of range"},
		{in: "1.2.3.4:+1", wantErr: "not a number"},
		{in: "1.2.3.4:ssh", wantErr: "not a number"},
		{in: "2001:db8::1:51820", wantErr: "brackets"},
		{in: "[1.2.3.4]:51820", wantErr: "only IPv6"},
		{in: "[host]:51820", wantErr: "not an IPv6"},
		{in: "1.2.3.999:51820", wantErr: "not a valid IP address"},
		{in: "10.1:51820", wantErr: "not a valid IP address"},
		{in: "a..b:1", wantErr: "not a valid host name"},
		{in: "bad!host.example:1", wantErr: "not a valid"},
		{in: "_srv.under_score.example:1", want: Endpoint{"_srv.under_score.example", 1}, str: "_srv.under_score.example:1"},
		{in: "-a.example:1", wantErr: "not a valid host name"},
		{in: "a-.example:1", wantErr: "not a valid host name"},
		{in: strings.Repeat("a", 64) + ".example:1", wantErr: "not a valid host name"},
		{in: strings.Repeat("abcdefg.", 32) + "com:1", wantErr: "not a valid host name"},
		{in: "[fe80::1%a b]:5", wantErr: "zone"},
		{in: "host name:1", wantErr: "not a valid"},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEndpoint(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEndpoint(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseEndpoint(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if got.String() != tt.str {
			t.Errorf("String() = %q, want %q", got.String(), tt.str)
		}
		if got.IsZero() {
			t.Errorf("IsZero() = true for %q", tt.in)
		}
		again, err := ParseEndpoint(got.String())
		if err != nil || again != got {
			t.Errorf("ParseEndpoint(String()) = %v, %v", again, err)
		}
	}
	if !(Endpoint{}).IsZero() || (Endpoint{}).String() != "" {
		t.Error("zero Endpoint is not zero")
	}
	if ap, ok := (Endpoint{"192.0.2.1", 7}).AddrPort(); !ok || ap != netip.MustParseAddrPort("192.0.2.1:7") {
		t.Errorf("AddrPort = %v, %v", ap, ok)
	}
	if _, ok := (Endpoint{"example.org", 7}).AddrPort(); ok {
		t.Error("AddrPort of a host name is ok")
	}
}

func TestValidateName(t *testing.T) {
	for _, n := range []string{"wgp0", "a", "A_b=c+d.e-f", "123456789012345", "x.."} {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q): %v", n, err)
		}
	}
	for _, n := range []string{"", ".", "..", "-x", "1234567890123456", "a/b", "../x", `a\b`, "a b", "a:b", "é", "a\x00", "a\n"} {
		if err := ValidateName(n); err == nil {
			t.Errorf("ValidateName(%q) accepted", n)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(c *Config)
		wantErr string
	}{
		{"valid", func(c *Config) {}, ""},
		{"no name is fine", func(c *Config) { c.Name = "" }, ""},
		{"bad name", func(c *Config) { c.Name = "../x" }, "tunnel name"},
		{"no private key", func(c *Config) { c.Interface.PrivateKey = wgtypes.Key{} }, "PrivateKey is missing"},
		{"no public key", func(c *Config) { c.Peers[1].PublicKey = wgtypes.Key{} }, `[Peer] 2 ("Carol 🙂"): PublicKey is missing`},
		{"own key", func(c *Config) { c.Peers[0].PublicKey = pubA }, "own public key"},
		{"duplicate peer", func(c *Config) { c.Peers[1].PublicKey = pubB }, "same PublicKey as peer 1"},
		{"zero psk", func(c *Config) { c.Peers[0].PresharedKey = new(wgtypes.Key) }, "PresharedKey is all zeros"},
		{"endpoint no port", func(c *Config) { c.Peers[0].Endpoint.Port = 0 }, "Endpoint"},
		{"endpoint port no host", func(c *Config) { c.Peers[0].Endpoint = Endpoint{Port: 4} }, "Endpoint"},
		{"endpoint not canonical", func(c *Config) { c.Peers[0].Endpoint.Host = "2001:DB8::1" }, "canonical"},
		{"endpoint bad host", func(c *Config) { c.Peers[0].Endpoint.Host = "a b" }, "Endpoint"},
		{"unmasked allowed ip", func(c *Config) { c.Peers[0].AllowedIPs[1] = mustPrefix("192.168.2.1/24") }, "host bits"},
		{"invalid allowed ip", func(c *Config) { c.Peers[0].AllowedIPs[1] = netip.Prefix{} }, "invalid"},
		{"shared allowed ip", func(c *Config) { c.Peers[1].AllowedIPs[0] = mustPrefix("10.77.12.2/32") }, "also given to peer 1"},
		{"mtu small", func(c *Config) { c.Interface.MTU = 100 }, "MTU 100 is too small"},
		{"mtu small v6", func(c *Config) { c.Interface.MTU = 1000 }, "IPv6"},
		{"mtu ok v4 only", func(c *Config) { c.Interface.MTU = 1000; c.Interface.Addresses = c.Interface.Addresses[:1] }, ""},
		{"dup address", func(c *Config) { c.Interface.Addresses[1] = c.Interface.Addresses[0] }, "listed twice"},
		{"bad search domain", func(c *Config) { c.Interface.DNSSearch = []string{"a,b"} }, "DNS"},
		{"bad dns", func(c *Config) { c.Interface.DNS = []netip.Addr{{}} }, "DNS"},
		{"name newline", func(c *Config) { c.Peers[0].Meta.Name = "a\nb" }, "control character"},
		{"name too long", func(c *Config) { c.Interface.Meta.DisplayName = strings.Repeat("x", 65) }, "too long"},
		{"name spaces only", func(c *Config) { c.Peers[0].Meta.Name = "   " }, "empty"},
		{"bad invite id", func(c *Config) { c.Peers[0].Meta.InviteID = "a#b" }, "invite ID"},
		{"bad verdict", func(c *Config) { c.Peers[0].Meta.NATVerdict = "o k" }, "NATVerdict"},
		{"bad subnet", func(c *Config) { c.Interface.Meta.Subnet = mustPrefix("10.77.12.1/24") }, "host bits"},
		{"bad LANs", func(c *Config) { c.Peers[0].Meta.LANs = append(c.Peers[0].Meta.LANs, c.Peers[0].Meta.LANs[0]) }, "listed twice"},
		{"bad LAN endpoint", func(c *Config) { c.Peers[0].Meta.LANEndpoint.Port = 0 }, "LANEndpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fullConfig()
			tt.mod(c)
			err := c.Validate()
			checkNoSecret(t, err)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				// A valid config survives Marshal and Parse unchanged.
				got, err := Parse(c.Name, c.Marshal())
				if err != nil {
					t.Fatalf("Parse(Marshal()): %v", err)
				}
				if diff := cmp.Diff(c, got, cmpOpts...); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCloneRedacted(t *testing.T) {
	c := fullConfig()
	cl := c.Clone()
	if diff := cmp.Diff(c, cl, cmpOpts...); diff != "" {
		t.Fatalf("Clone differs (-want +got):\n%s", diff)
	}
	cl.Interface.Addresses[0] = mustPrefix("1.1.1.1/32")
	cl.Peers[0].AllowedIPs[0] = mustPrefix("1.1.1.1/32")
	*cl.Peers[0].PresharedKey = privC
	cl.Peers[0].Meta.LANs[0] = mustPrefix("1.1.1.0/24")
	cl.Interface.Meta.LANs[0] = mustPrefix("1.1.1.0/24")
	cl.Interface.DNSSearch[0] = "x"
	if diff := cmp.Diff(fullConfig(), c, cmpOpts...); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}

	r := c.Redacted()
	if r.Interface.PrivateKey != (wgtypes.Key{}) {
		t.Error("Redacted kept the private key")
	}
	for _, p := range r.Peers {
		if p.PresharedKey != nil {
			t.Error("Redacted kept a preshared key")
		}
	}
	if c.Interface.PrivateKey != privA || c.Peers[0].PresharedKey == nil {
		t.Error("Redacted changed the original")
	}
	text := string(r.Marshal())
	for _, s := range secretsOf() {
		if strings.Contains(text, s) {
			t.Errorf("Redacted().Marshal() contains a secret")
		}
	}
	var nilCfg *Config
	if nilCfg.Clone() != nil || nilCfg.Redacted() != nil {
		t.Error("nil Clone/Redacted is not nil")
	}
}

func TestMarshalExport(t *testing.T) {
	c := fullConfig()
	noKey := string(c.MarshalExport(false))
	for _, s := range secretsOf() {
		if strings.Contains(noKey, s) {
			t.Errorf("MarshalExport(false) contains a secret:\n%s", noKey)
		}
	}
	for _, want := range []string{"# PrivateKey = <not exported", "wgpunch export --private-key wgp0", "PublicKey = " + pubB.String(), "Endpoint = 203.0.113.5:51821", "# Peer: \"  Bob \\\"the\\\" PC\""} {
		if !strings.Contains(noKey, want) {
			t.Errorf("MarshalExport(false) lacks %q:\n%s", want, noKey)
		}
	}
	if strings.Contains(noKey, "wgpunch.") {
		t.Errorf("MarshalExport has WG Punch metadata:\n%s", noKey)
	}
	withKey := c.MarshalExport(true)
	got, err := Parse("wgp0", withKey)
	if err != nil {
		t.Fatalf("Parse(MarshalExport(true)): %v\n%s", err, withKey)
	}
	want := c.Clone()
	want.Interface.Meta = InterfaceMeta{}
	for i := range want.Peers {
		want.Peers[i].Meta = PeerMeta{}
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("export round trip (-want +got):\n%s", diff)
	}
}
