package invite

import (
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func key(b byte) wgtypes.Key {
	var k wgtypes.Key
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func ep(host string, port uint16) conf.Endpoint { return conf.Endpoint{Host: host, Port: port} }

func testInvite() *Invite {
	return &Invite{
		ID:             "0123456789abcdef",
		Name:           "Alice's laptop",
		PublicKey:      key(1),
		Endpoint:       ep("203.0.113.7", 51820),
		LANEndpoint:    ep("192.168.1.20", 51820),
		Subnet:         pfx("10.77.12.0/24"),
		InviterAddress: pfx("10.77.12.1/24"),
		InviteeAddress: pfx("10.77.12.2/24"),
		LANs:           []netip.Prefix{pfx("192.168.1.0/24")},
		NATMapping:     "endpoint-independent",
		NATVerdict:     "ok",
	}
}

func testReply() *Reply {
	return &Reply{
		InviteID:    "0123456789abcdef",
		Name:        "Bob",
		PublicKey:   key(100),
		Endpoint:    ep("198.51.100.9", 51821),
		LANEndpoint: ep("10.0.0.5", 51821),
		LANs:        []netip.Prefix{pfx("10.0.0.0/24"), pfx("fd00:1:2::/48")},
		NATMapping:  "endpoint-independent",
		NATVerdict:  "warning",
	}
}

// worstInvite fills every field to its limit.
func worstInvite() *Invite {
	i := testInvite()
	i.Name = strings.Repeat("😀", MaxNameRunes)
	host := strings.Repeat("a", 60) + "." + strings.Repeat("b", MaxHostLen-61)
	i.Endpoint = ep(host, 65535)
	i.LANEndpoint = ep(host, 65535)
	i.Subnet = pfx("fd12:3456:789a:bcde:f012:3456:789a:bc00/120")
	i.InviterAddress = pfx("fd12:3456:789a:bcde:f012:3456:789a:bc01/128")
	i.InviteeAddress = pfx("fd12:3456:789a:bcde:f012:3456:789a:bcfe/128")
	i.LANs = nil
	for n := range MaxLANs {
		i.LANs = append(i.LANs, netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, byte(n), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}), 127))
	}
	i.NATMapping = strings.Repeat("m", MaxNATStringLen)
	i.NATVerdict = strings.Repeat("v", MaxNATStringLen)
	i.Endpoint6 = ep("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535)
	return i
}

func TestInviteRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Invite)
	}{
		{"typical", func(*Invite) {}},
		{"no endpoints, no LANs, no name, no NAT check", func(i *Invite) {
			i.Endpoint, i.LANEndpoint, i.LANs, i.Name, i.NATMapping, i.NATVerdict = conf.Endpoint{}, conf.Endpoint{}, nil, "", "", ""
		}},
		{"IPv6 endpoint and subnet", func(i *Invite) {
			i.Endpoint = ep("2001:db8::1", 1)
			i.Subnet = pfx("fd00:77::/64")
			i.InviterAddress = pfx("fd00:77::1/64")
			i.InviteeAddress = pfx("fd00:77::ffff:2/128")
		}},
		{"dynamic DNS host name", func(i *Invite) { i.Endpoint = ep("alice.duckdns.org", 443) }},
		{"IPv4 and IPv6 endpoints", func(i *Invite) { i.Endpoint6 = ep("2001:db8:1::7", 51820) }},
		{"host name and IPv6 endpoint", func(i *Invite) {
			i.Endpoint, i.Endpoint6 = ep("alice.duckdns.org", 443), ep("2001:db8:1::7", 443)
		}},
		{"odd subnet length", func(i *Invite) {
			i.Subnet = pfx("10.77.12.128/25")
			i.InviterAddress = pfx("10.77.12.129/32")
			i.InviteeAddress = pfx("10.77.12.254/25")
		}},
		{"/8 subnet", func(i *Invite) {
			i.Subnet = pfx("10.0.0.0/8")
			i.InviterAddress = pfx("10.200.3.4/8")
			i.InviteeAddress = pfx("10.0.0.1/8")
		}},
		{"/30 subnet", func(i *Invite) {
			i.Subnet = pfx("10.77.12.4/30")
			i.InviterAddress = pfx("10.77.12.5/30")
			i.InviteeAddress = pfx("10.77.12.6/30")
		}},
		{"unicode name", func(i *Invite) { i.Name = "Jürgen’s PC 😀 東京" }},
		{"unknown NAT strings", func(i *Invite) { i.NATMapping, i.NATVerdict = "address-dependent", "ok" }},
		{"symmetric NAT", func(i *Invite) { i.NATMapping, i.NATVerdict = "endpoint-dependent", "fail" }},
		{"worst case", func(i *Invite) { *i = *worstInvite() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := testInvite()
			tt.modify(want)
			tok, err := want.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !strings.HasPrefix(tok, "WGP1I-") || strings.Trim(tok[6:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("token %q is not WGP1I- + upper-case base32", tok)
			}
			m, err := Decode(tok)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Reply != nil {
				t.Fatalf("Decode set Reply for an invite")
			}
			if diff := cmp.Diff(want, m.Invite, cmpOpts); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplyRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Reply)
	}{
		{"typical", func(*Reply) {}},
		{"minimal", func(r *Reply) {
			r.Name, r.Endpoint, r.LANEndpoint, r.LANs, r.NATMapping, r.NATVerdict = "", conf.Endpoint{}, conf.Endpoint{}, nil, "", ""
		}},
		{"IPv6 LAN endpoint", func(r *Reply) { r.LANEndpoint = ep("fd00::5", 65535) }},
		{"IPv4-mapped IPv6 endpoint", func(r *Reply) { r.Endpoint = ep("::ffff:198.51.100.9", 51821) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := testReply()
			tt.modify(want)
			tok, err := want.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !strings.HasPrefix(tok, "WGP1R-") {
				t.Fatalf("token %q does not start with WGP1R-", tok)
			}
			m, err := Decode(tok)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Invite != nil {
				t.Fatalf("Decode set Invite for a reply")
			}
			if diff := cmp.Diff(want, m.Reply, cmpOpts); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInviteEncodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*Invite)
		wantErr string
	}{
		{"zero key", func(i *Invite) { i.PublicKey = wgtypes.Key{} }, "public key is all zeros"},
		{"empty ID", func(i *Invite) { i.ID = "" }, "invite ID"},
		{"upper-case ID", func(i *Invite) { i.ID = "0123456789ABCDEF" }, "invite ID"},
		{"short ID", func(i *Invite) { i.ID = "0123" }, "invite ID"},
		{"port 0", func(i *Invite) { i.Endpoint.Port = 0 }, "port must be 1..65535"},
		{"port without host", func(i *Invite) { i.Endpoint.Host = "" }, "without an address"},
		{"bad host", func(i *Invite) { i.Endpoint.Host = "bad host!" }, "neither an IP address nor a valid host name"},
		{"host with leading dash", func(i *Invite) { i.Endpoint.Host = "-a.example" }, "valid host name"},
		{"host too long", func(i *Invite) { i.Endpoint.Host = strings.Repeat("a.", 60) + "com" }, "at most 100"},
		{"unspecified endpoint", func(i *Invite) { i.Endpoint.Host = "0.0.0.0" }, "not a unicast"},
		{"multicast endpoint", func(i *Invite) { i.LANEndpoint.Host = "ff02::1" }, "not a unicast"},
		{"zone in endpoint", func(i *Invite) { i.LANEndpoint.Host = "fe80::1%eth0" }, "zone"},
		{"no subnet", func(i *Invite) { i.Subnet = netip.Prefix{} }, "tunnel subnet is missing"},
		{"non-canonical subnet", func(i *Invite) { i.Subnet = pfx("10.77.12.1/24") }, "not canonical (did you mean 10.77.12.0/24?)"},
		{"subnet too small", func(i *Invite) { i.Subnet = pfx("10.77.12.1/32") }, "prefix length must be 8..30"},
		{"subnet too big", func(i *Invite) { i.Subnet = pfx("10.0.0.0/7") }, "prefix length must be 8..30"},
		{"inviter outside subnet", func(i *Invite) { i.InviterAddress = pfx("10.77.13.1/24") }, "inviter address 10.77.13.1 is outside the tunnel subnet"},
		{"invitee outside subnet", func(i *Invite) { i.InviteeAddress = pfx("10.1.1.1/24") }, "invitee address 10.1.1.1 is outside"},
		{"invitee other family", func(i *Invite) { i.InviteeAddress = pfx("fd00::2/64") }, "outside the tunnel subnet"},
		{"missing invitee", func(i *Invite) { i.InviteeAddress = netip.Prefix{} }, "invitee address is missing"},
		{"same addresses", func(i *Invite) { i.InviteeAddress = pfx("10.77.12.1/32") }, "same tunnel address 10.77.12.1"},
		{"network address", func(i *Invite) { i.InviteeAddress = pfx("10.77.12.0/24") }, "network address"},
		{"broadcast address", func(i *Invite) { i.InviteeAddress = pfx("10.77.12.255/24") }, "broadcast address"},
		{"address wider than subnet", func(i *Invite) { i.InviteeAddress = pfx("10.77.12.2/16") }, "wider than the tunnel subnet"},
		{"too many LANs", func(i *Invite) {
			i.LANs = nil
			for n := range MaxLANs + 1 {
				i.LANs = append(i.LANs, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(n), 0}), 24))
			}
		}, "17 shared LANs, at most 16"},
		{"non-canonical LAN", func(i *Invite) { i.LANs = []netip.Prefix{pfx("192.168.1.7/24")} }, "shared LAN 192.168.1.7/24 is not canonical"},
		{"LAN /0", func(i *Invite) { i.LANs = []netip.Prefix{pfx("0.0.0.0/0")} }, "route all traffic"},
		{"duplicate LAN", func(i *Invite) { i.LANs = []netip.Prefix{pfx("192.168.1.0/24"), pfx("192.168.1.0/24")} }, "listed twice"},
		{"LAN overlaps tunnel", func(i *Invite) { i.LANs = []netip.Prefix{pfx("10.0.0.0/8")} }, "overlaps the tunnel subnet"},
		{"invalid LAN", func(i *Invite) { i.LANs = []netip.Prefix{{}} }, "shared LAN is missing or invalid"},
		{"name too long", func(i *Invite) { i.Name = strings.Repeat("x", MaxNameRunes+1) }, "33 characters long, at most 32"},
		{"name with newline", func(i *Invite) { i.Name = "a\nb" }, "non-printable character U+000A"},
		{"name with bidi override", func(i *Invite) { i.Name = "abc\u202edef" }, "non-printable character U+202E"},
		{"name with NUL", func(i *Invite) { i.Name = "a\x00" }, "non-printable"},
		{"name not UTF-8", func(i *Invite) { i.Name = "a\xff" }, "not valid UTF-8"},
		{"name padded", func(i *Invite) { i.Name = " Alice" }, "starts or ends with a space"},
		{"NAT string with space", func(i *Invite) { i.NATMapping = "a b" }, "NAT mapping"},
		{"NAT string too long", func(i *Invite) { i.NATVerdict = strings.Repeat("v", MaxNATStringLen+1) }, "NAT verdict is 33 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := testInvite()
			tt.modify(i)
			tok, err := i.Encode()
			if err == nil {
				t.Fatalf("Encode = %q, want error containing %q", tok, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Encode error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestReplyEncodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*Reply)
		wantErr string
	}{
		{"zero key", func(r *Reply) { r.PublicKey = wgtypes.Key{} }, "all zeros"},
		{"bad invite ID", func(r *Reply) { r.InviteID = "xyz" }, "invite ID"},
		{"port 0", func(r *Reply) { r.LANEndpoint.Port = 0 }, "LAN endpoint"},
		{"non-canonical LAN", func(r *Reply) { r.LANs = []netip.Prefix{pfx("10.0.0.1/24")} }, "not canonical"},
		{"control char in name", func(r *Reply) { r.Name = "Bob\x1b[31m" }, "non-printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testReply()
			tt.modify(r)
			if _, err := r.Encode(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Encode error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for range 1000 {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q, want 16 lower-case hex digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		if err := validateID("id", id); err != nil {
			t.Fatalf("NewID() = %q fails validation: %v", id, err)
		}
	}
}

// TestNoSecretFields guards the promise that messages cannot carry a
// private key: the only key field is the public key.
func TestNoSecretFields(t *testing.T) {
	keyType := reflect.TypeOf(wgtypes.Key{})
	for _, typ := range []reflect.Type{reflect.TypeOf(Invite{}), reflect.TypeOf(Reply{})} {
		for f := range typ.Fields() {
			if f.Type == keyType && f.Name != "PublicKey" || strings.Contains(strings.ToLower(f.Name), "private") || strings.Contains(strings.ToLower(f.Name), "preshared") {
				t.Errorf("%s has field %s %s; messages must carry public keys only", typ.Name(), f.Name, f.Type)
			}
		}
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice-laptop", "alice-laptop"},
		{"  Alice\t\tLaptop \n", "Alice Laptop"},
		{"evil\x1b[31mred\u202e", "evil [31mred"},
		{"a\xffb", "a b"},
		{strings.Repeat("x", 40), strings.Repeat("x", MaxNameRunes)},
		{strings.Repeat("😀", 40), strings.Repeat("😀", MaxNameRunes)},
		{strings.Repeat("x", MaxNameRunes-1) + " y", strings.Repeat("x", MaxNameRunes-1)},
		{"\x00\x01", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := CleanName(tt.in)
		if got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := validateName(got); err != nil {
			t.Errorf("CleanName(%q) = %q, invalid: %v", tt.in, got, err)
		}
	}
}
