package exchange

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

var (
	pfx     = netip.MustParsePrefix
	cmpOpts = cmp.Options{cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{}), cmpopts.EquateEmpty()}
)

func key(b byte) wgtypes.Key {
	var k wgtypes.Key
	k[0] = b
	k[31] = 0x40
	return k
}

// home is a stored tunnel on port 51820 with one peer and no pending invite.
func home() *conf.Config {
	return &conf.Config{
		Name: "home",
		Interface: conf.Interface{
			PrivateKey: key(1), ListenPort: 51820,
			Addresses: []netip.Prefix{pfx("10.9.8.1/24")},
			Meta:      conf.InterfaceMeta{DisplayName: "alice", Subnet: pfx("10.9.8.0/24")},
		},
		Peers: []conf.Peer{{PublicKey: key(2), AllowedIPs: []netip.Prefix{pfx("10.9.8.2/32")}, Meta: conf.PeerMeta{Name: "bob", InviteID: "old"}}},
	}
}

func facts(cfgs ...*conf.Config) *Facts {
	return &Facts{
		Configs:  cfgs,
		Routes:   []netinfo.Route{{Prefix: pfx("192.168.1.0/24"), Iface: "eth0"}},
		Running:  map[string]bool{},
		PortFree: func(p uint16) bool { return p != 40001 },
		Hostname: "host",
		IntN:     func(n int) int { return n / 2 },
	}
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestCheckPort(t *testing.T) {
	f := facts(home())
	f.LANPeers = []lanpeers.Announcement{{Host: "pi", Addr: netip.MustParseAddr("192.168.1.7"), Port: 51830}}
	for _, tt := range []struct {
		name     string
		port     uint16
		self     string
		running  bool
		kind     Kind
		contains string // in the error or the note
	}{
		{"zero", 0, "x", false, Invalid, "port 0 is not allowed"},
		{"another tunnel's", 51820, "x", false, PortInUse, `belongs to tunnel "home"`},
		{"busy", 40001, "x", false, PortInUse, "in use by another program on this machine; choose another port (51821 is free)"},
		{"own port, up", 51820, "home", true, 0, ""},
		{"announced on the LAN", 51830, "x", false, 0, "pi on this LAN (192.168.1.7) uses UDP port 51830"},
		{"free", 51900, "x", false, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.Running = map[string]bool{"home": tt.running}
			note, err := f.CheckPort(tt.port, tt.self)
			if kindOf(err) != tt.kind || (err == nil) != (tt.kind == 0) {
				t.Fatalf("CheckPort(%d) = %q, %v; want kind %d", tt.port, note, err, tt.kind)
			}
			got := note
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.contains) || (tt.contains == "" && got != "") {
				t.Errorf("CheckPort(%d) says %q, want %q", tt.port, got, tt.contains)
			}
		})
	}
}

func TestCheckUpPort(t *testing.T) {
	other := home()
	other.Name = "other"
	for _, tt := range []struct {
		name    string
		port    uint16
		running map[string]bool
		want    string
	}{
		{"shared with a tunnel that is down", 51820, nil, ""},
		{"shared with a tunnel that is up", 51820, map[string]bool{"home": true}, `tunnel "home" uses port 51820 too and is up`},
		{"held by another program", 40001, nil, "UDP port 40001 of tunnel \"other\" is in use by another program on this machine; stop that program or move the tunnel: wgpunch set-port other PORT (51821 is free)"},
	} {
		f := facts(home(), other)
		f.Running = tt.running
		err := f.CheckUpPort("other", tt.port)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if kindOf(err) != PortInUse || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want PortInUse with %q", tt.name, err, tt.want)
		}
	}
}

