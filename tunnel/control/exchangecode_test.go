package control_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

var code16 = regexp.MustCompile(`^\d{4} \d{4} \d{4} \d{4}$`)

// peerCode is the safety code status shows for the only peer of tunnel name.
func peerCode(t *testing.T, e *Env, name string) (string, bool) {
	t.Helper()
	st, err := e.Svc.Status(ctx, name)
	if err != nil || len(st.Tunnels) != 1 || len(st.Tunnels[0].Peers) != 1 {
		t.Fatalf("Status(%s) = %+v, %v", name, st, err)
	}
	p := st.Tunnels[0].Peers[0]
	return p.SafetyCode, p.SafetyCodeKeysOnly
}

// retoken decodes a token, lets edit change it and encodes it again, as
// someone on the way would.
func retoken(t *testing.T, tok string, edit func(*invite.Message)) string {
	t.Helper()
	m, err := invite.Decode(tok)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	var out string
	if m.Invite != nil {
		out, err = m.Invite.Encode()
	} else {
		out, err = m.Reply.Encode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExchangeCodeBothSides(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	_, acc, rep := exchange(t, a, b)
	if !code16.MatchString(acc.SafetyCode) || acc.SafetyCode != rep.SafetyCode || acc.SafetyCodeKeysOnly || rep.SafetyCodeKeysOnly {
		t.Fatalf("codes %q (invitee) and %q (inviter), want the same 16-digit code", acc.SafetyCode, rep.SafetyCode)
	}
	for _, side := range []struct {
		e    *Env
		name string
	}{{a, "home"}, {b, "work"}} {
		cfg := side.e.Load(side.name)
		if cfg.Peers[0].Meta.SafetyCode != acc.SafetyCode {
			t.Errorf("%s: stored code %q, want %q", side.name, cfg.Peers[0].Meta.SafetyCode, acc.SafetyCode)
		}
		if len(cfg.Interface.Meta.SentInvites) != 0 {
			t.Errorf("%s: sent invites %q kept after the reply", side.name, cfg.Interface.Meta.SentInvites)
		}
		if c, keysOnly := peerCode(t, side.e, side.name); c != acc.SafetyCode || keysOnly {
			t.Errorf("%s: status code %q (keys only %v), want %q", side.name, c, keysOnly, acc.SafetyCode)
		}
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "older WG Punch") {
			t.Errorf("note %q on a link between two current versions", n)
		}
	}
}

func TestExchangeCodeReissuedInvite(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	first, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	// Reissued (same ID) with another endpoint; the reply answers the first copy.
	if _, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.2:51820"}); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Load("home").Interface.Meta.SentInvites); n != 2 {
		t.Fatalf("%d sent invites kept, want 2", n)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: first.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Svc.Accept(ctx, AcceptRequest{Token: acc.Reply})
	if err != nil {
		t.Fatal(err)
	}
	if !code16.MatchString(rep.SafetyCode) || rep.SafetyCode != acc.SafetyCode {
		t.Errorf("codes %q and %q, want the same 16-digit code", acc.SafetyCode, rep.SafetyCode)
	}
}

func TestExchangeCodeTamperedReply(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	forged := retoken(t, acc.Reply, func(m *invite.Message) { m.Reply.Endpoint.Host = "192.0.2.66" })
	rep, err := a.Svc.Accept(ctx, AcceptRequest{Token: forged})
	if err != nil {
		t.Fatal(err)
	}
	if !code16.MatchString(rep.SafetyCode) || rep.SafetyCode == acc.SafetyCode {
		t.Errorf("inviter's code %q for a changed reply, invitee's %q: want two different 16-digit codes", rep.SafetyCode, acc.SafetyCode)
	}
}

func TestExchangeCodeTamperedInviteRefused(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	forged := retoken(t, inv.Token, func(m *invite.Message) { m.Invite.Endpoint.Host = "192.0.2.66" })
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: forged, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	before := a.Snapshot()
	_, err = a.Svc.Accept(ctx, AcceptRequest{Token: acc.Reply})
	if !errors.Is(err, invite.ErrInviteChanged) || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "Nothing was saved") {
		t.Fatalf("Accept(reply to a changed invite) = %v, want ErrInviteChanged (ErrInvalidInput)", err)
	}
	if diff := cmp.Diff(before, a.Snapshot()); diff != "" {
		t.Errorf("state changed on refusal (-before +after):\n%s", diff)
	}
	if got := a.Load("home").Interface.Meta.PendingInviteID; got == "" {
		t.Error("the invite no longer waits for a reply")
	}
}

func TestExchangeCodeOldReply(t *testing.T) {
	a, b := NewEnv(t, false), NewEnv(t, false)
	inv, err := a.Svc.Invite(ctx, InviteRequest{Name: "home", Endpoint: "198.51.100.1:51820"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := b.Svc.Accept(ctx, AcceptRequest{Name: "work", Token: inv.Token, Endpoint: "203.0.113.9:51999"})
	if err != nil {
		t.Fatal(err)
	}
	// An older invitee sends no digest.
	old := retoken(t, acc.Reply, func(m *invite.Message) { m.Reply.InviteDigest = [invite.DigestLen]byte{} })
	rep, err := a.Svc.Accept(ctx, AcceptRequest{Token: old})
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := a.Load("home"), b.Load("work")
	want := invite.SafetyCode(ca.Interface.PrivateKey.PublicKey(), cb.Interface.PrivateKey.PublicKey())
	if rep.SafetyCode != want || !rep.SafetyCodeKeysOnly {
		t.Errorf("code %q (keys only %v), want the key-only %q", rep.SafetyCode, rep.SafetyCodeKeysOnly, want)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "update WG Punch on both computers") {
		t.Errorf("notes %q, want one to update both sides", rep.Notes)
	}
	if ca.Peers[0].Meta.SafetyCode != "" {
		t.Errorf("key-only code stored: %q", ca.Peers[0].Meta.SafetyCode)
	}
	if c, keysOnly := peerCode(t, a, "home"); c != want || !keysOnly {
		t.Errorf("status code %q (keys only %v), want %q marked keys only", c, keysOnly, want)
	}
}
