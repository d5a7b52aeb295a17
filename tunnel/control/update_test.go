package control_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// An address update from the peer moves only that peer's endpoint, on disk
// and in the running tunnel; a replayed, foreign, reflected or misdirected
// one changes nothing and says why.
func TestAcceptUpdate(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, true)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Svc.Up(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	alice := a.Load("home").Interface.PrivateKey
	bob := b.Load("work").Interface.PrivateKey.PublicKey()
	update := func(from wgtypes.Key, to wgtypes.Key, ep string, at time.Time) string {
		t.Helper()
		tok, err := invite.NewUpdate(from.PublicKey(), to, netip.MustParseAddrPort(ep), at).Encode(from, to, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	tok := update(alice, bob, "198.51.100.77:51820", now.Add(-time.Minute))
	// The preview says what changes and saves nothing.
	before := b.Snapshot()
	pre, err := b.Svc.PreviewAccept(ctx, AcceptRequest{Token: tok})
	if err != nil || pre.Kind != "update" || !strings.Contains(strings.Join(pre.Notes, " "), "to 198.51.100.77:51820") {
		t.Fatalf("preview %+v, %v", pre, err)
	}
	if diff := cmp.Diff(before, b.Snapshot()); diff != "" {
		t.Errorf("preview changed files:\n%s", diff)
	}
	res, err := b.Svc.Accept(ctx, AcceptRequest{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != "update" || res.Tunnel != "work" || res.PeerName != "alice" || !strings.Contains(strings.Join(res.Notes, " "), "198.51.100.1:51820 to 198.51.100.77:51820") {
		t.Errorf("result %+v", res)
	}
	saved := b.Load("work")
	if got := saved.Peers[0].Endpoint.String(); got != "198.51.100.77:51820" {
		t.Errorf("saved endpoint %s", got)
	}
	if got := b.Eng.Config("work").Peers[0].Endpoint.String(); got != "198.51.100.77:51820" {
		t.Errorf("running endpoint %s", got)
	}

	mallory, _ := wgtypes.GeneratePrivateKey()
	for _, tc := range []struct {
		name, tok, tunnel, want string
	}{
		{"replayed", tok, "", "already taken"},
		{"older", update(alice, bob, "198.51.100.78:51820", now.Add(-2*time.Minute)), "", "older than"},
		{"from a stranger", update(mallory, bob, "198.51.100.79:51820", now), "", "none of your links knows"},
		{"for another computer", update(alice, mallory.PublicKey(), "198.51.100.79:51820", now), "", "none of your links knows"},
		{"wrong tunnel named", update(alice, bob, "198.51.100.79:51820", now), "other", `belongs to your link "work"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.Snapshot()
			_, err := b.Svc.Accept(ctx, AcceptRequest{Name: tc.tunnel, Token: tc.tok})
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Accept = %v, want ErrInvalidInput with %q", err, tc.want)
			}
			if diff := cmp.Diff(before, b.Snapshot()); diff != "" {
				t.Errorf("refused update changed files:\n%s", diff)
			}
			if got := b.Eng.Config("work").Peers[0].Endpoint.String(); got != "198.51.100.77:51820" {
				t.Errorf("running endpoint %s", got)
			}
		})
	}
	// Our own update pasted back on our side.
	b2 := b.Load("work")
	own := update(b2.Interface.PrivateKey, b2.Peers[0].PublicKey, "198.51.100.80:51820", now)
	if _, err := b.Svc.Accept(ctx, AcceptRequest{Token: own}); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "made on this computer") {
		t.Errorf("own update: %v, want made on this computer", err)
	}
}

// An update moves the candidate of each family it carries and leaves the
// other; a peer reached over IPv6 stays on IPv6.
func TestAcceptUpdateCandidates(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, true)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", Endpoint: "198.51.100.1:51820,[2001:db8:1::1]:51820"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"}); err != nil {
		t.Fatal(err)
	}
	m := b.Load("work").Peers[0].Meta
	if m.Endpoint4.String() != "198.51.100.1:51820" || m.Endpoint6.String() != "[2001:db8:1::1]:51820" {
		t.Fatalf("accepted candidates %v %v, want both of the invite's", m.Endpoint4, m.Endpoint6)
	}
	alice := a.Load("home").Interface.PrivateKey
	bob := b.Load("work").Interface.PrivateKey.PublicKey()
	now := time.Now()
	for i, tc := range []struct {
		ep, want4, want6, wantEP string
	}{
		{"198.51.100.2:51820", "198.51.100.2:51820", "[2001:db8:1::1]:51820", "198.51.100.2:51820"},
		{"[2001:db8:1::2]:51820", "198.51.100.2:51820", "[2001:db8:1::2]:51820", "198.51.100.2:51820"},
		{"198.51.100.3:51820", "198.51.100.3:51820", "[2001:db8:1::2]:51820", "198.51.100.3:51820"},
	} {
		tok, err := invite.NewUpdate(alice.PublicKey(), bob, netip.MustParseAddrPort(tc.ep), now.Add(time.Duration(i-10)*time.Second)).Encode(alice, bob, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Svc.Accept(ctx, AcceptRequest{Token: tok}); err != nil {
			t.Fatal(err)
		}
		p := b.Load("work").Peers[0]
		if p.Meta.Endpoint4.String() != tc.want4 || p.Meta.Endpoint6.String() != tc.want6 || p.Endpoint.String() != tc.wantEP {
			t.Errorf("update %d (%s): endpoint %v, candidates %v %v; want %s, %s %s", i, tc.ep, p.Endpoint, p.Meta.Endpoint4, p.Meta.Endpoint6, tc.wantEP, tc.want4, tc.want6)
		}
	}
}
