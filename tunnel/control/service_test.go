package control_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

var ctx = context.Background()

// exchange runs invite -> accept -> accept(reply) between two services.
func exchange(t *testing.T, a, b *Env) (*InviteResult, *AcceptResult, *AcceptResult) {
	t.Helper()
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", Endpoint: "198.51.100.1:51820", Port: 51820})
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, DisplayName: "bob", Endpoint: "203.0.113.9:51999", Port: 51999})
	if err != nil {
		t.Fatalf("Accept(invite): %v", err)
	}
	rep, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply})
	if err != nil {
		t.Fatalf("Accept(reply): %v", err)
	}
	return inv, acc, rep
}

func TestExchangeLinksBothSides(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	inv, acc, rep := exchange(t, a, b)
	if inv.Endpoint != "198.51.100.1:51820" || inv.ListenPort != 51820 || inv.NAT != nil {
		t.Errorf("invite result = %+v", inv)
	}
	if len(inv.QRPNG) < 100 || len(acc.ReplyQRPNG) < 100 {
		t.Errorf("QR codes missing: %d, %d bytes", len(inv.QRPNG), len(acc.ReplyQRPNG))
	}
	if acc.Kind != "invite" || rep.Kind != "reply" || acc.PeerName != "alice" || rep.PeerName != "bob" {
		t.Errorf("kinds/names: %q %q %q %q", acc.Kind, rep.Kind, acc.PeerName, rep.PeerName)
	}
	if acc.SafetyCode == "" || acc.SafetyCode != rep.SafetyCode {
		t.Errorf("safety codes differ: %q vs %q", acc.SafetyCode, rep.SafetyCode)
	}
	ca, cb := a.Load("home"), b.Load("work")
	if len(ca.Peers) != 1 || len(cb.Peers) != 1 {
		t.Fatalf("peers: %d, %d", len(ca.Peers), len(cb.Peers))
	}
	pa, pb := ca.Peers[0], cb.Peers[0]
	if pa.PublicKey != cb.Interface.PrivateKey.PublicKey() || pb.PublicKey != ca.Interface.PrivateKey.PublicKey() {
		t.Error("public keys do not point at each other")
	}
	if got, want := pa.Endpoint.String(), "203.0.113.9:51999"; got != want {
		t.Errorf("a's peer endpoint = %s, want %s", got, want)
	}
	if got, want := pb.Endpoint.String(), "198.51.100.1:51820"; got != want {
		t.Errorf("b's peer endpoint = %s, want %s", got, want)
	}
	if pa.PersistentKeepalive != 5 || pb.PersistentKeepalive != 5 {
		t.Errorf("keepalives %d %d, want 5", pa.PersistentKeepalive, pb.PersistentKeepalive)
	}
	if ca.Interface.ListenPort != 51820 || cb.Interface.ListenPort != 51999 {
		t.Errorf("ports %d %d", ca.Interface.ListenPort, cb.Interface.ListenPort)
	}
	aAddr, bAddr := ca.Interface.Addresses[0], cb.Interface.Addresses[0]
	if aAddr.Masked() != bAddr.Masked() || aAddr.Addr() == bAddr.Addr() {
		t.Errorf("addresses %s %s not in one subnet", aAddr, bAddr)
	}
	if diff := cmp.Diff([]netip.Prefix{netip.PrefixFrom(bAddr.Addr(), 32)}, pa.AllowedIPs, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("a's AllowedIPs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]netip.Prefix{netip.PrefixFrom(aAddr.Addr(), 32)}, pb.AllowedIPs, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("b's AllowedIPs (-want +got):\n%s", diff)
	}
	if ca.Interface.Meta.PendingInviteID != "" || ca.Interface.Meta.PendingPeerAddress.IsValid() {
		t.Error("pending invite not cleared")
	}
	if pa.Meta.Name != "bob" || pb.Meta.Name != "alice" {
		t.Errorf("peer names %q %q", pa.Meta.Name, pb.Meta.Name)
	}
	if !strings.HasPrefix(aAddr.String(), "10.") || aAddr.Bits() != 24 || aAddr.Addr().As4()[3] != 1 || bAddr.Addr().As4()[3] != 2 {
		t.Errorf("addresses %s %s, want 10.x.y.1/24 and .2", aAddr, bAddr)
	}
	st, err := a.Svc.Status(ctx, "home")
	if err != nil || st.Tunnels[0].Peers[0].SafetyCode != acc.SafetyCode {
		t.Errorf("status safety code %v, want %q (err %v)", st, acc.SafetyCode, err)
	}
	// The reply pasted again: already accepted.
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply}); !errors.Is(err, ErrExists) {
		t.Errorf("second Accept(reply) = %v, want ErrExists", err)
	}
}

