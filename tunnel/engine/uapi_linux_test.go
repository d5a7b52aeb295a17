package engine

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

func testKey(seed byte) wgtypes.Key {
	var k wgtypes.Key
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func pfx(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func unitConfig() *conf.Config {
	psk := testKey(200)
	return &conf.Config{
		Name: "home",
		Interface: conf.Interface{
			PrivateKey: testKey(1),
			ListenPort: 51820,
			Addresses:  pfx("10.77.12.1/24", "fd77::1/64"),
		},
		Peers: []conf.Peer{
			{
				PublicKey:           testKey(100),
				Endpoint:            conf.Endpoint{Host: "198.51.100.7", Port: 51821},
				AllowedIPs:          pfx("10.77.12.2/32", "192.168.5.0/24", "fd77::2/128"),
				PersistentKeepalive: 5,
			},
			{
				PublicKey:    testKey(150),
				PresharedKey: &psk,
				AllowedIPs:   pfx("10.77.12.3/32", "192.168.5.7/24", "10.8.0.0/16"),
			},
		},
	}
}

func TestUAPIConfigFresh(t *testing.T) {
	cfg := unitConfig()
	eps := map[wgtypes.Key]netip.AddrPort{testKey(100): netip.MustParseAddrPort("198.51.100.7:51821")}
	got := uapiConfig(cfg, &tunnel{}, true, eps)
	k := func(seed byte) string { x := testKey(seed); return fmt.Sprintf("%x", x[:]) }
	want := "private_key=" + k(1) + "\n" +
		"listen_port=51820\n" +
		"replace_peers=true\n" +
		"public_key=" + k(100) + "\n" +
		"preshared_key=" + strings.Repeat("0", 64) + "\n" +
		"endpoint=198.51.100.7:51821\n" +
		"persistent_keepalive_interval=5\n" +
		"replace_allowed_ips=true\n" +
		"allowed_ip=10.77.12.2/32\nallowed_ip=192.168.5.0/24\nallowed_ip=fd77::2/128\n" +
		"public_key=" + k(150) + "\n" +
		"preshared_key=" + k(200) + "\n" +
		"persistent_keepalive_interval=0\n" +
		"replace_allowed_ips=true\n" +
		"allowed_ip=10.77.12.3/32\nallowed_ip=192.168.5.0/24\nallowed_ip=10.8.0.0/16\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("uapiConfig (-want +got):\n%s", diff)
	}
}

// On a running device, only removed peers are removed and an unchanged
// port is not set again (that would rebind the socket).
func TestUAPIConfigReapply(t *testing.T) {
	cfg := unitConfig()
	gone := testKey(77)
	tn := &tunnel{port: 51820, peers: map[wgtypes.Key]bool{testKey(100): true, gone: true}}
	got := uapiConfig(cfg, tn, false, nil)
	if strings.Contains(got, "listen_port=") || strings.Contains(got, "replace_peers") {
		t.Errorf("re-apply with the same port rebinds or replaces peers:\n%s", got)
	}
	if want := fmt.Sprintf("public_key=%x\nremove=true\n", gone[:]); !strings.Contains(got, want) {
		t.Errorf("re-apply does not remove the dropped peer:\n%s", got)
	}
	if strings.Count(got, "remove=true") != 1 {
		t.Errorf("re-apply removes more than the dropped peer:\n%s", got)
	}
	tn.port = 51000
	if got := uapiConfig(cfg, tn, false, nil); !strings.Contains(got, "listen_port=51820\n") {
		t.Errorf("changed port not set:\n%s", got)
	}
}

func TestRoutePrefixes(t *testing.T) {
	cfg := unitConfig()
	cfg.Peers = append(cfg.Peers, conf.Peer{PublicKey: testKey(180), AllowedIPs: pfx("0.0.0.0/0", "10.8.0.0/16")})
	var logged []string
	got := ownRoutes(routePrefixes(cfg, nil, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }))
	// The interface prefixes come first (assigned without a kernel prefix
	// route); 10.77.12.x/32 and fd77::2/128 are inside them; 10.8.0.0/16
	// appears twice; 0.0.0.0/0 is never routed.
	want := pfx("10.77.12.0/24", "fd77::/64", "192.168.5.0/24", "10.8.0.0/16")
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("routePrefixes (-want +got):\n%s", diff)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "0.0.0.0/0") {
		t.Errorf("default route not reported: %q", logged)
	}
}

