package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// fakeReader serves devices from a map and counts calls.
type fakeReader struct {
	devs  map[string]*wgtypes.Device
	err   error // returned for every call when set
	calls int
}

func (f *fakeReader) Device(name string) (*wgtypes.Device, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	d, ok := f.devs[name]
	if !ok {
		// What wgctrl returns for a missing device.
		return nil, os.ErrNotExist
	}
	c := *d
	c.Peers = append([]wgtypes.Peer(nil), d.Peers...)
	return &c, nil
}

// clock is an injected, settable clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time               { return c.now }
func (c *clock) advance(d time.Duration)      { c.now = c.now.Add(d) }
func (c *clock) at(d time.Duration) time.Time { return t0.Add(d) }

func key(t testing.TB, seed byte) wgtypes.Key {
	t.Helper()
	var k wgtypes.Key
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

// testConfig is tunnel name with one peer "bob" at 10.77.12.2/32 plus a LAN.
func testConfig(t testing.TB, name string, self, peer wgtypes.Key, keepalive uint16) *conf.Config {
	return &conf.Config{
		Name: name,
		Interface: conf.Interface{
			PrivateKey: self,
			ListenPort: 51820,
			Addresses:  []netip.Prefix{netip.MustParsePrefix("10.77.12.1/24")},
		},
		Peers: []conf.Peer{{
			PublicKey:           peer,
			Endpoint:            conf.Endpoint{Host: "198.51.100.7", Port: 51821},
			AllowedIPs:          []netip.Prefix{netip.MustParsePrefix("10.77.12.2/32"), netip.MustParsePrefix("192.168.5.0/24")},
			PersistentKeepalive: keepalive,
			Meta:                conf.PeerMeta{Name: "bob", LANs: []netip.Prefix{netip.MustParsePrefix("192.168.5.0/24")}},
		}},
	}
}

func device(name string, port int, peer wgtypes.Key, hs time.Time, rx, tx int64) *wgtypes.Device {
	return &wgtypes.Device{
		Name:       name,
		ListenPort: port,
		Peers: []wgtypes.Peer{{
			PublicKey:                   peer,
			Endpoint:                    &net.UDPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 40000},
			LastHandshakeTime:           hs,
			ReceiveBytes:                rx,
			TransmitBytes:               tx,
			PersistentKeepaliveInterval: 5 * time.Second,
		}},
	}
}

