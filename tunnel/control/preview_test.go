package control_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// previewThenAccept previews req on e, checks that the preview left e's
// state directory byte for byte as it was and ran no NAT check, then
// accepts req for real and returns both results.
func previewThenAccept(t *testing.T, e *Env, req AcceptRequest) (pre, acc *AcceptResult) {
	t.Helper()
	before := e.Snapshot()
	e.Mu.Lock()
	nat := len(e.NATReq)
	e.Mu.Unlock()
	pre, err := e.Svc.PreviewAccept(ctx, req)
	if err != nil {
		t.Fatalf("PreviewAccept: %v", err)
	}
	if d := cmp.Diff(before, e.Snapshot()); d != "" {
		t.Errorf("the preview changed the state dir (-before +after):\n%s", d)
	}
	e.Mu.Lock()
	if len(e.NATReq) != nat {
		t.Errorf("the preview ran a NAT check: %+v", e.NATReq[nat:])
	}
	e.Mu.Unlock()
	if acc, err = e.Svc.Accept(ctx, req); err != nil {
		t.Fatalf("Accept after the preview: %v", err)
	}
	return pre, acc
}

// TestPreviewAcceptMatchesAccept: the preview of an invite and of a reply
// says what the accept that follows says (kind, tunnel, peer, Routes,
// Shared, RouteSummary, warnings; for a reply the safety code too) and
// leaves the state dir byte for byte unchanged. An invite's preview has no
// safety code and no reply: the code covers the reply only Accept makes.
func TestPreviewAcceptMatchesAccept(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	b.NATRep = &natcheck.Report{PublicEndpoint: "203.0.113.9:51999", Mapping: natcheck.MappingEndpointIndependent, Verdict: natcheck.VerdictOK}
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", DisplayName: "alice", Endpoint: "198.51.100.1:51820", Port: 51820, LANs: []string{"10.20.0.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	pre, acc := previewThenAccept(t, b, AcceptRequest{Name: "work", Token: inv.Token, DisplayName: "bob", LANs: []string{"10.30.0.0/24"}})
	if len(b.NATReq) != 1 {
		t.Errorf("the accept ran %d NAT checks, want 1 (so the preview had one to skip)", len(b.NATReq))
	}
	if pre.SafetyCode != "" || pre.Reply != "" || len(pre.ReplyQRPNG) != 0 || pre.NAT != nil {
		t.Errorf("invite preview carries code %q, reply %q, %d QR bytes, NAT %v: want none", pre.SafetyCode, pre.Reply, len(pre.ReplyQRPNG), pre.NAT)
	}
	if !code16.MatchString(acc.SafetyCode) || acc.Reply == "" {
		t.Fatalf("accept: code %q reply %q", acc.SafetyCode, acc.Reply)
	}
	if acc.RouteSummary == "" || !cmp.Equal(acc.Shared, []string{"10.30.0.0/24"}) || len(acc.Routes) != 2 || acc.Routes[1] != "10.20.0.0/24" {
		t.Errorf("accept routes %v shared %v summary %q", acc.Routes, acc.Shared, acc.RouteSummary)
	}
	ignore := cmpopts.IgnoreFields(AcceptResult{}, "SafetyCode", "Reply", "ReplyQRPNG", "NAT", "Notes")
	if d := cmp.Diff(acc, pre, ignore); d != "" {
		t.Errorf("invite preview differs from the accept (-accept +preview):\n%s", d)
	}

	preRep, rep := previewThenAccept(t, a, AcceptRequest{Token: acc.Reply})
	if preRep.SafetyCode != acc.SafetyCode || rep.SafetyCode != acc.SafetyCode {
		t.Errorf("reply preview code %q, accept %q, invitee's %q: want one code", preRep.SafetyCode, rep.SafetyCode, acc.SafetyCode)
	}
	if d := cmp.Diff(rep, preRep, cmpopts.IgnoreFields(AcceptResult{}, "Notes")); d != "" {
		t.Errorf("reply preview differs from the accept (-accept +preview):\n%s", d)
	}
	if preRep.Tunnel != "home" || !cmp.Equal(preRep.Shared, []string{"10.20.0.0/24"}) || preRep.Routes[len(preRep.Routes)-1] != "10.30.0.0/24" {
		t.Errorf("reply preview tunnel %q routes %v shared %v", preRep.Tunnel, preRep.Routes, preRep.Shared)
	}
}

// TestPreviewAcceptRefusesAsAccept: every token Accept refuses (mangled,
// forged, misdirected, asking to route public space, answering a changed
// invite) is refused by the preview with the same error, and neither
// changes a file.
func TestPreviewAcceptRefusesAsAccept(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	_, cases := badAccepts(t, a, b)

	c := NewEnv(t, false)
	inv, err := c.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	public := retoken(t, inv.Token, func(m *invite.Message) { m.Invite.LANs = []netip.Prefix{netip.MustParsePrefix("8.8.8.0/24")} })
	forged := retoken(t, inv.Token, func(m *invite.Message) { m.Invite.Endpoint.Host = "192.0.2.66" })
	d := NewEnv(t, false)
	acc, err := d.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: forged, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases,
		badAccept{"invite routing public space", NewEnv(t, false), AcceptRequest{Name: "pub", Token: public, Endpoint: "203.0.113.9:51998"}, ErrInvalidInput, "public internet address space"},
		badAccept{"reply to a changed invite", c, AcceptRequest{Token: acc.Reply}, invite.ErrInviteChanged, "Nothing was saved"},
		badAccept{"invite without a name", d, AcceptRequest{Token: inv.Token}, ErrInvalidInput, "give the new tunnel a name"},
		badAccept{"empty token", d, AcceptRequest{Name: "x", Token: "  "}, ErrInvalidInput, "no invite or reply given"},
	)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.on.Snapshot()
			_, perr := tt.on.Svc.PreviewAccept(ctx, tt.req)
			if !errors.Is(perr, tt.want) {
				t.Fatalf("PreviewAccept error = %v, want %v", perr, tt.want)
			}
			if d := cmp.Diff(before, tt.on.Snapshot()); d != "" {
				t.Errorf("a refused preview changed the state dir (-before +after):\n%s", d)
			}
			_, aerr := tt.on.Svc.Accept(ctx, tt.req)
			if aerr == nil || perr.Error() != aerr.Error() {
				t.Errorf("PreviewAccept said %q, Accept %v: want the same error", perr, aerr)
			}
			if d := cmp.Diff(before, tt.on.Snapshot()); d != "" {
				t.Errorf("a refused accept changed the state dir (-before +after):\n%s", d)
			}
		})
	}
}
