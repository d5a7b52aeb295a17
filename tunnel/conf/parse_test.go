package conf

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestRoundTrip(t *testing.T) {
	want := fullConfig()
	if err := want.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	text := want.Marshal()
	got, err := Parse("wgp0", text)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, text)
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("Parse(Marshal()) mismatch (-want +got):\n%s", diff)
	}
	if again := got.Marshal(); string(again) != string(text) {
		t.Errorf("Marshal is not stable:\n%s\n---\n%s", text, again)
	}
}

func TestMarshalGolden(t *testing.T) {
	c := &Config{
		Name: "wgp0",
		Interface: Interface{
			PrivateKey: privA,
			ListenPort: 51820,
			Addresses:  []netip.Prefix{mustPrefix("10.77.12.1/24")},
			Meta:       InterfaceMeta{DisplayName: "Alice", Subnet: mustPrefix("10.77.12.0/24")},
		},
		Peers: []Peer{{
			PublicKey:           pubB,
			AllowedIPs:          []netip.Prefix{mustPrefix("10.77.12.2/32")},
			Endpoint:            Endpoint{Host: "198.51.100.1", Port: 40000},
			PersistentKeepalive: 5,
			Meta:                PeerMeta{Name: "Bob"},
		}},
	}
	want := fill(`# WireGuard tunnel managed by WG Punch (wgpunch).
# Lines starting with "# wgpunch." are WG Punch's own data; wg-quick ignores them.
[Interface]
# wgpunch.DisplayName = Alice
# wgpunch.Subnet = 10.77.12.0/24
PrivateKey = {PRIV}
ListenPort = 51820
Address = 10.77.12.1/24

[Peer]
# wgpunch.Name = Bob
PublicKey = {PUBB}
AllowedIPs = 10.77.12.2/32
Endpoint = 198.51.100.1:40000
PersistentKeepalive = 5
`)
	if diff := cmp.Diff(want, string(c.Marshal())); diff != "" {
		t.Errorf("Marshal mismatch (-want +got):\n%s", diff)
	}
}

