package xvfbtest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// TestWizardShowsInviteQR drives the real window with the keyboard to the
// invite page, screenshots it and decodes the QR code from the pixels.
func TestWizardShowsInviteQR(t *testing.T) {
	needTools(t, "zbarimg")
	l := newLab(t)
	l.app(t)
	main := l.window(t, "WG Punch", 60*time.Second)
	l.shotWindow(t, main, "main-empty")

	// Ctrl+N opens the wizard ("Link another computer…").
	l.key(t, main, "ctrl+n")
	wiz := l.window(t, "Link another computer", 10*time.Second)
	// Tab to the first choice, Space selects "Start a new link", Alt+N: Next.
	l.key(t, wiz, "Tab", "space")
	l.shotWindow(t, wiz, "wizard-1-start")
	l.key(t, wiz, "alt+n")
	l.settle(t, wiz, settleLimit) // the free port arrives
	l.shotWindow(t, wiz, "wizard-2-options")
	l.key(t, wiz, "alt+n")
	l.settle(t, wiz, 30*time.Second) // the NAT check against the lab's STUN servers
	l.shotWindow(t, wiz, "wizard-3-check")
	l.key(t, wiz, "alt+n")

	var tok string
	l.waitFor(t, "a QR code in the screenshot", 30*time.Second, func() bool {
		p := l.shot(t, "screen-share-invite") // the whole screen, as a user would photograph it
		out, err := exec.CommandContext(context.Background(), "zbarimg", "--quiet", "--raw", p).Output()
		if err != nil {
			return false
		}
		tok = strings.TrimSpace(string(out))
		return tok != ""
	})
	l.shotWindow(t, wiz, "wizard-4-share-invite")
	m, err := invite.Decode(tok)
	if err != nil {
		t.Fatalf("QR from the screen does not decode as an invite: %v\n%q", err, tok)
	}
	if m.Invite == nil {
		t.Fatalf("QR holds a reply, not an invite: %q", tok)
	}
	// The invite on screen is the one the state dir holds a pending invite for.
	show := l.cli(t, "show", "link")
	if !strings.Contains(show, m.Invite.ID) {
		t.Errorf("the tunnel's config does not mention the invite ID %s shown on screen:\n%s", m.Invite.ID, show)
	}
	// show redacts the private key, so the public key is status's to tell.
	if status := l.cli(t, "status"); !strings.Contains(status, "public key "+m.Invite.PublicKey.String()) {
		t.Errorf("the invite on screen carries public key %s, which the tunnel's status does not show:\n%s", m.Invite.PublicKey, status)
	}
	t.Logf("invite from the screen: %s… (endpoint %s, verdict %q)", tok[:20], m.Invite.Endpoint, m.Invite.NATVerdict)
}

// TestWizardLinksEndToEnd links the GUI's machine A with a second machine B
// (the CLI in another namespace): the wizard shows an invite, B accepts the
// invite read from the screenshot's QR code, the reply is typed into the
// wizard, and the wizard connects and reports the first handshake.
func TestWizardLinksEndToEnd(t *testing.T) {
	needTools(t, "zbarimg")
	l := newLab(t)
	a, b := l.pair(t)
	// STUN servers on B's side of the link: A's "public" address is the one
	// B sees, 10.99.0.1.
	l.stun(t, b.ns, b.addr)
	l.app(t)
	main := l.window(t, "WG Punch", 60*time.Second)
	l.key(t, main, "ctrl+n")
	wiz := l.window(t, "Link another computer", 10*time.Second)
	l.key(t, wiz, "Tab", "space", "alt+n")
	l.settle(t, wiz, settleLimit) // the free port arrives
	l.key(t, wiz, "alt+n")
	l.settle(t, wiz, 30*time.Second) // the NAT check (the Invite step waits for it anyway)
	l.shot(t, "e2e-check")
	l.key(t, wiz, "alt+n")

	var tok string
	l.waitFor(t, "a QR code on screen", 30*time.Second, func() bool {
		p := l.shot(t, "e2e-screen-invite")
		out, err := exec.Command("zbarimg", "--quiet", "--raw", p).Output()
		tok = strings.TrimSpace(string(out))
		return err == nil && tok != ""
	})
	m, err := invite.Decode(tok)
	if err != nil || m.Invite == nil {
		t.Fatalf("QR on screen is not an invite: %v", err)
	}
	if got := m.Invite.Endpoint.String(); got != "10.99.0.1:51820" {
		t.Errorf("invite endpoint = %s, want 10.99.0.1:51820 (as B's STUN servers saw A)", got)
	}
	reply := b.cli(t, "accept", "link-b", tok, "--port", "51820", "--endpoint", "10.99.0.2:51820", "--name", "Home")
	b.cli(t, "up", "link-b")

	// The reply box has the focus; type the reply. The wizard previews it
	// (what the link routes, the safety code) and moves the focus to "Use
	// this reply" below the preview; Space presses it.
	l.ns_(t, "xdotool", "windowfocus", "--sync", wiz)
	l.ns_(t, "xdotool", "type", "--delay", "4", reply)
	l.settle(t, wiz, settleLimit) // the reply is checked as it is typed, then previewed
	l.shotWindow(t, wiz, "wizard-4-share-reply-pasted")
	// Show before you take: the preview is on screen and nothing is
	// accepted until the click.
	if p := a.tunnel(t, "link").Peers; len(p) != 0 {
		t.Fatalf("the reply was accepted before Use this reply was pressed: peers %+v", p)
	}
	l.key(t, wiz, "space")
	l.waitFor(t, "the peer on A", 20*time.Second, func() bool { return len(a.tunnel(t, "link").Peers) == 1 })
	l.shotWindow(t, wiz, "wizard-4-share-safety-code")
	l.key(t, wiz, "alt+n")
	l.waitFor(t, "a handshake on A", 40*time.Second, func() bool {
		p := a.tunnel(t, "link").Peers
		return len(p) == 1 && p[0].LastHandshake != nil && p[0].State == "connected"
	})
	// The wizard follows Watch about once a second: wait for it to redraw
	// (no redraw within 2 s: it had already shown the handshake).
	l.changed(t, wiz, l.frame(t, wiz), 2*time.Second)
	l.shotWindow(t, wiz, "wizard-5-connected")
	// B's safety code must be the one A's status has for the peer.
	bPeer := b.tunnel(t, "link-b").Peers[0]
	aPeer := a.tunnel(t, "link").Peers[0]
	if aPeer.SafetyCode == "" || aPeer.SafetyCode != bPeer.SafetyCode {
		t.Errorf("safety codes differ: A %q, B %q", aPeer.SafetyCode, bPeer.SafetyCode)
	}
}
