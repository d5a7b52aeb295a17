package ports

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
)

func TestFree(t *testing.T) {
	if Free(0) {
		t.Error("Free(0) = true, want false")
	}
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "0.0.0.0:0"
			if network == "udp6" {
				addr = "[::]:0"
			}
			c, err := net.ListenPacket(network, addr)
			if err != nil {
				t.Skipf("no %s here: %v", network, err)
			}
			port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
			if Free(port) {
				t.Errorf("Free(%d) = true while %s holds it", port, network)
			}
			c.Close()
			if !Free(port) {
				t.Errorf("Free(%d) = false after it was released", port)
			}
		})
	}
}

// A port held on loopback only still cannot be bound on the wildcard.
func TestFreeLoopbackHolder(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	if Free(port) {
		t.Errorf("Free(%d) = true while 127.0.0.1:%d is bound", port, port)
	}
}

func TestPick(t *testing.T) {
	first, err := Pick(nil)
	if err != nil {
		t.Fatal(err)
	}
	if first < FirstPort {
		t.Fatalf("Pick(nil) = %d, want >= %d", first, FirstPort)
	}
	if !Free(first) {
		t.Errorf("Pick returned %d, which is not free", first)
	}
	// Hold it: the next pick must skip it.
	c, err := net.ListenPacket("udp4", "0.0.0.0:"+strconv.Itoa(int(first)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	second, err := Pick(nil)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || second < FirstPort {
		t.Errorf("Pick with %d taken = %d, want another port >= %d", first, second, FirstPort)
	}
	// avoid is honoured.
	avoided := map[uint16]bool{}
	third, err := Pick(func(p uint16) bool {
		avoided[p] = true
		return p <= second
	})
	if err != nil {
		t.Fatal(err)
	}
	if third <= second {
		t.Errorf("Pick avoiding <= %d = %d", second, third)
	}
	if !avoided[FirstPort] {
		t.Errorf("avoid was not asked about %d", FirstPort)
	}
	// Avoiding the whole preferred range falls back to a random high port.
	r, err := Pick(func(p uint16) bool { return p >= FirstPort && p <= LastPreferred })
	if err != nil {
		t.Fatal(err)
	}
	if r < randomLow || (r >= FirstPort && r <= LastPreferred) {
		t.Errorf("fallback Pick = %d, want a high port outside %d-%d", r, FirstPort, LastPreferred)
	}
	// Avoiding everything is an error that says what to do.
	if _, err := Pick(func(uint16) bool { return true }); err == nil || !strings.Contains(err.Error(), "set a port by hand") {
		t.Errorf("Pick avoiding all: err = %v", err)
	}
}

func TestWarnings(t *testing.T) {
	lanPeer := func(host, addr, tunnel string, port uint16) lanpeers.Announcement {
		return lanpeers.Announcement{Host: host, Addr: netip.MustParseAddr(addr), Tunnel: tunnel, Port: port}
	}
	suggest := func() uint16 { return 51900 }
	tests := []struct {
		name    string
		local   []LocalTunnel
		lan     []lanpeers.Announcement
		peers   []PeerEndpoint
		suggest func() uint16
		want    map[string][]monitor.Warning
	}{{
		name:  "nothing shared",
		local: []LocalTunnel{lt("home", 51820), lt("work", 51821)},
		lan:   []lanpeers.Announcement{lanPeer("laptop", "192.168.1.7", "office", 51822)},
		peers: []PeerEndpoint{{"home", "alice", "203.0.113.1:51820"}, {"home", "bob", "203.0.113.1:51821"}},
		want:  map[string][]monitor.Warning{},
	}, {
		name:  "another machine on the LAN",
		local: []LocalTunnel{lt("home", 51820), lt("work", 51821)},
		lan:   []lanpeers.Announcement{lanPeer("laptop", "192.168.1.7", "office", 51820)},
		want: map[string][]monitor.Warning{"home": {{
			Code:    CodePortShared,
			Message: `Tunnel "home" uses UDP port 51820, and so does "laptop" (192.168.1.7) on this network (its tunnel "office"). Behind one router two machines on the same port disturb each other's connections; switch to port 51900.`,
			FixPort: 51900,
		}}},
	}, {
		name:  "our own announcement is not a conflict",
		local: []LocalTunnel{lt("home", 51820)},
		lan:   []lanpeers.Announcement{lanPeer("me", "192.168.1.5", "home", 51820)},
		want:  map[string][]monitor.Warning{},
	}, {
		name:  "our own announcement by installation ID, under another name",
		local: []LocalTunnel{lt("home", 51820)},
		lan:   []lanpeers.Announcement{{Host: "renamed", Install: "my-id", Addr: netip.MustParseAddr("192.168.1.5"), Tunnel: "home", Port: 51820}},
		want:  map[string][]monitor.Warning{},
	}, {
		name:  "another machine with our host name",
		local: []LocalTunnel{lt("home", 51820)},
		lan:   []lanpeers.Announcement{{Host: "me", Install: "other-id", Addr: netip.MustParseAddr("192.168.1.8"), Tunnel: "office", Port: 51820}},
		want: map[string][]monitor.Warning{"home": {{
			Code:    CodePortShared,
			Message: `Tunnel "home" uses UDP port 51820, and so does another machine named "me" like this one (192.168.1.8) on this network (its tunnel "office"). Behind one router two machines on the same port disturb each other's connections; switch to port 51900.`,
			FixPort: 51900,
		}}},
	}, {
		name:  "two of our tunnels, no suggestion available",
		local: []LocalTunnel{lt("home", 51820), lt("work", 51820), lt("new", 0), lt("new2", 0)},
		want: map[string][]monitor.Warning{
			"home": {{Code: CodePortShared, Message: `Tunnels "home" and "work" both use UDP port 51820, so only one of them can be up at a time; switch this tunnel to another port.`}},
			"work": {{Code: CodePortShared, Message: `Tunnels "work" and "home" both use UDP port 51820, so only one of them can be up at a time; switch this tunnel to another port.`}},
		},
		suggest: func() uint16 { return 0 },
	}, {
		name:  "two peers behind one NAT on one port",
		local: []LocalTunnel{lt("home", 51820)},
		peers: []PeerEndpoint{
			{"home", "alice", "203.0.113.1:51820"},
			{"home", "bob", "203.0.113.1:51820"},
			{"home", "carol", "[::ffff:203.0.113.1]:51820"},
			{"home", "dave", ""},
			{"home", "erin", "garbage"},
			{"other", "frank", "203.0.113.1:51820"},
		},
		want: map[string][]monitor.Warning{"home": {{
			Code:    CodePortShared,
			Message: `Peers "alice", "bob" and "carol" of tunnel "home" all have the public address 203.0.113.1:51820: they are machines behind one router using the same UDP port 51820, so only one of them can get through. Ask all but one of them to switch their tunnel to another port and send a new reply.`,
		}}},
	}, {
		name:  "duplicate announcements give one warning",
		local: []LocalTunnel{lt("home", 51820)},
		lan:   []lanpeers.Announcement{lanPeer("laptop", "192.168.1.7", "office", 51820), lanPeer("laptop", "192.168.1.7", "office", 51820)},
		want: map[string][]monitor.Warning{"home": {{
			Code:    CodePortShared,
			Message: `Tunnel "home" uses UDP port 51820, and so does "laptop" (192.168.1.7) on this network (its tunnel "office"). Behind one router two machines on the same port disturb each other's connections; switch to port 51900.`,
			FixPort: 51900,
		}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.suggest
			if s == nil {
				s = suggest
			}
			got := Warnings(lanpeers.Self{Install: "my-id", Host: "me"}, tt.local, tt.lan, tt.peers, s)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// suggest is asked at most once, and not at all without a conflict.
func TestWarningsSuggestCalls(t *testing.T) {
	calls := 0
	suggest := func() uint16 { calls++; return 51901 }
	Warnings(lanpeers.Self{Host: "me"}, []LocalTunnel{lt("a", 1), lt("b", 2)}, nil, nil, suggest)
	if calls != 0 {
		t.Errorf("suggest called %d times without a conflict", calls)
	}
	Warnings(lanpeers.Self{Host: "me"}, []LocalTunnel{lt("a", 1), lt("b", 1), lt("c", 1)}, nil, nil, suggest)
	if calls != 1 {
		t.Errorf("suggest called %d times, want 1", calls)
	}
	// nil suggest is allowed.
	w := Warnings(lanpeers.Self{Host: "me"}, []LocalTunnel{lt("a", 1), lt("b", 1)}, nil, nil, nil)
	if len(w["a"]) != 1 || w["a"][0].FixPort != 0 {
		t.Errorf("nil suggest: %+v", w)
	}
}

func lt(name string, port uint16) LocalTunnel { return LocalTunnel{Name: name, Port: port} }