func TestParseAccepts(t *testing.T) {
	base := &Config{
		Name: "t",
		Interface: Interface{
			PrivateKey: privA,
			ListenPort: 51820,
			Addresses:  []netip.Prefix{mustPrefix("10.0.0.1/24")},
		},
		Peers: []Peer{{
			PublicKey:  pubB,
			AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.2/32")},
		}},
	}
	tests := []struct {
		name string
		in   string
		want func(c *Config)
	}{
		{
			name: "plain",
			in:   "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n[Peer]\nPublicKey = {PUBB}\nAllowedIPs = 10.0.0.2/32\n",
		},
		{
			name: "case-insensitive keys and sections, odd spacing, CRLF, BOM, comments",
			in: "\ufeff# hello\r\n[interface]\r\n  privatekey={PRIV}   # inline comment\r\nLISTENPORT\t=\t51820\r\n\r\naddress = 10.0.0.1/24\r\n" +
				"[PEER]\r\npublicKEY = {PUBB}\r\n   # indented comment\r\nallowedips = 10.0.0.2\r\n",
		},
		{
			name: "repeated list keys accumulate",
			in:   "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\nAddress = fd00::1/64\n[Peer]\nPublicKey = {PUBB}\nAllowedIPs = 10.0.0.2/32\nAllowedIPs = 10.9.0.0/16, 0.0.0.0/0\n",
			want: func(c *Config) {
				c.Interface.Addresses = append(c.Interface.Addresses, mustPrefix("fd00::1/64"))
				c.Peers[0].AllowedIPs = append(c.Peers[0].AllowedIPs, mustPrefix("10.9.0.0/16"), mustPrefix("0.0.0.0/0"))
			},
		},
		{
			name: "AllowedIPs host bits are cleared like wg does",
			in:   "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n[Peer]\nPublicKey = {PUBB}\nAllowedIPs = 10.0.0.2/32, 192.168.7.9/24\n",
			want: func(c *Config) {
				c.Peers[0].AllowedIPs = append(c.Peers[0].AllowedIPs, mustPrefix("192.168.7.0/24"))
			},
		},
		{
			name: "DNS servers and search domains, MTU, PSK, keepalive, hostname endpoint",
			in: "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\nDNS = 10.0.0.53, corp.example, 2001:db8::53\nMTU = 1280\n" +
				"[Peer]\nPublicKey = {PUBB}\nPresharedKey = {PSK}\nAllowedIPs = 10.0.0.2/32\nEndpoint = my-home.dyndns.example.org:51820\nPersistentKeepalive = 25\n",
			want: func(c *Config) {
				c.Interface.DNS = []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("2001:db8::53")}
				c.Interface.DNSSearch = []string{"corp.example"}
				c.Interface.MTU = 1280
				k := psk
				c.Peers[0].PresharedKey = &k
				c.Peers[0].Endpoint = Endpoint{Host: "my-home.dyndns.example.org", Port: 51820}
				c.Peers[0].PersistentKeepalive = 25
			},
		},
		{
			name: "IPv6 endpoint is canonicalised, keepalive off",
			in:   "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n[Peer]\nPublicKey = {PUBB}\nAllowedIPs = 10.0.0.2/32\nEndpoint = [2001:DB8:0::1]:1\nPersistentKeepalive = off\n",
			want: func(c *Config) { c.Peers[0].Endpoint = Endpoint{Host: "2001:db8::1", Port: 1} },
		},
		{
			name: "metadata with quoted names, any case",
			in: "[Interface]\n# WGPUNCH.displayname = \" Alice \"\n#wgpunch.Subnet=10.0.0.0/24\nPrivateKey = {PRIV}\nListenPort = 51820\nAddress = 10.0.0.1/24\n" +
				"# not metadata: wgpunch.Whatever = 1\n[Peer]\n# wgpunch.Name = Bob #2\n# wgpunch.LANEndpoint = 192.168.1.9:51820\n# wgpunch.LANs = 192.168.9.0/24, 10.1.0.0/16\nPublicKey = {PUBB}\nAllowedIPs = 10.0.0.2/32\n",
			want: func(c *Config) {
				c.Interface.Meta.DisplayName = " Alice "
				c.Interface.Meta.Subnet = mustPrefix("10.0.0.0/24")
				c.Peers[0].Meta.Name = "Bob #2"
				c.Peers[0].Meta.LANEndpoint = Endpoint{Host: "192.168.1.9", Port: 51820}
				c.Peers[0].Meta.LANs = []netip.Prefix{mustPrefix("192.168.9.0/24"), mustPrefix("10.1.0.0/16")}
			},
		},
		{
			name: "no peers, no ListenPort",
			in:   "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\n",
			want: func(c *Config) { c.Peers = nil; c.Interface.ListenPort = 0 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := base.Clone()
			if tt.want != nil {
				tt.want(want)
			}
			got, err := Parse("t", []byte(fill(tt.in)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			again, err := Parse("t", got.Marshal())
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v", err)
			}
			if diff := cmp.Diff(got, again, cmpOpts...); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// head is a valid [Interface] start for rejection tests (lines 1-3).
const head = "[Interface]\nPrivateKey = {PRIV}\nListenPort = 51820\n"

// peer is a valid [Peer] start (2 lines).
const peer = "[Peer]\nPublicKey = {PUBB}\n"

func TestParseRejects(t *testing.T) {
	nonCanonical := []byte(pubB.String())
	nonCanonical[42] ^= 1 // flips bits that canonical base64 keeps zero
	tests := []struct {
		name     string
		in       string
		line     int
		contains string
	}{
		{"empty file", "", 1, "no [Interface]"},
		{"only comments", "# hi\n", 1, "no [Interface]"},
		{"key outside section", "PrivateKey = {PRIV}\n[Interface]\n", 1, "outside a section"},
		{"garbage line", head + "hello\n", 4, "expected Key = Value"},
		{"pasted private key line", head + "{PSK}\n", 4, "expected Key = Value"},
		{"unknown interface key", head + "Foo = bar\n", 4, `unknown key "Foo" in [Interface]`},
		{"unknown peer key", head + peer + "Endpiont = 1.2.3.4:5\n", 6, `unknown key "Endpiont" in [Peer]`},
		{"unknown section", head + "[Peers]\n", 4, "unknown section [Peers]"},
		{"second interface", head + "[Interface]\n", 4, "second [Interface]"},
		{"peer before interface", "[Peer]\nPublicKey = {PUBB}\n", 1, "[Peer] before [Interface]"},
		{"empty value", head + "Address =\n", 4, "Address has no value"},
		{"PostUp", head + "PostUp = iptables -A FORWARD -j ACCEPT\n", 4, "PostUp scripts are not supported"},
		{"PreUp", head + "preup = rm -rf /\n", 4, "PreUp scripts are not supported"},
		{"PreDown", head + "PreDown = x\n", 4, "will not run commands"},
		{"PostDown", head + "PostDown = x\n", 4, "PostDown scripts are not supported"},
		{"SaveConfig", head + "SaveConfig = true\n", 4, "SaveConfig is not supported"},
		{"Table", head + "Table = off\n", 4, "Table is not supported"},
		{"FwMark", head + "FwMark = 0x1234\n", 4, "FwMark is not supported"},
		{"missing private key", "[Interface]\nListenPort = 51820\n", 1, "PrivateKey is missing"},
		{"duplicate private key", head + "PrivateKey = {PRIV}\n", 4, "PrivateKey appears twice"},
		{"short private key", "[Interface]\nPrivateKey = {PRIV}x\n", 2, "PrivateKey: not a valid WireGuard key"},
		{"private key bad base64", "[Interface]\nPrivateKey = " + strings.Repeat("!", 43) + "=\n", 2, "PrivateKey: not a valid WireGuard key"},
		{"private key all zeros", "[Interface]\nPrivateKey = " + wgtypes.Key{}.String() + "\n", 2, "all zeros"},
		{"non-canonical public key", head + "[Peer]\nPublicKey = " + string(nonCanonical) + "\n", 5, "canonical"},
		{"public key 31 bytes", head + "[Peer]\nPublicKey = " + base64.StdEncoding.EncodeToString(make([]byte, 31)) + "\n", 5, "not a valid WireGuard key"},
		{"public key all zeros", head + "[Peer]\nPublicKey = " + wgtypes.Key{}.String() + "\n", 5, "all zeros"},
		{"psk all zeros", head + peer + "PresharedKey = " + wgtypes.Key{}.String() + "\n", 6, "all zeros"},
		{"bad psk", head + peer + "PresharedKey = {PSK}A\n", 6, "PresharedKey: not a valid"},
		{"duplicate psk", head + peer + "PresharedKey = {PSK}\nPresharedKey = {PSK}\n", 7, "PresharedKey appears twice"},
		{"missing public key", head + "[Peer]\nAllowedIPs = 10.0.0.2/32\n", 4, "PublicKey is missing"},
		{"duplicate public key line", head + peer + "PublicKey = {PUBC}\n", 6, "PublicKey appears twice"},
		{"duplicate peers", head + peer + "[Peer]\nPublicKey = {PUBB}\n", 7, "the same PublicKey as the peer on line 5"},
		{"peer is ourselves", head + "[Peer]\nPublicKey = {PUBA}\n", 5, "own public key"},
		{"port zero", "[Interface]\nPrivateKey = {PRIV}\nListenPort = 0\n", 3, "out of range"},
		{"port too big", "[Interface]\nPrivateKey = {PRIV}\nListenPort = 65536\n", 3, "port 65536 is out of range"},
		{"port negative", "[Interface]\nPrivateKey = {PRIV}\nListenPort = -1\n", 3, `port "-1" is not a number`},
		{"port words", "[Interface]\nPrivateKey = {PRIV}\nListenPort = wireguard\n", 3, "not a number"},
		{"duplicate ListenPort", head + "ListenPort = 51821\n", 4, "ListenPort appears twice"},
		{"MTU too small", head + "MTU = 500\n", 4, `MTU "500" is not valid`},
		{"MTU too big", head + "MTU = 70000\n", 4, "MTU"},
		{"MTU words", head + "MTU = auto\n", 4, "MTU"},
		{"MTU small for IPv6", head + "Address = fd00::1/64\nMTU = 1000\n", 5, "too small for an IPv6 address"},
		{"duplicate MTU", head + "MTU = 1400\nMTU = 1400\n", 5, "MTU appears twice"},
		{"bad address", head + "Address = 10.0.0.300/24\n", 4, `"10.0.0.300/24" is not an IP address`},
		{"bad prefix length", head + "Address = 10.0.0.1/33\n", 4, "Address"},
		{"empty list element", head + "Address = 10.0.0.1/24,,10.0.0.2/24\n", 4, "empty element"},
		{"trailing comma", head + "Address = 10.0.0.1/24,\n", 4, "empty element"},
		{"duplicate address", head + "Address = 10.0.0.1/24\nAddress = 10.0.0.1/24\n", 4, "listed twice"},
		{"bad DNS", head + "DNS = 1.2.3.4, -bad-\n", 4, "DNS"},
		{"bad AllowedIPs", head + peer + "AllowedIPs = 10.0.0.0/8, nope\n", 6, `AllowedIPs: "nope"`},
		{"AllowedIPs empty element", head + peer + "AllowedIPs = 10.0.0.0/8,,10.1.0.0/16\n", 6, "empty element"},
		{"AllowedIPs twice in a peer", head + peer + "AllowedIPs = 10.0.0.0/8, 10.0.0.0/8\n", 6, "listed twice"},
		{"AllowedIPs on two peers", head + peer + "AllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = {PUBC}\nAllowedIPs = 10.0.0.0/8\n", 9, "also given to the peer on line 5"},
		{"keepalive too big", head + peer + "PersistentKeepalive = 65536\n", 6, "PersistentKeepalive"},
		{"keepalive negative", head + peer + "PersistentKeepalive = -5\n", 6, "PersistentKeepalive"},
		{"keepalive words", head + peer + "PersistentKeepalive = often\n", 6, `PersistentKeepalive "often"`},
		{"duplicate keepalive", head + peer + "PersistentKeepalive = 5\npersistentkeepalive = 5\n", 7, "appears twice"},
		{"endpoint without port", head + peer + "Endpoint = 1.2.3.4\n", 6, "Endpoint"},
		{"endpoint port zero", head + peer + "Endpoint = 1.2.3.4:0\n", 6, "out of range"},
		{"endpoint port huge", head + peer + "Endpoint = 1.2.3.4:99999\n", 6, "out of range"},
		{"endpoint service name", head + peer + "Endpoint = 1.2.3.4:http\n", 6, "not a number"},
		{"endpoint v6 no brackets", head + peer + "Endpoint = 2001:db8::1:51820\n", 6, "brackets"},
		{"endpoint v4 in brackets", head + peer + "Endpoint = [1.2.3.4]:51820\n", 6, "brackets"},
		{"endpoint bad IPv4", head + peer + "Endpoint = 1.2.3.256:51820\n", 6, "not a valid IP address"},
		{"endpoint bad hostname", head + peer + "Endpoint = bad*host.example:51820\n", 6, "not a valid host name"},
		{"endpoint hostname dash", head + peer + "Endpoint = -x.example:51820\n", 6, "not a valid host name"},
		{"duplicate endpoint", head + peer + "Endpoint = 1.2.3.4:5\nEndpoint = 1.2.3.4:6\n", 7, "Endpoint appears twice"},
		{"control character", head + "Address = 10.0.0.1/24\x00\n", 4, "control character"},
		{"invalid UTF-8", head + "# \xff\xfe\n", 4, "UTF-8"},
		{"meta outside section", "# wgpunch.DisplayName = x\n[Interface]\nPrivateKey = {PRIV}\n", 1, "outside a section"},
		{"meta unknown", head + "# wgpunch.Colour = blue\n", 4, `unknown WG Punch setting wgpunch.Colour in [Interface]`},
		{"meta peer key in interface", head + "# wgpunch.Name = x\n", 4, "unknown WG Punch setting wgpunch.Name"},
		{"meta no equals", head + "# wgpunch.DisplayName\n", 4, "expected"},
		{"meta empty", head + "# wgpunch.DisplayName =\n", 4, "has no value"},
		{"meta duplicate", head + "# wgpunch.NATVerdict = ok\n# wgpunch.natverdict = ok\n", 5, "appears twice"},
		{"meta bad subnet", head + "# wgpunch.Subnet = 10.0.0.1/24\n", 4, "host bits set: did you mean 10.0.0.0/24"},
		{"meta bad LANs", head + "# wgpunch.LANs = 192.168.1.0/24,,\n", 4, "empty element"},
		{"meta duplicate LANs", head + "# wgpunch.LANs = 192.168.1.0/24, 192.168.1.0/24\n", 4, "listed twice"},
		{"alias without as", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 10.9.1.0/24\n", 6, `expected "LAN as ALIAS"`},
		{"alias other size", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 as 10.9.0.0/16\n", 6, "same size"},
		{"alias other family", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 as fd00::/120\n", 6, "both be IPv4 or both IPv6"},
		{"alias host bits", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 as 10.9.1.7/24\n", 6, "host bits set"},
		{"alias of itself", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 as 192.168.1.0/24\n", 6, "overlaps the LAN itself"},
		{"alias twice", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 as 10.9.1.0/24, 192.168.1.0/24 as 10.9.2.0/24\n", 6, "two aliases"},
		{"aliases overlap", head + peer + "# wgpunch.ServeAs = 192.168.1.0/24 as 10.9.1.0/24, 192.168.2.0/24 as 10.9.1.0/24\n", 6, "overlap"},
		{"meta bad quote", head + "# wgpunch.DisplayName = \"abc\n", 4, "bad quoted text"},
		{"meta control char in quotes", head + "# wgpunch.DisplayName = \"a\\nb\"\n", 4, "control character"},
		{"meta bidi override", head + "# wgpunch.DisplayName = abc\u202Edef\n", 4, "control character"},
		{"meta name too long", head + "# wgpunch.DisplayName = " + strings.Repeat("é", 65) + "\n", 4, "too long"},
		{"meta bad verdict", head + "# wgpunch.NATVerdict = not ok\n", 4, "single word"},
		{"meta bad invite id", head + "# wgpunch.PendingInviteID = a b\n", 4, "invite ID"},
		{"meta bad LAN endpoint", head + peer + "# wgpunch.LANEndpoint = 192.168.1.1:0\n", 6, "out of range"},
		{"meta key in value", head + "# wgpunch.DisplayName = {PRIV}\n", 4, "looks like a WireGuard key"},
		{"private key in Address", head + "Address = {PRIV}\n", 4, "looks like a WireGuard key"},
		{"private key as key name", head + "{PRIV} = 1\n", 4, ""},
		{"key name is a secret prefix", head + "{PSK}\n", 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fill(tt.in)
			c, err := Parse("wgp0", []byte(in))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s\nresult: %+v", in, c)
			}
			checkNoSecret(t, err)
			pe := asParseError(t, err)
			if tt.line != 0 {
				if pe.Line != tt.line {
					t.Errorf("error %q is on line %d, want %d", err, pe.Line, tt.line)
				}
				if prefix := fmt.Sprintf("line %d: ", tt.line); !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error %q does not start with %q", err, prefix)
				}
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

func TestParseName(t *testing.T) {
	in := []byte(fill(head))
	if _, err := Parse("../etc", in); err == nil {
		t.Error("Parse accepted name ../etc")
	}
	c, err := Parse("", in)
	if err != nil || c.Name != "" {
		t.Errorf("Parse with no name = %v, %v", c, err)
	}
	if _, err := Parse("x", make([]byte, MaxFileSize+1)); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge file: %v", err)
	}
}