// A prefix that contains a peer's endpoint (of this tunnel or another) is
// never routed into the tunnel: the handshakes would loop into it. VPN
// providers ship 0.0.0.0/1 and 128.0.0.0/1 instead of 0.0.0.0/0.
func TestRoutePrefixesAvoidEndpoints(t *testing.T) {
	cfg := unitConfig()
	cfg.Peers = []conf.Peer{{PublicKey: testKey(180), AllowedIPs: pfx("0.0.0.0/1", "128.0.0.0/1", "198.51.100.7/32", "192.168.5.0/24", "2000::/3", "fd88::/64")}}
	avoid := []endpointAddr{
		{netip.MustParseAddr("203.0.113.9"), `peer "vpn"`},
		{netip.MustParseAddr("198.51.100.7"), `peer "nas" of tunnel other`},
		{netip.MustParseAddr("2001:db8::1"), `peer "six"`},
	}
	var logged []string
	got := ownRoutes(routePrefixes(cfg, avoid, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }))
	want := pfx("10.77.12.0/24", "fd77::/64", "0.0.0.0/1", "192.168.5.0/24", "fd88::/64")
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("routePrefixes (-want +got):\n%s", diff)
	}
	wantLog := []string{
		`128.0.0.0/1 through the tunnel: it contains the endpoint 203.0.113.9 of peer "vpn"`,
		`198.51.100.7/32 through the tunnel: it contains the endpoint 198.51.100.7 of peer "nas" of tunnel other`,
		`2000::/3 through the tunnel: it contains the endpoint 2001:db8::1 of peer "six"`,
	}
	if len(logged) != len(wantLog) {
		t.Fatalf("logged %d lines, want %d: %q", len(logged), len(wantLog), logged)
	}
	for i, w := range wantLog {
		if !strings.Contains(logged[i], w) {
			t.Errorf("log line %d = %q, want it to contain %q", i, logged[i], w)
		}
	}
}

// The endpoints to avoid come from the resolved endpoints of cfg's peers
// (IPv4-mapped addresses unmapped) and the other running tunnels.
func TestEndpointsToAvoid(t *testing.T) {
	cfg := unitConfig()
	eps := map[wgtypes.Key]netip.AddrPort{
		cfg.Peers[0].PublicKey: netip.MustParseAddrPort("[::ffff:203.0.113.9]:51820"),
	}
	own := peerEndpoints(cfg, eps)
	if len(own) != 1 || own[0].addr != netip.MustParseAddr("203.0.113.9") {
		t.Fatalf("peerEndpoints = %+v, want 203.0.113.9 only", own)
	}
	self, other := &tunnel{endpoints: own}, &tunnel{endpoints: []endpointAddr{{netip.MustParseAddr("198.51.100.7"), "peer x"}}}
	e := &linuxEngine{tunnels: map[string]*tunnel{"self": self, "other": other}}
	got := e.otherEndpoints(self)
	if len(got) != 1 || got[0].addr != netip.MustParseAddr("198.51.100.7") || got[0].who != "peer x of tunnel other" {
		t.Errorf("otherEndpoints = %+v, want 198.51.100.7 of peer x of tunnel other", got)
	}
}

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		name   string
		change func(*conf.Config)
		want   string // substring; "" means valid
	}{
		{"valid", func(*conf.Config) {}, ""},
		{"long name", func(c *conf.Config) { c.Name = "abcdefghijklmnop" }, "1 to 15 characters"},
		{"bad name", func(c *conf.Config) { c.Name = "a/b" }, "may only use"},
		{"no key", func(c *conf.Config) { c.Interface.PrivateKey = wgtypes.Key{} }, "no private key"},
		{"mtu", func(c *conf.Config) { c.Interface.MTU = 100 }, "MTU 100 is out of range"},
		{"peer no key", func(c *conf.Config) { c.Peers[1].PublicKey = wgtypes.Key{} }, "peer 2 has no public key"},
		{"dup peer", func(c *conf.Config) { c.Peers[1].PublicKey = c.Peers[0].PublicKey }, "peer 2 repeats"},
		{"no port", func(c *conf.Config) { c.Peers[0].Endpoint.Port = 0 }, "has no port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := unitConfig()
			tt.change(cfg)
			err := checkConfig(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkConfig: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkConfig: %v, want error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), cfg.Interface.PrivateKey.String()) {
				t.Errorf("error shows the private key: %v", err)
			}
		})
	}
}

func TestResolveLiteral(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"198.51.100.7", "198.51.100.7:51820"},
		{"2001:db8::1", "[2001:db8::1]:51820"},
		{"[2001:db8::1]", "[2001:db8::1]:51820"},
		{"::ffff:198.51.100.7", "198.51.100.7:51820"},
	} {
		got, err := resolve(conf.Endpoint{Host: tt.host, Port: 51820})
		if err != nil || got.String() != tt.want {
			t.Errorf("resolve(%q) = %v, %v; want %s", tt.host, got, err, tt.want)
		}
	}
}

// A peer whose endpoint name did not resolve gets no endpoint and no
// keepalive yet (failed sends would delay the first real handshake).
func TestUAPIConfigUnresolved(t *testing.T) {
	cfg := unitConfig()
	cfg.Peers[0].Endpoint = conf.Endpoint{Host: "peer.example", Port: 51821}
	got := uapiConfig(cfg, &tunnel{}, true, nil)
	k := testKey(100)
	want := fmt.Sprintf("public_key=%x\npreshared_key=%s\npersistent_keepalive_interval=0\n", k[:], strings.Repeat("0", 64))
	if !strings.Contains(got, want) || strings.Contains(got, "endpoint=") {
		t.Errorf("unresolved peer:\n%s\nwant it to contain:\n%s", got, want)
	}
}

// ownRoutes lists the routes setRoutes adds when nothing clashes: those no
// subnet route covers.
func ownRoutes(ws []routeWant) []netip.Prefix {
	var out []netip.Prefix
	for _, w := range ws {
		if !w.under.IsValid() {
			out = append(out, w.p)
		}
	}
	return out
}
