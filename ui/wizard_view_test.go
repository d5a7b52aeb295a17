package ui

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/ui/internal/fakectl"
)

func newTestWizard(t *testing.T, f *fakectl.Fake) (*App, *wizardView, fyne.Window) {
	t.Helper()
	a := newTestApp(t, f)
	a.connect()
	w := test.NewTempWindow(t, nil)
	v := newWizardView(a, f, w)
	w.SetContent(v.root)
	w.Resize(fyne.NewSize(760, 720))
	t.Cleanup(v.stop)
	return a, v, w
}

func findRadio(o fyne.CanvasObject) *widget.RadioGroup {
	switch x := o.(type) {
	case *widget.RadioGroup:
		return x
	case *fyne.Container:
		for _, c := range x.Objects {
			if r := findRadio(c); r != nil {
				return r
			}
		}
	}
	return nil
}

func TestWizardInviteFlow(t *testing.T) {
	f := fakectl.New()
	_, v, w := newTestWizard(t, f)
	test.AssertRendersToMarkup(t, "wizard_start.xml", w.Canvas())
	if !v.next.Disabled() {
		t.Fatal("Next enabled before a choice")
	}
	findRadio(v.body).SetSelected(choiceInvite)
	v.m.LANs = []LAN{{Prefix: "192.168.1.0/24", Iface: "eth0"}} // not this machine's real interfaces
	test.Tap(v.next)
	if v.m.Step != StepOptions {
		t.Fatalf("step = %v, want options", v.m.Step)
	}
	testutil.Eventually(t, 5*time.Second, "free port filled in", func() bool { return v.m.PortText == "51820" })
	test.AssertRendersToMarkup(t, "wizard_options.xml", w.Canvas())
	v.m.LANs[0].Share = true

	test.Tap(v.next)
	testutil.Eventually(t, 5*time.Second, "NAT check", func() bool { return v.m.NAT != nil })
	if !hasCall(f, "NATCheck 51820") {
		t.Errorf("NAT check not run on the chosen port: %v", f.CallLog())
	}
	test.AssertRendersToMarkup(t, "wizard_check_ok.xml", w.Canvas())

	test.Tap(v.next)
	testutil.Eventually(t, 5*time.Second, "invite", func() bool { return v.m.InviteResult != nil && v.pasteTarget != nil })
	m, err := invite.Decode(v.m.InviteResult.Token)
	if err != nil || m.Invite == nil {
		t.Fatalf("the wizard shows a token that is not an invite: %v", err)
	}
	if len(m.Invite.LANs) != 1 || m.Invite.LANs[0].String() != "192.168.1.0/24" {
		t.Errorf("shared LANs in the invite = %v", m.Invite.LANs)
	}
	if !v.next.Disabled() || v.back.Disabled() == false {
		t.Error("Next must wait for the reply and Back must be off once the tunnel exists")
	}

	// Our own invite pasted back is named as such and not accepted.
	v.pasteTarget.SetText(v.m.InviteResult.Token)
	if !strings.Contains(v.pasteStatus.Text, "your own invite") || !v.useReply.Disabled() {
		t.Errorf("own invite: status %q, button enabled %v", v.pasteStatus.Text, !v.useReply.Disabled())
	}
	// A real reply is accepted and the safety code appears.
	k, _ := wgtypes.GeneratePrivateKey()
	reply, err := (&invite.Reply{InviteID: m.Invite.ID, Name: "Home", PublicKey: k.PublicKey()}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	v.pasteTarget.SetText(reply)
	testutil.Eventually(t, 5*time.Second, "reply previewed", func() bool { return v.m.Preview != nil })
	if v.useReply.Disabled() {
		t.Fatalf("Use this reply disabled for a valid reply: %q", v.pasteStatus.Text)
	}
	// Show before you take: the routing sentence and the safety code are on
	// screen, above the button, before anything is accepted.
	wantCode := invite.SafetyCode(m.Invite.PublicKey, k.PublicKey())
	for _, s := range []string{"Accepting adds Home to tunnel link:", "This link sends ", "192.168.1.0/24", wantCode} {
		if !rendersText(w.Canvas(), s) {
			t.Errorf("before accepting the reply, %q is not shown", s)
		}
	}
	if accepted(f) {
		t.Fatalf("the reply was accepted before the click: %v", f.CallLog())
	}
	test.Tap(v.useReply)
	testutil.Eventually(t, 5*time.Second, "reply accepted", func() bool { return v.m.AcceptResult != nil })
	if v.m.AcceptResult.SafetyCode != wantCode {
		t.Errorf("safety code = %q, want %q", v.m.AcceptResult.SafetyCode, wantCode)
	}
	if !rendersText(w.Canvas(), wantCode) {
		t.Error("safety code not shown")
	}

	f.HandshakeAfter = 0
	v.page.Offset = fyne.NewPos(0, 300) // scrolled down to the button, as on a small screen
	test.Tap(v.next)
	testutil.Eventually(t, 5*time.Second, "Up", func() bool { return hasCall(f, "Up link") })
	if v.page.Offset.Y != 0 {
		t.Errorf("the connect page starts %v pixels down, above the view; want its top", v.page.Offset.Y)
	}
	r, _ := f.Status(t.Context(), "")
	v.onReport(r)
	if !v.connected || !strings.Contains(v.waitText.Text, "Connected to Home") {
		t.Errorf("connect page: %q", v.waitText.Text)
	}
}

func TestWizardAnswerFlow(t *testing.T) {
	f := fakectl.New()
	f.NAT = &natcheck.Report{Verdict: natcheck.VerdictFail, Mapping: natcheck.MappingEndpointDependent, PublicEndpoint: "198.51.100.9:40123"}
	_, v, w := newTestWizard(t, f)
	inv, invTok, replyTok, _ := testTokens(t)
	findRadio(v.body).SetSelected(choiceAnswer)
	test.Tap(v.next)
	if v.m.Step != StepReceive {
		t.Fatalf("step = %v", v.m.Step)
	}
	v.pasteTarget.SetText(replyTok)
	w.Resize(fyne.NewSize(760, 720))
	test.AssertRendersToMarkup(t, "wizard_receive_reply_pasted.xml", w.Canvas())
	if !v.next.Disabled() {
		t.Fatal("Next enabled with a reply in the invite box")
	}
	v.pasteTarget.SetText(invTok[:len(invTok)-7])
	if !strings.HasPrefix(v.pasteStatus.Text, "Problem: The invite") || !strings.Contains(v.pasteStatus.Text, "cut off") {
		t.Errorf("truncated: %q", v.pasteStatus.Text)
	}
	v.pasteTarget.SetText(invTok)
	if v.next.Disabled() {
		t.Fatalf("Next disabled with a valid invite: %q", v.hint.Text)
	}
	test.Tap(v.next)
	v.m.LANs = []LAN{}
	testutil.Eventually(t, 5*time.Second, "free port", func() bool { return v.m.PortText != "" })
	test.Tap(v.next)
	testutil.Eventually(t, 5*time.Second, "NAT check", func() bool { return v.m.NAT != nil })
	test.AssertRendersToMarkup(t, "wizard_check_fail.xml", w.Canvas())
	test.Tap(v.next)
	// Show before you take: the share page first says what the link
	// routes, with the Accept button below; nothing is saved until it is
	// pressed.
	testutil.Eventually(t, 5*time.Second, "invite previewed", func() bool { return v.m.Preview != nil })
	for _, s := range []string{"Accepting creates tunnel Office-PC, linked to Office PC:", "This link sends 10.77.12.0/24", "The safety code comes with the reply"} {
		if !rendersText(w.Canvas(), s) {
			t.Errorf("before accepting the invite, %q is not shown", s)
		}
	}
	if accepted(f) || !hasCall(f, "PreviewAccept Office-PC") {
		t.Fatalf("calls before the click: %v, want a preview and no accept", f.CallLog())
	}
	acc := findButton(v.body, AcceptInviteLabel)
	if acc == nil || acc.Disabled() || !v.next.Disabled() {
		t.Fatalf("Accept button %v, Next enabled %v", acc, !v.next.Disabled())
	}
	test.Tap(acc)
	testutil.Eventually(t, 5*time.Second, "reply made", func() bool { return v.m.AcceptResult != nil })
	m, err := invite.Decode(v.m.AcceptResult.Reply)
	if err != nil || m.Reply == nil || m.Reply.InviteID != inv.ID {
		t.Fatalf("reply shown is not a reply to the invite: %v %+v", err, m)
	}
	if v.next.Disabled() {
		t.Error("Next disabled after the reply was made")
	}
	// The share page says what the link routes, as the CLI does.
	if sum := v.m.AcceptResult.RouteSummary; !strings.HasPrefix(sum, "This link sends ") || !rendersText(w.Canvas(), "This link sends ") {
		t.Errorf("share page does not show what the link routes (summary %q)", sum)
	}
}

// accepted reports whether the fake saw an Accept call.
func accepted(f *fakectl.Fake) bool {
	for _, c := range f.CallLog() {
		if strings.HasPrefix(c, "Accept ") {
			return true
		}
	}
	return false
}

// rendersText reports whether any text on the canvas contains s.
func rendersText(c fyne.Canvas, s string) bool {
	return strings.Contains(test.RenderToMarkup(c), s)
}

func TestWizardDropQRImage(t *testing.T) {
	f := fakectl.New()
	_, v, _ := newTestWizard(t, f)
	_, invTok, _, _ := testTokens(t)
	findRadio(v.body).SetSelected(choiceAnswer)
	test.Tap(v.next)
	png, err := invite.QRPNG(invTok, 400)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	qr := filepath.Join(dir, "screenshot.png")
	if err := os.WriteFile(qr, png, 0o600); err != nil {
		t.Fatal(err)
	}
	v.dropped([]fyne.URI{storage.NewFileURI(qr)})
	if v.pasteTarget.Text != invTok || !v.m.Invite.OK {
		t.Fatalf("dropped QR picture: box %q, status %q", v.pasteTarget.Text, v.pasteStatus.Text)
	}
	// A picture without a QR code says so and keeps what was there.
	blank := filepath.Join(dir, "blank.png")
	if err := os.WriteFile(blank, whitePNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	v.dropped([]fyne.URI{storage.NewFileURI(blank)})
	if v.pasteTarget.Text != invTok || !strings.Contains(v.pasteStatus.Text, "no QR code could be read from blank.png") {
		t.Errorf("blank picture: box %q, status %q", v.pasteTarget.Text, v.pasteStatus.Text)
	}
}

func whitePNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
