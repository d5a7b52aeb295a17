package control_test

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/diagnose"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// The address watch: when STUN through the tunnel's socket sees another
// public address than the one announced, status carries a
// public-address-changed warning per peer with an update the peer takes
// (only its endpoint for us moves), and the diagnosis says
// own-address-changed; once the peer handshakes after the change, the new
// address becomes the announced one. No STUN answer twice: udp-blocked.
func TestAddressWatch(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a := NewEnv(t, true, func(o *ServiceOptions) { o.Now = clock })
	b := NewEnv(t, false)
	a.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.1:51820", Mapping: natcheck.MappingEndpointIndependent, Verdict: natcheck.VerdictOK}
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", DisplayName: "bob", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Token: acc.Reply}); err != nil {
		t.Fatal(err)
	}
	if got := a.Load("home").Interface.Meta.PublicEndpoint.String(); got != "198.51.100.1:51820" {
		t.Fatalf("announced endpoint %q, want the NAT check's", got)
	}
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	localSTUN(t, a)
	status := func() (warn []Warning, d *diagnose.Diagnosis) {
		t.Helper()
		rep, err := a.Svc.Status(ctx, "home")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range rep.Tunnels[0].Warnings {
			if w.Code == "public-address-changed" {
				warn = append(warn, w)
			}
		}
		return warn, rep.Tunnels[0].Peers[0].Diagnosis
	}
	a.Eng.Mu.Lock()
	a.Eng.Public = netip.MustParseAddrPort("198.51.100.1:51820")
	a.Eng.Mu.Unlock()
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	if w, _ := status(); len(w) != 0 {
		t.Fatalf("warnings with the announced address: %+v", w)
	}

	// The router got a new WAN address.
	a.Eng.Mu.Lock()
	a.Eng.Public = netip.MustParseAddrPort("198.51.100.12:51820")
	a.Eng.Mu.Unlock()
	advance(time.Minute)
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	w, d := status()
	if len(w) != 1 || w[0].Peer != "bob" || !strings.HasPrefix(w[0].Update, "WGP1U-") || !strings.Contains(w[0].Message, "now 198.51.100.12:51820, was 198.51.100.1:51820") || !strings.Contains(w[0].Message, "send this update to bob") {
		t.Fatalf("warnings %+v, want one public-address-changed for bob with an update", w)
	}
	if d == nil || d.Code != diagnose.OwnAddressChanged || !strings.Contains(d.Message, "198.51.100.12:51820") {
		t.Errorf("diagnosis %+v, want own-address-changed", d)
	}
	res, err := b.Svc.Accept(ctx, AcceptRequest{Token: w[0].Update})
	if err != nil {
		t.Fatalf("bob takes the update: %v", err)
	}
	if got := b.Load("work").Peers[0].Endpoint.String(); got != "198.51.100.12:51820" || res.Kind != "update" {
		t.Errorf("bob's endpoint for alice %s (%+v)", got, res)
	}

	// Bob handshakes at the new address: he is told; the new address is
	// the announced one.
	advance(time.Second)
	pk := a.Load("home").Peers[0].PublicKey
	a.Eng.Mu.Lock()
	a.Eng.Handshakes = map[wgtypes.Key]time.Time{pk: clock()}
	a.Eng.Mu.Unlock()
	a.Svc.CheckAddresses(ctx, a.Eng, false)
	// (The fake device counts no bytes, so bob reads stale, not connected.)
	if w, d := status(); len(w) != 0 || d == nil || d.Code == diagnose.OwnAddressChanged {
		t.Errorf("after bob handshaked: warnings %+v, diagnosis %+v", w, d)
	}
	if got := a.Load("home").Interface.Meta.PublicEndpoint.String(); got != "198.51.100.12:51820" {
		t.Errorf("announced endpoint %q after every peer caught up", got)
	}

	// No STUN server answers, twice: udp-blocked (with bob silent).
	a.Eng.Mu.Lock()
	a.Eng.PublicErr = errors.New("no answer from the STUN server")
	a.Eng.Handshakes = nil
	a.Eng.Mu.Unlock()
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	if _, d := status(); d == nil || d.Code != diagnose.UDPBlocked {
		t.Errorf("diagnosis %+v, want udp-blocked", d)
	}
}

// Checks are rare while every peer is connected and more frequent while
// one is not: a few STUN packets an hour per idle tunnel.
func TestAddressWatchCadence(t *testing.T) {
	n := idleHourProbes(t)
	t.Logf("%d STUN queries in an idle hour", n)
	if n < 1 || n > 7 {
		t.Errorf("%d queries in an idle hour, want at most 7 (every %v)", n, DefaultAddrCheckIdle)
	}
}

// idleHourProbes counts the address watch's STUN queries for one up
// tunnel over one simulated idle hour, in 5 s ticks.
func idleHourProbes(tb testing.TB) int {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := NewEnv(tb, true, func(o *ServiceOptions) { o.Now = clock })
	a.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.1:51820", Mapping: natcheck.MappingEndpointIndependent, Verdict: natcheck.VerdictOK}
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Port: 51820}); err != nil {
		tb.Fatal(err)
	}
	if err := a.Svc.Up(ctx, "home"); err != nil {
		tb.Fatal(err)
	}
	localSTUN(tb, a)
	a.Eng.Mu.Lock()
	a.Eng.Public = netip.MustParseAddrPort("198.51.100.1:51820")
	a.Eng.Mu.Unlock()
	for range 720 {
		a.Svc.CheckAddresses(ctx, a.Eng, false)
		mu.Lock()
		now = now.Add(5 * time.Second)
		mu.Unlock()
	}
	a.Eng.Mu.Lock()
	defer a.Eng.Mu.Unlock()
	return a.Eng.Probes
}