func TestParseLANs(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want []netip.Prefix
		err  string
	}{
		{[]string{"192.168.1.7/24, 10.1.0.0/16", ""}, []netip.Prefix{pfx("192.168.1.0/24"), pfx("10.1.0.0/16")}, ""},
		{[]string{"192.168.1.1"}, nil, "not a network in CIDR form"},
		{[]string{"0.0.0.0/0"}, nil, "all traffic"},
		{[]string{"0.0.0.0/1"}, nil, "too wide for a local network (shorter than /8)"},
		{[]string{"10.0.0.0/8"}, []netip.Prefix{pfx("10.0.0.0/8")}, ""},
	} {
		got, err := ParseLANs(tt.in)
		if tt.err != "" {
			if kindOf(err) != Invalid || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseLANs(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(tt.want, got, cmpOpts) {
			t.Errorf("ParseLANs(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestPlanInvite(t *testing.T) {
	pending := home()
	pending.Interface.Meta.PendingInviteID = "fedcba9876543210"
	pending.Interface.Meta.PendingPeerAddress = pfx("10.9.8.3/24")
	for _, tt := range []struct {
		name     string
		cfgs     []*conf.Config
		in       Request
		wantID   string
		wantPeer netip.Prefix
		wantPort uint16
		wantNote string
	}{
		{"new tunnel", nil, Request{Name: "work", NewKey: key(9), NewID: "0123456789abcdef"}, "0123456789abcdef", pfx("10.128.128.2/24"), 51820, ""},
		{"new tunnel, endpoint's port", nil, Request{Name: "work", Endpoint: "198.51.100.1:51850", NewKey: key(9), NewID: "0123456789abcdef"}, "0123456789abcdef", pfx("10.128.128.2/24"), 51850, ""},
		{"one more peer", []*conf.Config{home()}, Request{Name: "home", NewID: "0123456789abcdef"}, "0123456789abcdef", pfx("10.9.8.3/24"), 51820, "already has 1 peer(s)"},
		{"pending invite again", []*conf.Config{pending}, Request{Name: "home", NewID: "0123456789abcdef"}, "fedcba9876543210", pfx("10.9.8.3/24"), 51820, "same invite with fresh addresses"},
		{"moves port", []*conf.Config{home()}, Request{Name: "home", Port: 51900, NewID: "0123456789abcdef"}, "0123456789abcdef", pfx("10.9.8.3/24"), 51900, "moves from port 51820 to 51900"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := facts(tt.cfgs...).PlanInvite(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.ID != tt.wantID || p.PeerAddr != tt.wantPeer || p.Config.Interface.ListenPort != tt.wantPort {
				t.Errorf("plan ID %s peer %s port %d; want %s %s %d", p.ID, p.PeerAddr, p.Config.Interface.ListenPort, tt.wantID, tt.wantPeer, tt.wantPort)
			}
			if !strings.Contains(strings.Join(p.Notes, "\n"), tt.wantNote) {
				t.Errorf("notes %q, want %q", p.Notes, tt.wantNote)
			}
			if (p.Saved == nil) != (len(tt.cfgs) == 0) || p.PortChanged() != (tt.in.Port != 0) {
				t.Errorf("Saved %v, PortChanged %v", p.Saved != nil, p.PortChanged())
			}
			token, err := p.Finish(&Addresses{Endpoint: conf.Endpoint{Host: "198.51.100.1", Port: tt.wantPort}})
			if err != nil {
				t.Fatal(err)
			}
			msg, err := invite.Decode(token)
			if err != nil || msg.Invite == nil || msg.Invite.ID != tt.wantID || msg.Invite.InviteeAddress != tt.wantPeer {
				t.Errorf("token decodes to %+v, %v", msg, err)
			}
			if m := p.Config.Interface.Meta; m.PendingInviteID != tt.wantID || m.PendingPeerAddress != tt.wantPeer {
				t.Errorf("pending %s %s", m.PendingInviteID, m.PendingPeerAddress)
			}
		})
	}
	if _, err := (&Facts{Broken: map[string]error{"bad": errors.New("broken file")}}).PlanInvite(Request{Name: "bad"}); err == nil || err.Error() != "broken file" {
		t.Errorf("broken tunnel: %v", err)
	}
}

// testInviteID is a valid invite ID (the exchange code validates the invite).
const testInviteID = "0123456789abcdef"

func testInvite() *invite.Invite {
	return &invite.Invite{
		ID: testInviteID, Name: "carol", PublicKey: key(5),
		Endpoint:    conf.Endpoint{Host: "203.0.113.5", Port: 51820},
		LANEndpoint: conf.Endpoint{Host: "192.168.50.5", Port: 51820},
		Subnet:      pfx("10.44.1.0/24"), InviterAddress: pfx("10.44.1.1/24"), InviteeAddress: pfx("10.44.1.2/24"),
		LANs: []netip.Prefix{pfx("192.168.50.0/24")},
	}
}

func TestPlanAcceptInviteRefuses(t *testing.T) {
	own := home()
	own.Interface.PrivateKey = key(7)
	for _, tt := range []struct {
		name   string
		cfgs   []*conf.Config
		broken string
		edit   func(*invite.Invite)
		kind   Kind
		want   string
	}{
		{"no addresses", nil, "", func(i *invite.Invite) { i.InviteeAddress = netip.Prefix{} }, Invalid, "carries no tunnel addresses"},
		{"no endpoint", nil, "", func(i *invite.Invite) { i.Endpoint, i.LANEndpoint = conf.Endpoint{}, conf.Endpoint{} }, Invalid, "no address to reach carol"},
		{"broken name", nil, "work", nil, Exists, "its file is broken"},
		{"our own", []*conf.Config{own}, "", func(i *invite.Invite) { i.PublicKey = key(7).PublicKey() }, Invalid, "made on this machine"},
		{"name taken", []*conf.Config{func() *conf.Config { c := home(); c.Name = "work"; return c }()}, "", nil, Exists, `a tunnel named "work" already exists`},
		{"accepted before", []*conf.Config{func() *conf.Config {
			c := home()
			c.Peers[0].PublicKey, c.Peers[0].Meta.InviteID = key(5), testInviteID
			return c
		}()}, "", nil, Exists, "already accepted into tunnel"},
		{"LAN clashes with the tunnel", nil, "", func(i *invite.Invite) { i.LANs = []netip.Prefix{pfx("10.44.0.0/16")} }, Invalid, "overlaps the tunnel subnet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInvite()
			if tt.edit != nil {
				tt.edit(inv)
			}
			f := facts(tt.cfgs...)
			if tt.broken != "" {
				f.Broken = map[string]error{tt.broken: errors.New("x")}
			}
			_, err := f.PlanAcceptInvite(Request{Name: "work", NewKey: key(8)}, inv)
			if kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want kind %d with %q", err, tt.kind, tt.want)
			}
		})
	}
}

func TestPlanAcceptInvite(t *testing.T) {
	for _, tt := range []struct {
		name     string
		addrs    Addresses
		routes   []netinfo.Route
		wantEP   string
		warnings []string
	}{
		{"public endpoint", Addresses{Endpoint: conf.Endpoint{Host: "198.51.100.9", Port: 51820}}, nil, "203.0.113.5:51820", nil},
		{"same public address: LAN endpoint", Addresses{Endpoint: conf.Endpoint{Host: "203.0.113.5", Port: 51821}, LAN: conf.Endpoint{Host: "192.168.50.9", Port: 51821}, NAT: &natcheck.Report{}}, nil, "192.168.50.5:51820", nil},
		{"NAT fail", Addresses{Endpoint: conf.Endpoint{Host: "198.51.100.9", Port: 51820}, NAT: &natcheck.Report{Verdict: natcheck.VerdictFail, Mapping: natcheck.MappingEndpointDependent, Message: "symmetric"}},
			[]netinfo.Route{{Prefix: pfx("0.0.0.0/1"), Iface: "vpn0"}}, "203.0.113.5:51820", []string{"nat-fail"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := facts()
			f.Routes = tt.routes
			p, err := f.PlanAcceptInvite(Request{Name: "work", NewKey: key(8), LANs: []netip.Prefix{pfx("172.16.0.0/24")}}, testInvite())
			if err != nil {
				t.Fatal(err)
			}
			cfg, reply, err := p.Finish(&tt.addrs)
			if err != nil {
				t.Fatal(err)
			}
			want := conf.Peer{
				PublicKey: key(5), Endpoint: cfg.Peers[0].Endpoint,
				AllowedIPs:          []netip.Prefix{pfx("10.44.1.1/32"), pfx("192.168.50.0/24")},
				PersistentKeepalive: conf.DefaultKeepalive,
				Meta:                conf.PeerMeta{Name: "carol", InviteID: testInviteID, LANEndpoint: testInvite().LANEndpoint, LANs: testInvite().LANs, SafetyCode: p.Code.Text, Endpoint4: testInvite().Endpoint},
			}
			if p.Code.KeysOnly || len(strings.ReplaceAll(p.Code.Text, " ", "")) != invite.CodeDigits {
				t.Errorf("code %+v, want the %d-digit exchange code", p.Code, invite.CodeDigits)
			}
			if want, err := invite.ExchangeCode(testInvite(), reply); err != nil || want != p.Code {
				t.Errorf("code %+v, want ExchangeCode of the invite and the reply %+v (%v)", p.Code, want, err)
			}
			if diff := cmp.Diff(want, cfg.Peers[0], cmpOpts); diff != "" {
				t.Errorf("peer (-want +got):\n%s", diff)
			}
			if got := cfg.Peers[0].Endpoint.String(); got != tt.wantEP {
				t.Errorf("peer endpoint %s, want %s", got, tt.wantEP)
			}
			if cfg.Interface.Meta.DisplayName != "host" || reply.Name != "host" || reply.PublicKey != key(8).PublicKey() || reply.InviteID != testInviteID {
				t.Errorf("interface %+v, reply %+v", cfg.Interface.Meta, reply)
			}
			var codes []string
			for _, w := range p.Warnings {
				codes = append(codes, w.Code)
			}
			if !cmp.Equal(tt.warnings, codes, cmpOpts) {
				t.Errorf("warnings %v, want %v", codes, tt.warnings)
			}
		})
	}
}

func TestPlanAcceptReply(t *testing.T) {
	pending := func() *conf.Config {
		c := home()
		c.Interface.Meta.PendingInviteID = "inv2"
		c.Interface.Meta.PendingPeerAddress = pfx("10.9.8.3/24")
		return c
	}
	reply := func(edit func(*invite.Reply)) *invite.Reply {
		r := &invite.Reply{InviteID: "inv2", Name: "dave", PublicKey: key(6), Endpoint: conf.Endpoint{Host: "203.0.113.6", Port: 5000}}
		if edit != nil {
			edit(r)
		}
		return r
	}
	for _, tt := range []struct {
		name string
		tun  string
		r    *invite.Reply
		kind Kind
		want string
	}{
		{"made here", "", reply(func(r *invite.Reply) { r.PublicKey = key(1).PublicKey() }), Invalid, "own public key"},
		{"no such tunnel, owner known", "work", reply(nil), NotFound, `no such tunnel "work"; this reply belongs to tunnel "home"`},
		{"no such tunnel", "work", reply(func(r *invite.Reply) { r.InviteID = "zzz" }), NotFound, "a reply goes back to the computer that made the invite"},
		{"already accepted", "", reply(func(r *invite.Reply) { r.InviteID, r.PublicKey = "old", key(2) }), Exists, "this reply was already accepted"},
		{"unknown invite", "", reply(func(r *invite.Reply) { r.InviteID = "zzz" }), Invalid, "which no tunnel here issued"},
		{"already a peer", "", reply(func(r *invite.Reply) { r.PublicKey = key(2) }), Exists, "already a peer"},
		{"no address", "", reply(func(r *invite.Reply) { r.Endpoint = conf.Endpoint{} }), Invalid, "no address to reach dave"},
		{"LAN clash", "home", reply(func(r *invite.Reply) { r.LANs = []netip.Prefix{pfx("10.9.8.0/25")} }), Invalid, "still waits for a reply"},
		{"added", "", reply(func(r *invite.Reply) {
			r.LANs, r.Endpoint6 = []netip.Prefix{pfx("192.168.7.0/24")}, conf.Endpoint{Host: "2001:db8::6", Port: 5000}
		}), 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := facts(pending()).PlanAcceptReply(tt.tun, tt.r, false)
			if tt.kind != 0 {
				if kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want kind %d with %q", err, tt.kind, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			peer := p.Config.Peers[1]
			if peer.Meta.Name != "dave" || !cmp.Equal(peer.AllowedIPs, []netip.Prefix{pfx("10.9.8.3/32"), pfx("192.168.7.0/24")}, cmpOpts) || peer.PersistentKeepalive != conf.DefaultKeepalive {
				t.Errorf("new peer %+v", peer)
			}
			// Every candidate of the reply is kept with the peer.
			if peer.Meta.Endpoint4.String() != "203.0.113.6:5000" || peer.Meta.Endpoint6.String() != "[2001:db8::6]:5000" {
				t.Errorf("new peer keeps candidates %v %v, want the reply's IPv4 and IPv6", peer.Meta.Endpoint4, peer.Meta.Endpoint6)
			}
			if p.Config.Interface.Meta.PendingInviteID != "" || len(p.Saved.Peers) != 1 {
				t.Errorf("pending %q, saved peers %d", p.Config.Interface.Meta.PendingInviteID, len(p.Saved.Peers))
			}
			if len(p.Warnings) != 0 {
				t.Errorf("warnings %v, want none", p.Warnings)
			}
			// No stored copy of the invite (made before they were kept): the
			// key-only code, not stored, with a note to update.
			if !p.Code.KeysOnly || p.Code.Text != invite.SafetyCode(key(1).PublicKey(), key(6)) || peer.Meta.SafetyCode != "" {
				t.Errorf("code %+v, stored %q; want the key-only code, not stored", p.Code, peer.Meta.SafetyCode)
			}
			if !strings.Contains(strings.Join(p.Notes, "\n"), "update WG Punch on both computers") {
				t.Errorf("notes %q, want one to update both sides", p.Notes)
			}
		})
	}
}

func TestFoundEndpoint(t *testing.T) {
	lan := conf.Endpoint{Host: "192.168.1.10", Port: 51820}
	for _, tt := range []struct {
		name      string
		checkPort uint16
		lan       conf.Endpoint
		rep       *natcheck.Report
		err       error
		want      string
		note      string
		fails     bool
	}{
		{"public", 51820, lan, &natcheck.Report{PublicEndpoint: "198.51.100.1:51820"}, nil, "198.51.100.1:51820", "", false},
		{"no answer: LAN", 51820, lan, &natcheck.Report{Message: "no STUN server answered (test)"}, nil, "192.168.1.10:51820", "no public address found (no STUN server answered (test))", false},
		{"no answer, no LAN", 51820, conf.Endpoint{}, nil, errors.New("udp blocked"), "", "", true},
		{"up, port kept", 40000, lan, &natcheck.Report{PublicEndpoint: "198.51.100.1:40000", PortPreserved: true}, nil, "198.51.100.1:51820", "your NAT keeps port numbers", false},
		{"up, port changed", 40000, lan, &natcheck.Report{PublicEndpoint: "198.51.100.1:1234", Mapping: natcheck.MappingEndpointIndependent}, nil, "198.51.100.1:1234", "may be wrong; take the tunnel down (wgpunch down home)", false},
	} {
		a, err := FoundEndpoint("home", 51820, tt.checkPort, tt.lan, tt.rep, tt.err)
		if tt.fails {
			if err == nil || !strings.Contains(err.Error(), "--endpoint HOST:PORT") {
				t.Errorf("%s: %v, want an error asking for --endpoint", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if a.Endpoint.String() != tt.want || !strings.Contains(strings.Join(a.Notes, "\n"), tt.note) || (tt.note == "" && len(a.Notes) > 0) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, a.Endpoint, a.Notes, tt.want, tt.note)
		}
	}
	if _, err := GivenEndpoint("nope", 51820, lan); kindOf(err) != Invalid {
		t.Errorf("GivenEndpoint(nope) = %v, want Invalid", err)
	}
	if a, err := GivenEndpoint("myhome.example.org:6000", 51820, lan); err != nil || len(a.Notes) != 1 || a.NAT != nil {
		t.Errorf("GivenEndpoint with another port: %+v, %v", a, err)
	}
}