func TestPeerState(t *testing.T) {
	tests := []struct {
		name      string
		up        bool
		handshake time.Duration // before now; -1: never
		receive   time.Duration // before now; -1: unknown
		want      State
	}{
		{"down", false, 1 * time.Second, 1 * time.Second, StateDown},
		{"down never", false, -1, -1, StateDown},
		{"no handshake", true, -1, -1, StateConnecting},
		{"fresh", true, 2 * time.Second, 1 * time.Second, StateConnected},
		{"handshake at limit", true, HandshakeTimeout, time.Second, StateConnected},
		{"handshake too old", true, HandshakeTimeout + time.Second, time.Second, StateStale},
		{"receive at limit", true, 10 * time.Second, ReceiveTimeout, StateConnected},
		{"receive stopped", true, 10 * time.Second, ReceiveTimeout + time.Second, StateStale},
		{"keepalive off idle", true, 100 * time.Second, -1, StateConnected},
		{"keepalive off old", true, 200 * time.Second, -1, StateStale},
	}
	now := t0
	ago := func(d time.Duration) time.Time {
		if d < 0 {
			return time.Time{}
		}
		return now.Add(-d)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PeerState(now, tt.up, ago(tt.handshake), ago(tt.receive)); got != tt.want {
				t.Errorf("PeerState = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestTransitions walks one peer through connecting -> connected -> stale
// -> connected -> down with an injected clock, one snapshot per second.
func TestTransitions(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	clk := &clock{now: t0}
	rd := &fakeReader{devs: map[string]*wgtypes.Device{}}
	m := New(Options{Reader: rd, Now: clk.Now})
	up := map[string]string{"home": "home"}

	type step struct {
		at        time.Duration // clock offset from t0
		dev       *wgtypes.Device
		down      bool
		wantState State
		wantRecv  time.Duration // -1: nil
	}
	hs1 := clk.at(2 * time.Second)
	hs2 := clk.at(300 * time.Second)
	steps := []step{
		{0, device("home", 51820, peer, time.Time{}, 0, 148), false, StateConnecting, -1},
		{1 * time.Second, device("home", 51820, peer, time.Time{}, 0, 296), false, StateConnecting, -1},
		// Handshake done: the rx counter moved.
		{2 * time.Second, device("home", 51820, peer, hs1, 92, 444), false, StateConnected, 2 * time.Second},
		// Keepalives keep arriving.
		{7 * time.Second, device("home", 51820, peer, hs1, 124, 476), false, StateConnected, 7 * time.Second},
		// Nothing for a while, still within ReceiveTimeout.
		{7*time.Second + ReceiveTimeout, device("home", 51820, peer, hs1, 124, 700), false, StateConnected, 7 * time.Second},
		// Silence past ReceiveTimeout: stale although the handshake is recent.
		{8*time.Second + ReceiveTimeout, device("home", 51820, peer, hs1, 124, 732), false, StateStale, 7 * time.Second},
		// Bytes again, handshake still < 180 s old: connected.
		{30 * time.Second, device("home", 51820, peer, hs1, 156, 764), false, StateConnected, 30 * time.Second},
		// Handshake older than 180 s even though bytes arrive: stale.
		{2*time.Second + HandshakeTimeout + time.Second, device("home", 51820, peer, hs1, 188, 800), false, StateStale, 2*time.Second + HandshakeTimeout + time.Second},
		// New handshake: connected.
		{300 * time.Second, device("home", 51820, peer, hs2, 300, 900), false, StateConnected, 300 * time.Second},
		// Tunnel taken down.
		{301 * time.Second, nil, true, StateDown, -1},
	}
	for i, s := range steps {
		clk.now = clk.at(s.at)
		if s.dev != nil {
			rd.devs["home"] = s.dev
		}
		u := up
		if s.down {
			u = nil
		}
		r := m.Snapshot([]*conf.Config{cfg}, u)
		p := r.Tunnels[0].Peers[0]
		if p.State != s.wantState {
			t.Errorf("step %d (t=%s): state %s, want %s", i, s.at, p.State, s.wantState)
		}
		var wantRecv *time.Time
		if s.wantRecv >= 0 {
			w := clk.at(s.wantRecv)
			wantRecv = &w
		}
		if diff := cmp.Diff(wantRecv, p.LastReceive); diff != "" {
			t.Errorf("step %d (t=%s): LastReceive (-want +got):\n%s", i, s.at, diff)
		}
	}
}

func TestSnapshotReport(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	home := testConfig(t, "home", self, peer, 5)
	office := testConfig(t, "office", key(t, 50), key(t, 150), 5)
	office.Interface.ListenPort = 51830
	clk := &clock{now: t0}
	hs := t0.Add(-3 * time.Second)
	rd := &fakeReader{devs: map[string]*wgtypes.Device{
		"home": device("home", 51820, peer, hs, 1000, 2000),
	}}
	m := New(Options{Reader: rd, Now: clk.Now})
	got := m.Snapshot([]*conf.Config{home, office}, map[string]string{"home": "home"})
	want := &Report{Tunnels: []TunnelStatus{
		{
			Name:       "home",
			Up:         true,
			Interface:  "home",
			Address:    "10.77.12.1/24",
			ListenPort: 51820,
			PublicKey:  self.PublicKey().String(),
			Peers: []PeerStatus{{
				Name:          "bob",
				PublicKey:     peer.String(),
				Address:       "10.77.12.2/32",
				Endpoint:      "198.51.100.9:40000",
				AllowedIPs:    []string{"10.77.12.2/32", "192.168.5.0/24"},
				LANs:          []LANStatus{{Prefix: "192.168.5.0/24", ReachAs: "192.168.5.0/24"}},
				LastHandshake: &hs,
				LastReceive:   &hs, // first sight: the handshake is the latest sure arrival
				RxBytes:       1000,
				TxBytes:       2000,
				State:         StateConnected,
				// The NAT showed another port than announced: still IPv4.
				Path:       "ipv4",
				Candidates: []Candidate{{Kind: "ipv4", Endpoint: "198.51.100.7:51821"}},
			}},
		},
		{
			Name:       "office",
			Address:    "10.77.12.1/24",
			ListenPort: 51830,
			PublicKey:  key(t, 50).PublicKey().String(),
			Peers: []PeerStatus{{
				Name:       "bob",
				PublicKey:  key(t, 150).String(),
				Address:    "10.77.12.2/32",
				Endpoint:   "198.51.100.7:51821",
				AllowedIPs: []string{"10.77.12.2/32", "192.168.5.0/24"},
				LANs:       []LANStatus{{Prefix: "192.168.5.0/24", ReachAs: "192.168.5.0/24"}},
				State:      StateDown,
				Candidates: []Candidate{{Kind: "ipv4", Endpoint: "198.51.100.7:51821"}},
			}},
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Snapshot (-want +got):\n%s", diff)
	}
	if rd.calls != 1 {
		t.Errorf("Device called %d times, want 1 (only up tunnels are read)", rd.calls)
	}
}

// A monitor that starts beside a long-running tunnel must not call it
// stale before it has had ReceiveTimeout to see the counters move.
func TestStartupGrace(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	clk := &clock{now: t0}
	hs := t0.Add(-90 * time.Second)
	rd := &fakeReader{devs: map[string]*wgtypes.Device{"home": device("home", 51820, peer, hs, 5000, 5000)}}
	m := New(Options{Reader: rd, Now: clk.Now})
	up := map[string]string{"home": "home"}
	if s := m.Snapshot([]*conf.Config{cfg}, up).Tunnels[0].Peers[0].State; s != StateConnected {
		t.Fatalf("first snapshot: %s, want connected", s)
	}
	clk.advance(ReceiveTimeout + time.Second)
	if s := m.Snapshot([]*conf.Config{cfg}, up).Tunnels[0].Peers[0].State; s != StateStale {
		t.Fatalf("no rx growth for %s after start: %s, want stale", ReceiveTimeout+time.Second, s)
	}
}

// Counters going back mean the device was recreated: start over.
func TestCounterReset(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	clk := &clock{now: t0}
	rd := &fakeReader{devs: map[string]*wgtypes.Device{"home": device("home", 51820, peer, t0, 5000, 5000)}}
	m := New(Options{Reader: rd, Now: clk.Now})
	up := map[string]string{"home": "home"}
	m.Snapshot([]*conf.Config{cfg}, up)

	clk.advance(time.Second)
	rd.devs["home"] = device("home", 51820, peer, time.Time{}, 0, 148)
	p := m.Snapshot([]*conf.Config{cfg}, up).Tunnels[0].Peers[0]
	if p.State != StateConnecting || p.LastReceive != nil || p.LastHandshake != nil {
		t.Errorf("after reset: state %s, last receive %v, handshake %v; want connecting, nil, nil", p.State, p.LastReceive, p.LastHandshake)
	}

	// The new device's counters grow past nothing: bytes arrive now.
	clk.advance(time.Second)
	hs := clk.now
	rd.devs["home"] = device("home", 51820, peer, hs, 92, 296)
	p = m.Snapshot([]*conf.Config{cfg}, up).Tunnels[0].Peers[0]
	if p.State != StateConnected || p.LastReceive == nil || !p.LastReceive.Equal(clk.now) {
		t.Errorf("after new handshake: state %s, last receive %v; want connected at %v", p.State, p.LastReceive, clk.now)
	}
}

func TestKeepaliveOff(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 0)
	clk := &clock{now: t0}
	dev := device("home", 51820, peer, t0, 92, 148)
	dev.Peers[0].PersistentKeepaliveInterval = 0
	rd := &fakeReader{devs: map[string]*wgtypes.Device{"home": dev}}
	m := New(Options{Reader: rd, Now: clk.Now})
	up := map[string]string{"home": "home"}
	m.Snapshot([]*conf.Config{cfg}, up)
	clk.advance(time.Minute) // idle: no bytes, no keepalives expected
	if s := m.Snapshot([]*conf.Config{cfg}, up).Tunnels[0].Peers[0].State; s != StateConnected {
		t.Errorf("idle link without keepalive, handshake 60 s ago: %s, want connected", s)
	}
	clk.advance(2*time.Minute + time.Second)
	if s := m.Snapshot([]*conf.Config{cfg}, up).Tunnels[0].Peers[0].State; s != StateStale {
		t.Errorf("handshake 180+ s ago: %s, want stale", s)
	}
}

func TestDeviceVanished(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	for _, tt := range []struct {
		name    string
		err     error
		wantErr string
	}{
		{"gone", nil, "interface home has disappeared: bring the tunnel up again"},
		{"unreadable", fmt.Errorf("dial unix: %w", errors.New("permission denied")), "read interface home: dial unix: permission denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := &fakeReader{devs: map[string]*wgtypes.Device{}, err: tt.err}
			m := New(Options{Reader: rd, Now: (&clock{now: t0}).Now})
			ts := m.Snapshot([]*conf.Config{cfg}, map[string]string{"home": "home"}).Tunnels[0]
			if ts.Up || ts.Error != tt.wantErr || ts.Peers[0].State != StateDown {
				t.Errorf("got up=%v error=%q peer state %s; want up=false error=%q state down", ts.Up, ts.Error, ts.Peers[0].State, tt.wantErr)
			}
		})
	}
}

// A tunnel whose service is still starting is starting, not gone (the
// Windows tray said "interface has disappeared" for a START_PENDING service).
func TestDeviceStarting(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	// What winsvc's DeviceReader returns for a START_PENDING service: the
	// status pipe is not there yet, so the error also wraps ErrNotExist.
	rd := &fakeReader{err: fmt.Errorf("%w: %w", ErrStarting, os.ErrNotExist)}
	m := New(Options{Reader: rd, Now: (&clock{now: t0}).Now})
	ts := m.Snapshot([]*conf.Config{cfg}, map[string]string{"home": "home"}).Tunnels[0]
	if !ts.Starting || ts.Error != "" || ts.Peers[0].State != StateConnecting {
		t.Errorf("got starting=%v error=%q peer state %s; want starting, no error, connecting", ts.Starting, ts.Error, ts.Peers[0].State)
	}
}

// A peer in the config but not (yet) on the device is connecting.
func TestPeerMissingFromDevice(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	rd := &fakeReader{devs: map[string]*wgtypes.Device{"home": {Name: "home", ListenPort: 51820}}}
	m := New(Options{Reader: rd, Now: (&clock{now: t0}).Now})
	p := m.Snapshot([]*conf.Config{cfg}, map[string]string{"home": "home"}).Tunnels[0].Peers[0]
	if p.State != StateConnecting {
		t.Errorf("state %s, want connecting", p.State)
	}
}

// Tracks of peers that went away are forgotten: the memory stays bounded
// and a returning peer starts fresh.
func TestForget(t *testing.T) {
	self, peer := key(t, 1), key(t, 100)
	cfg := testConfig(t, "home", self, peer, 5)
	rd := &fakeReader{devs: map[string]*wgtypes.Device{"home": device("home", 51820, peer, t0, 92, 148)}}
	m := New(Options{Reader: rd, Now: (&clock{now: t0}).Now})
	m.Snapshot([]*conf.Config{cfg}, map[string]string{"home": "home"})
	if len(m.peers) != 1 {
		t.Fatalf("tracking %d peers, want 1", len(m.peers))
	}
	m.Snapshot([]*conf.Config{cfg}, nil)
	if len(m.peers) != 0 {
		t.Errorf("tracking %d peers after the tunnel went down, want 0", len(m.peers))
	}
}

func BenchmarkSnapshot(b *testing.B) {
	cfgs := []*conf.Config{
		testConfig(b, "home", key(b, 1), key(b, 100), 5),
		testConfig(b, "office", key(b, 2), key(b, 101), 5),
	}
	rd := &fakeReader{devs: map[string]*wgtypes.Device{
		"home":   device("home", 51820, key(b, 100), t0, 92, 148),
		"office": device("office", 51821, key(b, 101), t0, 92, 148),
	}}
	clk := &clock{now: t0}
	m := New(Options{Reader: rd, Now: clk.Now})
	up := map[string]string{"home": "home", "office": "office"}
	b.ReportAllocs()
	for b.Loop() {
		clk.advance(time.Second)
		rd.devs["home"].Peers[0].ReceiveBytes += 32
		m.Snapshot(cfgs, up)
	}
}

// A snapshot of one tunnel (a status query for it alone) must not make the
// monitor forget another tunnel that is up.
func TestPartialSnapshotKeepsOthers(t *testing.T) {
	home := testConfig(t, "home", key(t, 1), key(t, 100), 5)
	office := testConfig(t, "office", key(t, 2), key(t, 101), 5)
	clk := &clock{now: t0}
	rd := &fakeReader{devs: map[string]*wgtypes.Device{
		"home":   device("home", 51820, key(t, 100), t0, 92, 148),
		"office": device("office", 51821, key(t, 101), t0, 92, 148),
	}}
	m := New(Options{Reader: rd, Now: clk.Now})
	up := map[string]string{"home": "home", "office": "office"}
	both := []*conf.Config{home, office}
	m.Snapshot(both, up)
	clk.advance(time.Second)
	rd.devs["home"].Peers[0].ReceiveBytes = 124 // arrives at t0+1s
	m.Snapshot(both, up)
	clk.advance(time.Second)
	m.Snapshot([]*conf.Config{office}, up)
	clk.advance(time.Second)
	r := m.Snapshot(both, up)
	// Forgetting home would make this a first sight, reporting the
	// handshake time t0 instead.
	if got, want := r.Tunnels[0].Peers[0].LastReceive, t0.Add(time.Second); got == nil || !got.Equal(want) {
		t.Errorf("home LastReceive = %v, want %v", got, want)
	}
	// A tunnel neither reported nor up is forgotten.
	m.Snapshot([]*conf.Config{office}, map[string]string{"office": "office"})
	if len(m.peers) != 1 {
		t.Errorf("tracking %d peers after home went down, want 1", len(m.peers))
	}
}

// The path is the kind of the endpoint in use among the peer's
// candidates (wireguard-go roamed it to IPv6), and empty once the peer
// is not connected.
func TestSnapshotPath(t *testing.T) {
	self, peer := key(t, 1), key(t, 2)
	cfg := testConfig(t, "home", self, peer, 5)
	cfg.Peers[0].Meta.Endpoint4 = conf.Endpoint{Host: "198.51.100.7", Port: 51821}
	cfg.Peers[0].Meta.Endpoint6 = conf.Endpoint{Host: "2001:db8::7", Port: 51821}
	t0 := time.Unix(1_800_000_000, 0)
	clk := &clock{now: t0}
	dev := device("home", 51820, peer, t0.Add(-3*time.Second), 1000, 2000)
	dev.Peers[0].Endpoint = &net.UDPAddr{IP: net.ParseIP("2001:db8::7"), Port: 51821}
	m := New(Options{Reader: &fakeReader{devs: map[string]*wgtypes.Device{"home": dev}}, Now: clk.Now})
	p := m.Snapshot([]*conf.Config{cfg}, map[string]string{"home": "home"}).Tunnels[0].Peers[0]
	want := []Candidate{{"ipv6", "[2001:db8::7]:51821"}, {"ipv4", "198.51.100.7:51821"}}
	if p.Path != "ipv6" || !slices.Equal(p.Candidates, want) {
		t.Errorf("path %q, candidates %v; want ipv6, %v", p.Path, p.Candidates, want)
	}
	clk.now = t0.Add(10 * time.Minute) // no handshake since
	if p := m.Snapshot([]*conf.Config{cfg}, map[string]string{"home": "home"}).Tunnels[0].Peers[0]; p.State == StateConnected || p.Path != "" {
		t.Errorf("state %s path %q ten minutes after the handshake, want not connected and no path", p.State, p.Path)
	}
}

// TestStatusLANs: each peer lists its LANs with what this side reaches
// them as, the alias for an aliased one, and the aliases it is served.
func TestStatusLANs(t *testing.T) {
	lan, alias := netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("10.201.1.0/24")
	cfg := &conf.Config{Name: "officeb", Peers: []conf.Peer{{
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.12.2/32"), alias, netip.MustParsePrefix("192.168.9.0/24")},
		Meta: conf.PeerMeta{
			LANs:    []netip.Prefix{lan, netip.MustParsePrefix("192.168.9.0/24")},
			ReachAs: []conf.LANAlias{{LAN: lan, As: alias}},
			ServeAs: []conf.LANAlias{{LAN: lan, As: netip.MustParsePrefix("10.57.1.0/24")}},
		},
	}}}
	got := baseStatus(cfg).Peers[0]
	want := []LANStatus{{"192.168.1.0/24", "10.201.1.0/24"}, {"192.168.9.0/24", "192.168.9.0/24"}}
	if !reflect.DeepEqual(got.LANs, want) || !got.LANs[0].Aliased() || got.LANs[1].Aliased() {
		t.Errorf("LANs %+v, want %+v", got.LANs, want)
	}
	if want := []LANStatus{{"192.168.1.0/24", "10.57.1.0/24"}}; !reflect.DeepEqual(got.ServeAs, want) {
		t.Errorf("ServeAs %+v, want %+v", got.ServeAs, want)
	}
	b, _ := json.Marshal(got)
	if !strings.Contains(string(b), `"lans":[{"prefix":"192.168.1.0/24","reach_as":"10.201.1.0/24"}`) {
		t.Errorf("JSON %s lacks the lans list", b)
	}
}