func TestInviteNATCheck(t *testing.T) {
	t.Run("public", func(t *testing.T) {
		e := NewEnv(t, false)
		e.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.7:40000", Mapping: natcheck.MappingEndpointIndependent, Verdict: natcheck.VerdictOK, Message: "fine"}
		res, err := e.Svc.Invite(ctx, InviteRequest{Name: "t1", STUN: []string{"127.0.0.1:3478"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Endpoint != "198.51.100.7:40000" || res.NAT == nil {
			t.Errorf("endpoint %q nat %v", res.Endpoint, res.NAT)
		}
		if got := e.NATReq[0]; got.LocalPort != res.ListenPort || !cmp.Equal(got.Servers, []string{"127.0.0.1:3478"}) {
			t.Errorf("NAT check options %+v, want port %d", got, res.ListenPort)
		}
		if c := e.Load("t1"); c.Interface.Meta.NATVerdict != "ok" || c.Interface.Meta.NATMapping != "endpoint-independent" {
			t.Errorf("NAT meta %+v", c.Interface.Meta)
		}
	})
	t.Run("fallback to LAN", func(t *testing.T) {
		e := NewEnv(t, false)
		res, err := e.Svc.Invite(ctx, InviteRequest{Name: "t1"})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("192.168.1.10:%d", res.ListenPort)
		if res.Endpoint != want {
			t.Errorf("endpoint %q, want %q", res.Endpoint, want)
		}
		if !strings.Contains(strings.Join(res.Notes, "\n"), "no public address found") || !strings.Contains(strings.Join(res.Notes, "\n"), "--endpoint") {
			t.Errorf("notes %q lack the fallback explanation", res.Notes)
		}
	})
}

func TestInviteReissueKeepsID(t *testing.T) {
	e := NewEnv(t, false)
	r1, err := e.Svc.Invite(ctx, InviteRequest{Name: "t1", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	key1 := e.Load("t1").Interface.PrivateKey
	r2, err := e.Svc.Invite(ctx, InviteRequest{Name: "t1", Endpoint: "198.51.100.2:51820"})
	if err != nil {
		t.Fatal(err)
	}
	m1, _ := invite.Decode(r1.Token)
	m2, _ := invite.Decode(r2.Token)
	if m1.Invite.ID != m2.Invite.ID || m1.Invite.InviteeAddress != m2.Invite.InviteeAddress {
		t.Errorf("reissue changed ID/address: %s %s", m1.Invite.ID, m2.Invite.ID)
	}
	if m2.Invite.Endpoint.Host != "198.51.100.2" {
		t.Errorf("reissue kept the old endpoint %v", m2.Invite.Endpoint)
	}
	if e.Load("t1").Interface.PrivateKey != key1 {
		t.Error("reissue changed the key")
	}
}

// badAccept is a token (with a request) that Accept must refuse with err
// want, naming msg, and without changing a file.
type badAccept struct {
	name string
	on   *Env
	req  AcceptRequest
	want error
	msg  string
}

// badAccepts links a and b (a: home, b: work), gives a a second pending
// invite (other) and returns the tokens Accept must refuse: mangled,
// forged and misdirected ones. It returns a's first invite too.
func badAccepts(t *testing.T, a, b *Env) (*InviteResult, []badAccept) {
	t.Helper()
	inv, _, _ := exchange(t, a, b)
	// A second pending invite on a, for the wrong-reply cases.
	inv2, err := a.Svc.Invite(ctx, InviteRequest{Name: "other", Endpoint: "198.51.100.1:51821"})
	if err != nil {
		t.Fatal(err)
	}
	ownReply, err := (&invite.Reply{InviteID: a.Load("other").Interface.Meta.PendingInviteID, Name: "me", PublicKey: a.Load("other").Interface.PrivateKey.PublicKey(), Endpoint: conf.Endpoint{Host: "192.0.2.1", Port: 1}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := wgtypes.GeneratePrivateKey()
	strayReply, _ := (&invite.Reply{InviteID: invite.NewID(), Name: "x", PublicKey: k.PublicKey(), Endpoint: conf.Endpoint{Host: "192.0.2.1", Port: 1}}).Encode()
	m2, _ := invite.Decode(inv2.Token)
	replyToOther, _ := (&invite.Reply{InviteID: m2.Invite.ID, Name: "x", PublicKey: k.PublicKey(), Endpoint: conf.Endpoint{Host: "192.0.2.1", Port: 1}}).Encode()
	mangled := inv.Token[:len(inv.Token)/2] + "Q" + inv.Token[len(inv.Token)/2+1:]
	if mangled == inv.Token {
		mangled = inv.Token[:len(inv.Token)/2] + "R" + inv.Token[len(inv.Token)/2+1:]
	}
	return inv, []badAccept{
		{"mangled invite", a, AcceptRequest{Name: "new1", Token: mangled}, ErrInvalidInput, ""},
		{"truncated invite", a, AcceptRequest{Name: "new1", Token: inv.Token[:30]}, ErrInvalidInput, ""},
		{"garbage", a, AcceptRequest{Name: "new1", Token: "hello world"}, ErrInvalidInput, ""},
		{"own invite pasted back", a, AcceptRequest{Name: "new1", Token: inv2.Token}, ErrInvalidInput, "made on this machine"},
		{"reply with own key", a, AcceptRequest{Name: "other", Token: ownReply}, ErrInvalidInput, "own public key"},
		{"reply to an invite nobody issued", a, AcceptRequest{Name: "home", Token: strayReply}, ErrInvalidInput, "which home did not issue"},
		{"reply for the other tunnel", a, AcceptRequest{Name: "home", Token: replyToOther}, ErrInvalidInput, `tunnel "other" did`},
		{"accept into existing name", b, AcceptRequest{Name: "work", Token: inv2.Token}, ErrExists, ""},
		{"LAN too wide on accept", b, AcceptRequest{Name: "new5", Token: inv2.Token, LANs: []string{"128.0.0.0/2"}}, ErrInvalidInput, "too wide"},
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	_, accepts := badAccepts(t, a, b)
	a.Busy[40001] = true
	type badCase struct {
		name string
		run  func() error
		want error
		msg  string
	}
	var tests []badCase
	for _, ba := range accepts {
		tests = append(tests, badCase{ba.name, func() error {
			_, err := ba.on.Svc.Accept(ctx, ba.req)
			return err
		}, ba.want, ba.msg})
	}
	tests = append(tests, []badCase{
		{"busy port", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "new2", Port: 40001, Endpoint: "198.51.100.1:40001"})
			return err
		}, ErrPortInUse, "in use by another program"},
		{"port of another tunnel", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "new2", Port: 51820, Endpoint: "198.51.100.1:51820"})
			return err
		}, ErrPortInUse, `tunnel "home"`},
		{"set-port busy", func() error { return a.Svc.SetListenPort(ctx, "home", 40001) }, ErrPortInUse, ""},
		{"set-port zero", func() error { return a.Svc.SetListenPort(ctx, "home", 0) }, ErrInvalidInput, ""},
		{"bad endpoint", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "new3", Endpoint: "nonsense"})
			return err
		}, ErrInvalidInput, "HOST:PORT"},
		{"bad LAN", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "new3", Endpoint: "198.51.100.1:1", LANs: []string{"192.168.1.300/24"}})
			return err
		}, ErrInvalidInput, "CIDR"},
		{"LAN too wide", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "new3", Endpoint: "198.51.100.1:1", LANs: []string{"192.168.1.0/24,0.0.0.0/1"}})
			return err
		}, ErrInvalidInput, `LAN "0.0.0.0/1" is too wide for a local network (shorter than /8)`},
		{"LAN too wide on re-invite", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:1", LANs: []string{"10.0.0.0/7"}})
			return err
		}, ErrInvalidInput, "too wide"},
		{"bad name", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "no/slash", Endpoint: "198.51.100.1:1"})
			return err
		}, ErrInvalidInput, ""},
		{"display name too long", func() error {
			_, err := a.Svc.Invite(ctx, InviteRequest{Name: "new4", Endpoint: "198.51.100.1:1", DisplayName: strings.Repeat("x", 40)})
			return err
		}, ErrInvalidInput, "at most"},
		{"rename onto existing", func() error { return a.Svc.Rename(ctx, "home", "other") }, ErrExists, ""},
		{"remove missing", func() error { return a.Svc.Remove(ctx, "nope") }, ErrNotFound, ""},
		{"up without engine", func() error { return a.Svc.Up(ctx, "home") }, ErrNeedDaemon, "sudo systemctl start wgpunch"},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			beforeA, beforeB := a.Snapshot(), b.Snapshot()
			err := tt.run()
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			if diff := cmp.Diff(beforeA, a.Snapshot()); diff != "" {
				t.Errorf("a's files changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(beforeB, b.Snapshot()); diff != "" {
				t.Errorf("b's files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestBrokenConfigFile(t *testing.T) {
	e := NewEnv(t, false)
	if _, err := e.Svc.Invite(ctx, InviteRequest{Name: "t1", Endpoint: "198.51.100.1:51820"}); err != nil {
		t.Fatal(err)
	}
	path := e.Dir + "/t1.conf"
	if err := WriteFileForTest(path, "[Interface]\nListenPort = banana\n"); err != nil {
		t.Fatal(err)
	}
	before := e.Snapshot()
	_, err := e.Svc.Show(ctx, "t1")
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "broken") {
		t.Errorf("Show = %v, want a broken-file error naming line 2", err)
	}
	if _, err := e.Svc.Invite(ctx, InviteRequest{Name: "t1", Endpoint: "198.51.100.1:51820"}); err == nil {
		t.Error("Invite on a broken tunnel succeeded")
	}
	rep, err := e.Svc.Status(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tunnels) != 1 || !strings.Contains(rep.Tunnels[0].Error, "broken") {
		t.Errorf("status %+v lacks the broken tunnel", rep.Tunnels)
	}
	if diff := cmp.Diff(before, e.Snapshot()); diff != "" {
		t.Errorf("files changed (-before +after):\n%s", diff)
	}
	if err := e.Svc.Remove(ctx, "t1"); err != nil {
		t.Errorf("Remove of a broken tunnel: %v", err)
	}
}

func TestUpDownRestore(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	exchange(t, a, b)
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	if got := a.UpSet(); !cmp.Equal(got, []string{"home"}) {
		t.Errorf("up-set %v", got)
	}
	if a.Eng.Config("home") == nil {
		t.Fatal("engine did not get the config")
	}
	// Shutdown takes it down but keeps the up-set.
	if err := a.Svc.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if len(a.Eng.Running()) != 0 {
		t.Errorf("still running after Shutdown: %v", a.Eng.Running())
	}
	if got := a.UpSet(); !cmp.Equal(got, []string{"home"}) {
		t.Errorf("up-set after Shutdown %v, want [home]", got)
	}
	// A new service (daemon restart) restores it.
	svc2, err := NewService(OptionsOf(a.Svc))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc2.RestoreUp(ctx); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(a.Eng.Running(), []string{"home"}) {
		t.Errorf("running after restore: %v", a.Eng.Running())
	}
	rep, err := svc2.Status(ctx, "home")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tunnels) != 1 || !rep.Tunnels[0].Up {
		t.Errorf("status after restore: %+v", rep.Tunnels)
	}
	if err := svc2.Down(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	if got := a.UpSet(); len(got) != 0 {
		t.Errorf("up-set after Down %v, want empty", got)
	}
}

func TestUpFailureIsReported(t *testing.T) {
	a := NewEnv(t, true)
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "t1", Endpoint: "198.51.100.1:51820", Port: 51820}); err != nil {
		t.Fatal(err)
	}
	a.Busy[51820] = true
	err := a.Svc.Up(ctx, "t1")
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "set-port") {
		t.Errorf("Up on busy port = %v", err)
	}
	a.Busy[51820] = false
	a.Eng.FailUp = errors.New("boom")
	if err := a.Svc.Up(ctx, "t1"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Up = %v, want engine error", err)
	}
	rep, _ := a.Svc.Status(ctx, "t1")
	if rep.Tunnels[0].Error == "" {
		t.Error("Status does not show the up error")
	}
}

