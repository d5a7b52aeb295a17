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
	l.shotWindow(t, wiz, "wizard-1-start")
	// Tab to the first choice, Space selects "Start a new link", Alt+N: Next.
	l.key(t, wiz, "Tab", "space")
	l.shotWindow(t, wiz, "wizard-1-start-chosen")
	l.key(t, wiz, "alt+n")
	time.Sleep(time.Second) // the free port arrives
	l.shotWindow(t, wiz, "wizard-2-options")
	l.key(t, wiz, "alt+n")
	l.shotWindow(t, wiz, "wizard-3-check")
	time.Sleep(2 * time.Second) // the NAT check against the lab's STUN servers
	l.shotWindow(t, wiz, "wizard-3-check-done")
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
	if !strings.Contains(show, m.Invite.PublicKey.String()) && !strings.Contains(l.cli(t, "status"), m.Invite.PublicKey.String()) {
		t.Logf("note: public key %s not found in show/status output", m.Invite.PublicKey)
	}
	t.Logf("invite from the screen: %s… (endpoint %s, verdict %q)", tok[:20], m.Invite.Endpoint, m.Invite.NATVerdict)
}