// localSTUN points the settings at a literal address, so the watch looks
// nothing up (the fake engine answers for the server).
func localSTUN(t testing.TB, e *Env) {
	t.Helper()
	if err := e.Svc.SetSettings(ctx, Settings{STUNServers: []string{"127.0.0.1:3478"}}); err != nil {
		t.Fatal(err)
	}
}

// An engine that probes from another socket (Windows) answers port 0:
// only the address is compared, and the update keeps the announced port.
func TestAddressWatchAddressOnly(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	linkWatched(t, a, b)
	warned := func() string {
		rep, err := a.Svc.Status(ctx, "home")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range rep.Tunnels[0].Warnings {
			if w.Code == "public-address-changed" {
				return w.Message
			}
		}
		return ""
	}
	a.Eng.Mu.Lock()
	a.Eng.Public = netip.MustParseAddrPort("198.51.100.1:0")
	a.Eng.Mu.Unlock()
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	if w := warned(); w != "" {
		t.Fatalf("same address, port 0: warned %q", w)
	}
	a.Eng.Mu.Lock()
	a.Eng.Public = netip.MustParseAddrPort("198.51.100.12:0")
	a.Eng.Mu.Unlock()
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	if w := warned(); !strings.Contains(w, "now 198.51.100.12:51820") {
		t.Errorf("new address, port 0: warning %q, want the announced port kept", w)
	}
}

// A router holding a wrong entry gives the tunnel's socket another port
// for a while (lab: TestWGPunchStaysUp, stuck router). The watch reports
// it, but once the peer is back and the port is the announced one again,
// nothing new is saved: a new address is saved only when one more query
// after every peer caught up still sees it.
func TestAddressWatchStuckPort(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a, b := NewEnv(t, true, func(o *ServiceOptions) { o.Now = clock }), NewEnv(t, false)
	linkWatched(t, a, b)
	set := func(public string, perr error, handshake bool) {
		a.Eng.Mu.Lock()
		defer a.Eng.Mu.Unlock()
		a.Eng.Public, a.Eng.PublicErr = netip.MustParseAddrPort(public), perr
		a.Eng.Handshakes = nil
		if handshake {
			a.Eng.Handshakes = map[wgtypes.Key]time.Time{a.Load("home").Peers[0].PublicKey: clock()}
		}
	}
	diag := func() *diagnose.Diagnosis {
		rep, err := a.Svc.Status(ctx, "home")
		if err != nil {
			t.Fatal(err)
		}
		return rep.Tunnels[0].Peers[0].Diagnosis
	}

	set("198.51.100.1:58536", nil, false) // the wrong port
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	if d := diag(); d == nil || d.Code != diagnose.OwnAddressChanged {
		t.Fatalf("diagnosis %+v with the wrong port, want own-address-changed", d)
	}
	// The link is back, and so is the announced port.
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	set("198.51.100.1:51820", nil, true)
	a.Svc.CheckAddresses(ctx, a.Eng, false)
	if got := a.Load("home").Interface.Meta.PublicEndpoint.String(); got != "198.51.100.1:51820" {
		t.Errorf("announced endpoint %q after the wrong port went, want it kept", got)
	}
	rep, err := a.Svc.Status(ctx, "home")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rep.Tunnels[0].Warnings {
		if w.Code == "public-address-changed" {
			t.Errorf("still warned after the port came back: %s", w.Message)
		}
	}
}

// A session that outlives the address change carries on without a new
// handshake once the peer takes the update: packets arriving after the
// change count as the peer having caught up, and the new address becomes
// the announced one.
func TestAddressWatchCaughtUpByPackets(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a, b := NewEnv(t, true, func(o *ServiceOptions) { o.Now = clock }), NewEnv(t, false)
	linkWatched(t, a, b)
	pk := a.Load("home").Peers[0].PublicKey
	handshake := clock()
	set := func(public string, rx int64) {
		a.Eng.Mu.Lock()
		defer a.Eng.Mu.Unlock()
		a.Eng.Public = netip.MustParseAddrPort(public)
		a.Eng.Handshakes = map[wgtypes.Key]time.Time{pk: handshake}
		a.Eng.RxBytes = map[wgtypes.Key]int64{pk: rx}
	}
	set("198.51.100.1:51820", 100)
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	advance(30 * time.Second)
	set("198.51.100.12:51820", 100)
	a.Svc.CheckAddresses(ctx, a.Eng, true)
	if got := a.Load("home").Interface.Meta.PublicEndpoint.String(); got != "198.51.100.1:51820" {
		t.Fatalf("announced %q before the peer caught up", got)
	}
	// The peer took the update: its packets arrive, the session (35 s
	// old) carries on.
	advance(5 * time.Second)
	set("198.51.100.12:51820", 200)
	a.Svc.CheckAddresses(ctx, a.Eng, false)
	if got := a.Load("home").Interface.Meta.PublicEndpoint.String(); got != "198.51.100.12:51820" {
		t.Errorf("announced endpoint %q after packets came from the peer, want the new address", got)
	}
	rep, err := a.Svc.Status(ctx, "home")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rep.Tunnels[0].Warnings {
		if w.Code == "public-address-changed" {
			t.Errorf("still warned after the peer caught up: %s", w.Message)
		}
	}
}

// linkWatched links a's tunnel "home" (public endpoint 198.51.100.1:51820
// from its NAT check) with b's "work", brings it up on a and points a's
// STUN settings at the fake engine's server.
func linkWatched(t *testing.T, a, b *Env) {
	t.Helper()
	a.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.1:51820", Mapping: natcheck.MappingEndpointIndependent, Verdict: natcheck.VerdictOK}
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Token: acc.Reply}); err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	localSTUN(t, a)
}
