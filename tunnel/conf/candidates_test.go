package conf

import (
	"net/netip"
	"strings"
	"testing"
)

// Bad candidate lines are refused naming the line and what to write.
func TestParseCandidateErrors(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{"# wgpunch.Endpoint4 = [2001:db8::1]:51820", "is not an IPv4 address"},
		{"# wgpunch.Endpoint6 = 203.0.113.1:51820", "is not an IPv6 address"},
		{"# wgpunch.Endpoint6 = home.example.org:51820", "is a name, not an IPv6 address"},
		{"# wgpunch.Endpoint4 = 203.0.113.1", "expected IP:port"},
	} {
		text := "[Interface]\nPrivateKey = " + privA.String() + "\n\n[Peer]\nPublicKey = " + pubB.String() + "\n" + tt.line + "\n"
		_, err := Parse("wgp0", []byte(text))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "line 6") {
			t.Errorf("%s: %v, want an error on line 6 saying %q", tt.line, err, tt.want)
		}
		checkNoSecret(t, err)
	}
	c := fullConfig()
	c.Peers[0].Meta.Endpoint6 = Endpoint{Host: "198.51.100.1", Port: 1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "wgpunch.Endpoint6") {
		t.Errorf("Validate of an IPv4 Endpoint6: %v, want an error naming wgpunch.Endpoint6", err)
	}
}

// An old config without candidates still loads; its one endpoint is its
// one candidate.
func TestCandidatesOldConfig(t *testing.T) {
	text := "[Interface]\nPrivateKey = " + privA.String() + "\n\n[Peer]\nPublicKey = " + pubB.String() + "\nEndpoint = 203.0.113.5:51821\n"
	c, err := Parse("wgp0", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := candText(Candidates(c, &c.Peers[0])); got != "ipv4 203.0.113.5:51821" {
		t.Errorf("candidates %q, want the endpoint as the one IPv4 candidate", got)
	}
}

func TestCandidatesOrder(t *testing.T) {
	ep := func(s string) Endpoint { e, _ := ParseEndpoint(s); return e }
	for _, tt := range []struct {
		name           string
		endpoint, lan  string
		v4, v6, public string
		want           string
	}{
		{"all, other NAT: no LAN", "203.0.113.5:1", "192.168.1.5:1", "203.0.113.5:1", "[2001:db8::5]:1", "198.51.100.1:9", "ipv6 [2001:db8::5]:1, ipv4 203.0.113.5:1"},
		{"same public IPv4: LAN first", "203.0.113.5:1", "192.168.1.5:1", "203.0.113.5:1", "[2001:db8::5]:1", "203.0.113.5:9", "lan 192.168.1.5:1, ipv6 [2001:db8::5]:1, ipv4 203.0.113.5:1"},
		{"exchange chose the LAN", "192.168.1.5:1", "192.168.1.5:1", "203.0.113.5:1", "", "", "lan 192.168.1.5:1, ipv4 203.0.113.5:1"},
		{"hand-given endpoint replaces its family", "198.51.100.7:1", "", "203.0.113.5:1", "[2001:db8::5]:1", "", "ipv6 [2001:db8::5]:1, ipv4 198.51.100.7:1"},
		{"IPv6 only", "[2001:db8::5]:1", "", "", "[2001:db8::5]:1", "", "ipv6 [2001:db8::5]:1"},
		{"host name: none", "home.example.org:1", "192.168.1.5:1", "203.0.113.5:1", "[2001:db8::5]:1", "", ""},
	} {
		c := &Config{Interface: Interface{Meta: InterfaceMeta{PublicEndpoint: ep(tt.public)}}, Peers: []Peer{{
			Endpoint: ep(tt.endpoint), Meta: PeerMeta{LANEndpoint: ep(tt.lan), Endpoint4: ep(tt.v4), Endpoint6: ep(tt.v6)}}}}
		if got := candText(Candidates(c, &c.Peers[0])); got != tt.want {
			t.Errorf("%s: candidates %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPathOf(t *testing.T) {
	cs := []Candidate{{PathLAN, netip.MustParseAddrPort("192.168.1.5:1")}, {PathIPv6, netip.MustParseAddrPort("[2001:db8::5]:1")}, {PathIPv4, netip.MustParseAddrPort("203.0.113.5:1")}}
	for ep, want := range map[string]PathKind{
		"192.168.1.5:1": PathLAN, "192.168.1.5:7": PathLAN, "[2001:db8::5]:1": PathIPv6, "[2001:db8::9]:4": PathIPv6,
		"203.0.113.5:1": PathIPv4, "203.0.113.5:40000": PathIPv4, "[::ffff:203.0.113.5]:1": PathIPv4,
	} {
		if got := PathOf(cs, netip.MustParseAddrPort(ep)); got != want {
			t.Errorf("PathOf(%s) = %q, want %q", ep, got, want)
		}
	}
	if got := PathOf(cs, netip.AddrPort{}); got != "" {
		t.Errorf("PathOf(no endpoint) = %q, want empty", got)
	}
	if PathIPv6.Words() != "direct over IPv6" {
		t.Errorf("words %q", PathIPv6.Words())
	}
}

func candText(cs []Candidate) string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Kind)+" "+c.Addr.String())
	}
	return strings.Join(out, ", ")
}