func TestReplyWhileUpReapplies(t *testing.T) {
	a, b := NewEnv(t, true), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820", Port: 51820})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Svc.Up(ctx, "home"); err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Token: acc.Reply}); err != nil { // no name: found by invite ID
		t.Fatal(err)
	}
	if got := a.Eng.Config("home"); got == nil || len(got.Peers) != 1 {
		t.Fatalf("engine config after reply: %+v", got)
	}
}

func TestRemoveAndRenameWhileUp(t *testing.T) {
	a := NewEnv(t, true)
	for _, n := range []string{"t1", "t2"} {
		if _, err := a.Svc.Invite(ctx, InviteRequest{Name: n, Endpoint: "198.51.100.1:51820"}); err != nil {
			t.Fatal(err)
		}
		if err := a.Svc.Up(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Svc.Rename(ctx, "t1", "t3"); err != nil {
		t.Fatal(err)
	}
	if got := a.Eng.Running(); !cmp.Equal(got, []string{"t2", "t3"}) {
		t.Errorf("running after rename %v", got)
	}
	if got := a.UpSet(); !cmp.Equal(got, []string{"t2", "t3"}) {
		t.Errorf("up-set after rename %v", got)
	}
	if err := a.Svc.Remove(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if got := a.Eng.Running(); !cmp.Equal(got, []string{"t3"}) {
		t.Errorf("running after remove %v", got)
	}
	names, _ := a.Svc.List(ctx)
	if !cmp.Equal(names, []string{"t3"}) {
		t.Errorf("List = %v", names)
	}
}

func TestWarnings(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	// The inviter's NAT cannot be punched (a LAN that overlaps ours is
	// refused: TestRouteClashWarnings).
	a.NATRep = &natcheck.Report{PublicEndpoint: "198.51.100.1:51820", Mapping: natcheck.MappingEndpointDependent, Verdict: natcheck.VerdictFail, Message: "symmetric NAT"}
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", LANs: []string{"192.168.77.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if inv.NAT == nil || inv.NAT.Verdict != natcheck.VerdictFail || inv.NAT.Message != "symmetric NAT" {
		t.Errorf("invite result NAT %+v, want the fail verdict", inv.NAT)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, w := range acc.Warnings {
		codes[w.Code] = true
	}
	if !codes["nat-fail"] || len(codes) != 1 {
		t.Errorf("accept warnings %+v, want nat-fail only", acc.Warnings)
	}
	rep, err := b.Svc.Status(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	codes = map[string]bool{}
	for _, w := range rep.Tunnels[0].Warnings {
		codes[w.Code] = true
		if w.Code == "nat-fail" && !strings.Contains(w.Message, "alice") {
			t.Errorf("nat-fail warning does not name the peer: %q", w.Message)
		}
	}
	if !codes["nat-fail"] || len(codes) != 1 {
		t.Errorf("status warnings %+v, want nat-fail only", rep.Tunnels[0].Warnings)
	}
}

func TestWatch(t *testing.T) {
	a := NewEnv(t, false)
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "t1", Endpoint: "198.51.100.1:51820"}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	ch, err := a.Svc.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case r := <-ch:
			if len(r.Tunnels) != 1 || r.Tunnels[0].Name != "t1" {
				t.Errorf("report %+v", r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no report")
		}
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				stopped := !WatchPolling(a.Svc)
				if !stopped {
					t.Error("poller still running with no watchers")
				}
				return
			}
		case <-deadline:
			t.Fatal("channel not closed after cancel")
		}
	}
}

func TestSecondPeerGetsNewAddress(t *testing.T) {
	a, b, c := NewEnv(t, false), NewEnv(t, false), NewEnv(t, false)
	exchange(t, a, b)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.Svc.Accept(ctx, AcceptRequest{Name: "x", Token: inv.Token, Endpoint: "203.0.113.10:5000"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply}); err != nil {
		t.Fatal(err)
	}
	cfg := a.Load("home")
	if len(cfg.Peers) != 2 || cfg.Peers[0].AllowedIPs[0] == cfg.Peers[1].AllowedIPs[0] {
		t.Errorf("peers %+v", cfg.Peers)
	}
}

// TestExchangeEveryCandidate: both sides give an IPv4 and an IPv6
// endpoint (--endpoint twice); both messages carry both, the safety codes
// agree over them, and with nothing known against IPv4 each side reaches
// the other over IPv4 as before (no fallback between candidates yet).
func TestExchangeEveryCandidate(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820,[2001:db8:1::1]:51820", Port: 51820})
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	if inv.Endpoint != "198.51.100.1:51820" || inv.Endpoint6 != "[2001:db8:1::1]:51820" {
		t.Errorf("invite announces %q and %q, want both endpoints", inv.Endpoint, inv.Endpoint6)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999,[2001:db8:2::1]:51999", Port: 51999})
	if err != nil {
		t.Fatalf("Accept(invite): %v", err)
	}
	rep, err := a.Svc.Accept(ctx, AcceptRequest{Name: "home", Token: acc.Reply})
	if err != nil {
		t.Fatalf("Accept(reply): %v", err)
	}
	if got := b.Load("work").Peers[0].Endpoint.String(); got != "198.51.100.1:51820" {
		t.Errorf("invitee reaches the inviter at %s, want its IPv4 endpoint", got)
	}
	if got := a.Load("home").Peers[0].Endpoint.String(); got != "203.0.113.9:51999" {
		t.Errorf("inviter reaches the invitee at %s, want its IPv4 endpoint", got)
	}
	m, err := invite.Decode(acc.Reply)
	if err != nil || m.Reply.Endpoint6.String() != "[2001:db8:2::1]:51999" {
		t.Errorf("reply %+v (%v), want it to carry the IPv6 endpoint", m, err)
	}
	if acc.SafetyCode == "" || acc.SafetyCode != rep.SafetyCode {
		t.Errorf("safety codes %q and %q, want the same", acc.SafetyCode, rep.SafetyCode)
	}
	_, err = a.Svc.Invite(ctx, InviteRequest{Name: "two", Endpoint: "198.51.100.1:51820,198.51.100.2:51820", Port: 51821})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "one per address family") {
		t.Errorf("two IPv4 endpoints: %v, want invalid input, one per address family", err)
	}
}
