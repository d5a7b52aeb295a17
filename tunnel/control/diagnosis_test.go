package control_test

import (
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

// Status gives every peer that is not connected a diagnosis drawn from
// what the daemon knows: the link switched off, no answer since up (with
// the peer's NAT verdict from the exchange), silent after a handshake.
func TestStatusDiagnosis(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a := NewEnv(t, false)
	b := NewEnv(t, true, func(o *ServiceOptions) { o.Now = clock })
	a.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.1:51820", Mapping: natcheck.MappingEndpointDependent, Verdict: natcheck.VerdictFail, Message: "symmetric NAT"}
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"}); err != nil {
		t.Fatal(err)
	}
	diag := func() *diagnose.Diagnosis {
		t.Helper()
		rep, err := b.Svc.Status(ctx, "work")
		if err != nil {
			t.Fatal(err)
		}
		return rep.Tunnels[0].Peers[0].Diagnosis
	}
	if d := diag(); d == nil || d.Code != diagnose.TunnelDown || !strings.Contains(d.Action, "wgpunch up work") {
		t.Errorf("down: %+v, want tunnel-down", d)
	}
	if err := b.Svc.Up(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	advance(40 * time.Second)
	if d := diag(); d == nil || d.Code != diagnose.PeerNATCannotPunch || !strings.Contains(d.Message, "Alice's own check") {
		t.Errorf("never answered, peer verdict fail: %+v, want peer-nat-cannot-punch", d)
	}

	// A handshake: connected, no diagnosis; then silence.
	pk := b.Load("work").Peers[0].PublicKey
	b.Eng.Mu.Lock()
	b.Eng.Handshakes = map[wgtypes.Key]time.Time{pk: clock()}
	b.Eng.Mu.Unlock()
	if d := diag(); d != nil {
		t.Errorf("just after a handshake: %+v, want none", d)
	}
	advance(10 * time.Minute)
	if d := diag(); d == nil || d.Code != diagnose.PeerSilent || !strings.Contains(d.Message, "for 10 minutes") {
		t.Errorf("silent: %+v, want peer-silent for 10 minutes", d)
	}
}
