package ui

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// ConnectTimeout is how long the wizard waits for the first handshake
// before it lists what to check.
const ConnectTimeout = 60 * time.Second

// wizardView renders a Wizard and runs its controller calls.
type wizardView struct {
	app *App
	ctl control.Controller
	win fyne.Window
	m   Wizard

	title *widget.Label
	body  *fyne.Container
	back  *widget.Button
	next  *widget.Button
	close *widget.Button
	hint  *widget.Label
	root  fyne.CanvasObject
	page  *container.Scroll // the page's scroller

	// live parts of the current page
	pasteStatus *widget.Label
	pasteIcon   *widget.Icon
	portEntry   *widget.Entry
	pasteTarget *widget.Entry

	rendering bool
	shown     Step // the step render last showed, to start a new one at its top
	useReply  *widget.Button
	review    *fyne.Container // invite side: the pasted reply's preview
	focusNext fyne.Focusable  // focused once the page is on screen

	// connect page
	upStarted time.Time
	connected bool
	waitText  *widget.Label
	waitIcon  *fyne.Container
	tips      *widget.Label
	ticker    *time.Ticker
}

// ShowWizard opens the link wizard in its own window.
func (a *App) ShowWizard() {
	if a.wizard != nil {
		a.wizard.win.Show()
		a.wizard.win.RequestFocus()
		return
	}
	ctl := a.Controller()
	if ctl == nil {
		a.show()
		return
	}
	w := a.fyne.NewWindow("Link another computer")
	v := newWizardView(a, ctl, w)
	w.SetContent(v.root)
	w.Resize(fyne.NewSize(760, 720))
	w.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { v.dropped(uris) })
	w.SetOnClosed(func() { v.stop(); a.wizard = nil })
	// Alt+N / Alt+B press Next / Back, so the wizard works from the keyboard.
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierAlt}, func(fyne.Shortcut) { v.press(v.next) })
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyB, Modifier: fyne.KeyModifierAlt}, func(fyne.Shortcut) { v.press(v.back) })
	a.wizard = v
	w.Show()
}

func newWizardView(a *App, ctl control.Controller, w fyne.Window) *wizardView {
	v := &wizardView{app: a, ctl: ctl, win: w}
	if names, err := ctl.List(context.Background()); err == nil {
		v.m.Existing = names
	}
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.body = container.NewStack()
	v.hint = widget.NewLabel("")
	v.hint.Wrapping = fyne.TextWrapWord
	v.back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), func() { v.m.Back(); v.render() })
	v.next = widget.NewButtonWithIcon("Next", theme.NavigateNextIcon(), func() {
		if v.m.Next() {
			v.render()
		}
	})
	v.next.IconPlacement = widget.ButtonIconTrailingText
	v.next.Importance = widget.HighImportance
	v.close = widget.NewButton("Close", func() { v.win.Close() })
	buttons := container.NewBorder(nil, nil, v.back, container.NewHBox(v.close, v.next))
	v.page = container.NewVScroll(container.NewPadded(v.body))
	v.root = container.NewBorder(v.title, container.NewVBox(widget.NewSeparator(), v.hint, buttons), nil, nil, v.page)
	v.render()
	return v
}

// focus moves the keyboard focus (no-op off screen, e.g. in tests).
func (v *wizardView) focus(o fyne.Focusable) {
	if c := v.win.Canvas(); c != nil {
		c.Focus(o)
	}
}

// press taps b if it is shown and enabled.
func (v *wizardView) press(b *widget.Button) {
	if b.Visible() && !b.Disabled() && b.OnTapped != nil {
		b.OnTapped()
	}
}

func (v *wizardView) stop() {
	if v.ticker != nil {
		v.ticker.Stop()
		v.ticker = nil
	}
}

// render shows the current step's page.
func (v *wizardView) render() {
	if v.rendering {
		return // a synchronous controller call finished inside a page builder
	}
	v.rendering = true
	defer func() { v.rendering = false }()
	steps := Steps(v.m.Mode)
	n := v.m.index() + 1
	total := len(steps)
	if v.m.Mode == ModeNone {
		total = 5
	}
	v.title.SetText(fmt.Sprintf("Step %d of %d: %s", n, total, v.m.Step))
	var page fyne.CanvasObject
	switch v.m.Step {
	case StepStart:
		page = v.startPage()
	case StepReceive:
		page = v.receivePage()
	case StepOptions:
		page = v.optionsPage()
	case StepCheck:
		page = v.checkPage()
	case StepShare:
		page = v.sharePage()
	case StepConnect:
		page = v.connectPage()
	}
	if v.m.Step != StepShare {
		v.useReply, v.review = nil, nil
	}
	v.body.Objects = []fyne.CanvasObject{page}
	v.body.Refresh()
	if v.m.Step != v.shown {
		// A new step starts at its top: the scroll offset of a long page
		// (the share step, scrolled down to "Use this reply") left the
		// short connect page above the view, and the window looked blank.
		v.shown = v.m.Step
		v.page.ScrollToTop()
	}
	v.updateButtons()
	if v.pasteTarget != nil && v.pasteTarget.Text == "" {
		v.focus(v.pasteTarget) // ready for Ctrl+V
	}
	if v.focusNext != nil {
		v.focus(v.focusNext)
		v.focusNext = nil
	}
}

func (v *wizardView) updateButtons() {
	ok, why := v.m.CanNext()
	if ok {
		v.next.Enable()
	} else {
		v.next.Disable()
	}
	if v.m.CanBack() {
		v.back.Enable()
	} else {
		v.back.Disable()
	}
	if v.m.Step == StepConnect {
		v.next.Hide()
		v.close.SetText("Finish")
	} else {
		v.next.Show()
		v.close.SetText("Cancel")
	}
	setText(v.hint, why)
	if v.useReply != nil {
		if v.m.Reply.OK && v.m.Preview != nil && !v.m.Working && v.m.AcceptResult == nil {
			v.useReply.Enable()
		} else {
			v.useReply.Disable()
		}
	}
}

func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// --- Start -----------------------------------------------------------------

const (
	choiceInvite = "Start a new link: make an invite for the other computer"
	choiceAnswer = "Answer an invite: paste or scan what the other computer shows"
)

func (v *wizardView) startPage() fyne.CanvasObject {
	radio := widget.NewRadioGroup([]string{choiceInvite, choiceAnswer}, func(s string) {
		switch s {
		case choiceInvite:
			v.m.Choose(ModeInvite)
		case choiceAnswer:
			v.m.Choose(ModeAnswer)
		default:
			v.m.Choose(ModeNone)
		}
		v.updateButtons()
	})
	switch v.m.Mode {
	case ModeInvite:
		radio.Selected = choiceInvite
	case ModeAnswer:
		radio.Selected = choiceAnswer
	}
	return container.NewVBox(
		wrapLabel("WG Punch links two computers directly, each behind its own router, with no server in between. "+
			"One computer makes an invite; the other answers it with a reply. Both need WG Punch."),
		radio)
}

// --- Receive (answer side) -------------------------------------------------

func (v *wizardView) pasteBox(placeholder, text string, lead ...fyne.CanvasObject) (*widget.Entry, fyne.CanvasObject) {
	e := widget.NewMultiLineEntry()
	e.SetPlaceHolder(placeholder)
	e.Wrapping = fyne.TextWrapBreak
	e.SetMinRowsVisible(3)
	e.SetText(text)
	v.pasteStatus = wrapLabel("")
	v.pasteIcon = widget.NewIcon(nil)
	open := widget.NewButtonWithIcon("Open image…", theme.FileImageIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			v.readQR(r.URI(), e)
		}, v.win)
		d.SetFilter(storage.NewExtensionFileFilter(qrImageExts))
		d.Show()
	})
	status := container.NewBorder(nil, nil, v.pasteIcon, nil, v.pasteStatus)
	row := append(lead, open, widget.NewLabel("or drop a picture or screenshot of the QR code on this window"))
	return e, container.NewVBox(e, status, container.NewHBox(row...))
}

// showCheck shows a paste box's verdict.
func (v *wizardView) showCheck(c TokenCheck) {
	switch {
	case c.OK:
		v.pasteIcon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		v.pasteStatus.Importance = widget.SuccessImportance
		v.pasteStatus.SetText("OK: " + c.Summary)
	case c.Problem != "":
		v.pasteIcon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		v.pasteStatus.Importance = widget.DangerImportance
		v.pasteStatus.SetText("Problem: " + c.Problem)
	default:
		v.pasteIcon.SetResource(nil)
		v.pasteStatus.SetText("")
	}
}

// readQR decodes a QR code from an image file into the paste box.
func (v *wizardView) readQR(u fyne.URI, e *widget.Entry) {
	path := u.Path()
	v.app.spawn(func() {
		tok, err := invite.DecodeQRFile(path)
		fyne.Do(func() {
			if err != nil {
				v.pasteIcon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
				v.pasteStatus.Importance = widget.DangerImportance
				v.pasteStatus.SetText(fmt.Sprintf("Problem: no QR code could be read from %s (%v). Try a sharper picture, or paste the text instead.", u.Name(), err))
				return
			}
			e.SetText(tok)
		})
	})
}

// dropped handles files dropped on the wizard window.
func (v *wizardView) dropped(uris []fyne.URI) {
	if v.pasteTarget == nil || len(uris) == 0 {
		return
	}
	u := uris[0]
	if u.Scheme() != "file" {
		return
	}
	if st, err := os.Stat(u.Path()); err == nil && st.Size() < 4096 && !isImageName(u.Name()) {
		if b, err := os.ReadFile(u.Path()); err == nil {
			v.pasteTarget.SetText(strings.TrimSpace(string(b)))
			return
		}
	}
	v.readQR(u, v.pasteTarget)
}

// qrImageExts are the picture files offered for a QR code: the formats
// invite.DecodeQRFile reads (BMP is not one of them).
var qrImageExts = []string{".png", ".jpg", ".jpeg", ".gif"}

func isImageName(n string) bool {
	n = strings.ToLower(n)
	for _, ext := range qrImageExts {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

func (v *wizardView) receivePage() fyne.CanvasObject {
	e, box := v.pasteBox("Paste the invite here (one line starting with WGP1I-)", v.m.InviteText)
	e.OnChanged = func(s string) {
		v.m.SetInviteText(s)
		v.showCheck(v.m.Invite)
		v.updateButtons()
	}
	v.pasteTarget = e
	v.showCheck(v.m.Invite)
	return container.NewVBox(wrapLabel("Paste the invite the other computer shows, or read its QR code from a picture."), box)
}

// --- Options ---------------------------------------------------------------

func (v *wizardView) optionsPage() fyne.CanvasObject {
	v.pasteTarget = nil
	if v.m.Name == "" {
		v.m.Name = SuggestName("link", v.m.Existing)
	}
	name := widget.NewEntry()
	name.SetText(v.m.Name)
	name.OnChanged = func(s string) { v.m.Name = s; v.updateButtons() }
	v.portEntry = widget.NewEntry()
	v.portEntry.SetText(v.m.PortText)
	v.portEntry.OnChanged = func(s string) { v.m.PortText = s; v.updateButtons() }
	if v.m.PortText == "" {
		v.portEntry.SetPlaceHolder("finding a free port…")
		v.app.spawn(func() {
			p, err := v.ctl.FreePort(context.Background())
			fyne.Do(func() {
				if err == nil && v.m.PortText == "" {
					v.portEntry.SetText(fmt.Sprint(p))
				}
			})
		})
	}
	if v.m.LANs == nil {
		v.m.LANs = localLANs(v.ctl)
	}
	lans := container.NewVBox()
	for i := range v.m.LANs {
		i := i
		l := v.m.LANs[i]
		c := widget.NewCheck(fmt.Sprintf("%s (%s)", l.Prefix, l.Iface), func(on bool) { v.m.LANs[i].Share = on })
		c.Checked = l.Share
		lans.Add(c)
	}
	if len(v.m.LANs) == 0 {
		lans.Add(widget.NewLabel("No local network found to share."))
	}
	form := widget.NewForm(
		widget.NewFormItem("Name of this link", name),
		widget.NewFormItem("Listen port (UDP)", v.portEntry),
	)
	if v.m.Mode == ModeInvite {
		subnet := widget.NewEntry()
		subnet.SetPlaceHolder("automatic (a free 10.x.y.0/24)")
		subnet.SetText(v.m.SubnetText)
		subnet.OnChanged = func(s string) { v.m.SubnetText = s; v.updateButtons() }
		form.Append("Tunnel subnet (optional)", subnet)
	}
	public := widget.NewCheck(PublicRoutesLabel, func(on bool) { v.m.AllowPublicRoutes = on })
	public.Checked = v.m.AllowPublicRoutes
	return container.NewVBox(form,
		wrapLabel("Each computer behind the same router needs its own port; WG Punch picked one that is free here."),
		widget.NewLabelWithStyle("Share this computer's local networks with the other side (optional):", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		lans,
		public,
		wrapLabel(PublicRoutesWarning))
}

// --- Check -----------------------------------------------------------------

func (v *wizardView) checkPage() fyne.CanvasObject {
	box := container.NewVBox()
	again := widget.NewButtonWithIcon("Check again", theme.ViewRefreshIcon(), func() {
		v.m.NAT, v.m.NATErr = nil, nil
		v.render()
	})
	switch {
	case v.m.Checking || (v.m.NAT == nil && v.m.NATErr == nil):
		bar := widget.NewProgressBarInfinite()
		box.Add(wrapLabel(fmt.Sprintf("Asking STUN servers how this network looks from outside (port %d)…", v.m.Port())))
		box.Add(bar)
		if !v.m.Checking {
			v.runCheck()
			if !v.m.Checking { // finished synchronously
				return v.checkPage()
			}
		}
	case v.m.NATErr != nil:
		box.Add(verdictBox(ToneRed, "The check did not finish", v.m.NATErr.Error()+"\nYou can still go on, but the link may not work."))
		box.Add(container.NewHBox(again))
	default:
		tone, head, msg := VerdictWords(v.m.NAT)
		box.Add(verdictBox(tone, head, msg))
		// Both halves: a network whose IPv4 cannot be punched may still
		// link directly over IPv6.
		details := FamilyLines(v.m.NAT)
		if v.m.NAT.CGNAT {
			details += "\nProvider uses carrier-grade NAT (CGNAT): yes"
		}
		box.Add(wrapLabel(details))
		box.Add(container.NewHBox(again))
	}
	return box
}

// verdictBox is a coloured box with an icon and words, readable without colour.
func verdictBox(tone Tone, head, msg string) fyne.CanvasObject {
	var icon fyne.Resource
	switch tone {
	case ToneGreen:
		icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case ToneAmber:
		icon = theme.NewWarningThemedResource(theme.WarningIcon())
	default:
		icon = theme.NewErrorThemedResource(theme.ErrorIcon())
	}
	bg := canvas.NewRectangle(toneBackground(tone))
	bg.CornerRadius = 6
	h := widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ic := widget.NewIcon(icon)
	big := container.NewGridWrap(fyne.NewSize(40, 40), ic)
	return container.NewStack(bg, container.NewBorder(nil, nil, container.NewCenter(big), nil, container.NewVBox(h, wrapLabel(msg))))
}

func (v *wizardView) runCheck() {
	v.m.Checking = true
	port := v.m.Port()
	v.app.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r, err := v.ctl.NATCheck(ctx, control.NATCheckRequest{Port: port})
		fyne.Do(func() {
			v.m.Checking = false
			v.m.NAT, v.m.NATErr = r, err
			if v.m.Step == StepCheck {
				v.render()
			}
		})
	})
}

// --- Share -----------------------------------------------------------------

func (v *wizardView) sharePage() fyne.CanvasObject {
	v.pasteTarget = nil
	box := container.NewVBox()
	if v.m.ShareErr != nil {
		box.Add(verdictBox(ToneRed, "That did not work", v.m.ShareErr.Error()))
		box.Add(container.NewHBox(widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), func() {
			v.m.ShareErr = nil
			v.render()
		})))
		return box
	}
	if v.m.Working {
		box.Add(widget.NewLabel("Creating the tunnel…"))
		box.Add(widget.NewProgressBarInfinite())
		return box
	}
	switch v.m.Mode {
	case ModeInvite:
		if v.m.InviteResult == nil {
			v.startShare()
			return v.sharePage()
		}
		r := v.m.InviteResult
		box.Add(wrapLabel("Give this invite to the other computer: let it scan the QR code, or send the text (chat, e-mail). It holds no secret key."))
		box.Add(v.tokenBlock("invite", r.Token, r.QRPNG))
		for _, n := range r.Notes {
			box.Add(wrapLabel("Note: " + n))
		}
		box.Add(widget.NewSeparator())
		if v.m.AcceptResult == nil {
			box.Add(widget.NewLabelWithStyle("Then paste the reply the other computer makes:", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			use := widget.NewButtonWithIcon("Use this reply", theme.ConfirmIcon(), v.acceptReply)
			use.Importance = widget.HighImportance
			v.useReply = use
			v.review = container.NewVBox()
			e, pb := v.pasteBox("Paste the reply here (one line starting with WGP1R-)", v.m.ReplyText)
			e.OnChanged = func(s string) {
				v.m.SetReplyText(s)
				v.showCheck(v.m.Reply)
				v.showReview()
				v.updateButtons()
				if v.m.Reply.OK && v.m.Preview == nil {
					v.previewReply() // shows what the link routes; then Space takes it
				}
			}
			v.pasteTarget = e
			v.showCheck(v.m.Reply)
			v.showReview()
			box.Add(pb)
			// Show before you take: what the reply routes and its safety
			// code, then the button that accepts it.
			box.Add(v.review)
			box.Add(container.NewHBox(use))
			if v.m.Reply.OK && v.m.Preview == nil && !v.m.Previewing {
				v.previewReply()
			}
		} else {
			v.addRouteSummary(box, v.m.AcceptResult)
			box.Add(v.safetyBlock(v.m.AcceptResult))
		}
	case ModeAnswer:
		if v.m.AcceptResult == nil {
			if v.m.Preview == nil {
				if !v.m.Previewing {
					v.previewInvite()
					if !v.m.Previewing { // finished synchronously
						return v.sharePage()
					}
				}
				box.Add(widget.NewLabel("Checking what this link will route…"))
				box.Add(widget.NewProgressBarInfinite())
				return box
			}
			// Show before you take: nothing is saved until the click.
			box.Add(v.reviewBlock(v.m.Preview))
			acc := widget.NewButtonWithIcon(AcceptInviteLabel, theme.ConfirmIcon(), func() {
				v.startShare()
				v.render()
			})
			acc.Importance = widget.HighImportance
			box.Add(container.NewHBox(acc))
			v.focusNext = acc // Space accepts, after reading
			return box
		}
		r := v.m.AcceptResult
		box.Add(wrapLabel(fmt.Sprintf("Send this reply back to %s: let it scan the QR code, or send the text. It holds no secret key.", nameOr(r.PeerName))))
		box.Add(v.tokenBlock("reply", r.Reply, r.ReplyQRPNG))
		v.addRouteSummary(box, r)
		box.Add(v.safetyBlock(r))
	}
	return box
}

// PublicRoutesLabel and PublicRoutesWarning are the options page's opt-in
// to route public internet addresses, off by default.
const (
	PublicRoutesLabel   = "Let this link route public internet addresses: only if you know why"
	PublicRoutesWarning = "Without it, WG Punch only routes private networks (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7) and refuses an invite or reply asking for more. With it, the other side could take over traffic meant for the internet."
)

// addRouteSummary shows what the link routes (the same sentence the CLI
// prints), when the controller said.
func (v *wizardView) addRouteSummary(box *fyne.Container, r *control.AcceptResult) {
	if r.RouteSummary != "" {
		box.Add(wrapLabel(r.RouteSummary))
	}
	// Each LAN reached through an alias (both offices use the same
	// subnet): the sentence and the commands for other office computers.
	for _, a := range r.Aliases {
		box.Add(wrapLabel(a))
	}
}

// reviewBlock is what accepting would do (PreviewAccept's result r), shown
// above the Accept button: the tunnel and peer, the routing sentence (what
// goes into the tunnel, what of ours the peer reaches), the safety code
// when it is already known (a reply's) and the warnings.
func (v *wizardView) reviewBlock(r *control.AcceptResult) fyne.CanvasObject {
	head := fmt.Sprintf("Accepting creates tunnel %s, linked to %s:", r.Tunnel, nameOr(r.PeerName))
	if r.Kind == "reply" {
		head = fmt.Sprintf("Accepting adds %s to tunnel %s:", nameOr(r.PeerName), r.Tunnel)
	}
	out := container.NewVBox(widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	v.addRouteSummary(out, r)
	if r.SafetyCode != "" {
		code := canvas.NewText(r.SafetyCode, theme.Color(theme.ColorNamePrimary))
		code.TextSize = 28
		code.TextStyle = fyne.TextStyle{Monospace: true}
		out.Add(widget.NewLabelWithStyle("Safety code:", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		out.Add(code)
		out.Add(wrapLabel(fmt.Sprintf("Read this code out to %s on the phone before you accept. Their screen must show the same code; if not, do not accept.", nameOr(r.PeerName))))
		if r.SafetyCodeKeysOnly {
			out.Add(wrapLabel("Keys only: the other side runs an older WG Punch, so this code covers only the two public keys. Update WG Punch on both computers."))
		}
	} else {
		out.Add(wrapLabel(fmt.Sprintf("The safety code comes with the reply, once you accept; compare it with the one %s's screen shows.", nameOr(r.PeerName))))
	}
	for _, w := range r.Warnings {
		l := wrapLabel("Warning: " + w.Message)
		l.Importance = widget.WarningImportance
		out.Add(l)
	}
	return out
}

// showReview fills the invite side's review box from the preview.
func (v *wizardView) showReview() {
	if v.review == nil {
		return
	}
	v.review.Objects = nil
	switch {
	case v.m.Preview != nil:
		v.review.Add(v.reviewBlock(v.m.Preview))
	case v.m.Previewing:
		v.review.Add(widget.NewLabel("Checking what this reply will route…"))
	}
	v.review.Refresh()
}

// previewInvite asks what accepting the pasted invite would do (answer
// side); the share page shows it with the Accept button.
func (v *wizardView) previewInvite() {
	v.m.Previewing = true
	req := v.m.AcceptInviteRequest()
	v.app.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		pr, err := v.ctl.PreviewAccept(ctx, req)
		fyne.Do(func() {
			v.m.Previewing = false
			v.m.Preview, v.m.ShareErr = pr, err
			if v.m.Step == StepShare {
				v.render()
			}
		})
	})
}

// previewReply asks what accepting the pasted reply would do (invite
// side) and shows it above "Use this reply"; an answer for a reply since
// changed is dropped.
func (v *wizardView) previewReply() {
	v.m.Previewing = true
	v.showReview()
	v.updateButtons()
	req := v.m.AcceptReplyRequest()
	v.app.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		pr, err := v.ctl.PreviewAccept(ctx, req)
		fyne.Do(func() {
			v.m.Previewing = false
			if strings.TrimSpace(v.m.ReplyText) != req.Token || v.m.Step != StepShare {
				v.updateButtons()
				return
			}
			if err != nil {
				v.pasteIcon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
				v.pasteStatus.Importance = widget.DangerImportance
				v.pasteStatus.SetText("Problem: " + err.Error())
			}
			v.m.Preview = pr
			v.showReview()
			v.updateButtons()
			if pr != nil && v.useReply != nil {
				v.page.ScrollToBottom() // the preview and the button below it in sight
				v.focus(v.useReply)     // read, then Space takes it
			}
		})
	})
}

// safetyBlock shows the safety code to read out over the phone.
func (v *wizardView) safetyBlock(r *control.AcceptResult) fyne.CanvasObject {
	code := canvas.NewText(r.SafetyCode, theme.Color(theme.ColorNamePrimary))
	code.TextSize = 28
	code.TextStyle = fyne.TextStyle{Monospace: true}
	out := container.NewVBox(
		widget.NewLabelWithStyle(fmt.Sprintf("Linked with %s. Safety code:", nameOr(r.PeerName)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		code,
		wrapLabel("Read this code out to the other person on the phone. Their screen must show the same code; if not, cancel and remove the link."))
	if r.SafetyCodeKeysOnly {
		out.Add(wrapLabel("Keys only: the other side runs an older WG Punch, so this code covers only the two public keys. Update WG Punch on both computers."))
	}
	for _, w := range r.Warnings {
		out.Add(v.app.warningBanner(r.Tunnel, w))
	}
	for _, n := range r.Notes {
		if strings.Contains(n, "wgpunch up") {
			continue // the wizard's next step does that
		}
		out.Add(wrapLabel("Note: " + n))
	}
	return out
}

// tokenBlock is a big QR code, the text, Copy and Save QR as PNG.
func (v *wizardView) tokenBlock(kind, token string, png []byte) fyne.CanvasObject {
	var qr fyne.CanvasObject = widget.NewLabel("(no QR code)")
	if len(png) > 0 {
		img := canvas.NewImageFromResource(fyne.NewStaticResource(kind+".png", png))
		img.FillMode = canvas.ImageFillContain
		img.ScaleMode = canvas.ImageScalePixels
		img.SetMinSize(fyne.NewSize(300, 300))
		white := canvas.NewRectangle(color.White)
		qr = container.NewCenter(container.NewStack(white, img))
	}
	text := widget.NewLabel(token)
	text.Wrapping = fyne.TextWrapBreak
	text.Selectable = true
	text.TextStyle = fyne.TextStyle{Monospace: true}
	cp := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		v.app.fyne.Clipboard().SetContent(token)
		v.hint.SetText("The " + kind + " is on the clipboard.")
	})
	save := widget.NewButtonWithIcon("Save QR as PNG…", theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			defer w.Close()
			if _, err := w.Write(png); err != nil {
				dialog.ShowError(err, v.win)
			}
		}, v.win)
		d.SetFileName("wgpunch-" + kind + ".png")
		d.Show()
	})
	// QR on the left, the text and its buttons beside it: the page fits
	// without scrolling on a small screen.
	return container.NewBorder(nil, nil, qr, nil, container.NewVBox(text, container.NewHBox(cp, save)))
}

// startShare writes the tunnel: Invite (invite side) or Accept of the
// pasted invite (answer side).
func (v *wizardView) startShare() {
	v.m.Working = true
	mode := v.m.Mode
	ireq, areq := v.m.InviteRequest(), v.m.AcceptInviteRequest()
	v.app.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var ir *control.InviteResult
		var ar *control.AcceptResult
		var err error
		if mode == ModeInvite {
			ir, err = v.ctl.Invite(ctx, ireq)
		} else {
			ar, err = v.ctl.Accept(ctx, areq)
		}
		fyne.Do(func() {
			v.m.Working = false
			v.m.ShareErr = err
			if ir != nil {
				v.m.InviteResult = ir
				v.m.Name = ir.Tunnel
			}
			if ar != nil {
				v.m.AcceptResult = ar
				v.m.Name = ar.Tunnel
			}
			v.app.refresh()
			if v.m.Step == StepShare {
				v.render()
			}
		})
	})
}

// acceptReply adds the peer from a valid reply (invite side).
func (v *wizardView) acceptReply() {
	if !v.m.Reply.OK || v.m.Working || v.m.Preview == nil {
		return // accept only what was shown
	}
	v.m.Working = true
	v.updateButtons()
	req := v.m.AcceptReplyRequest()
	v.app.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		ar, err := v.ctl.Accept(ctx, req)
		fyne.Do(func() {
			v.m.Working = false
			if err != nil {
				v.pasteIcon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
				v.pasteStatus.Importance = widget.DangerImportance
				v.pasteStatus.SetText("Problem: " + err.Error())
				v.updateButtons()
				return
			}
			v.m.AcceptResult = ar
			v.app.refresh()
			if v.m.Step == StepShare {
				v.render()
			}
		})
	})
}

// --- Connect ---------------------------------------------------------------

func (v *wizardView) connectPage() fyne.CanvasObject {
	v.pasteTarget = nil
	v.waitText = wrapLabel(fmt.Sprintf("Connecting %s and waiting for the first handshake…", v.m.Name))
	v.tips = wrapLabel("")
	v.tips.Hide()
	v.waitIcon = container.NewStack(widget.NewActivity())
	v.waitIcon.Objects[0].(*widget.Activity).Start()
	if v.upStarted.IsZero() {
		v.upStarted = v.app.now()
		name := v.m.Name
		v.app.spawn(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := v.ctl.Up(ctx, name)
			fyne.Do(func() {
				if err != nil {
					v.showConnectProblem("Could not connect: " + err.Error())
				}
				v.app.refresh()
			})
		})
		if v.app.opts.Sync {
			return container.NewVBox(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(32, 32), v.waitIcon), nil, v.waitText), v.tips)
		}
		v.ticker = time.NewTicker(time.Second)
		t := v.ticker
		go func() {
			for range t.C {
				fyne.Do(func() { v.onReport(v.app.last) })
			}
		}()
	}
	return container.NewVBox(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(32, 32), v.waitIcon), nil, v.waitText), v.tips)
}

func (v *wizardView) showConnectProblem(msg string) {
	v.tips.SetText(msg)
	v.tips.Show()
}

// onReport follows the new tunnel on the connect page.
func (v *wizardView) onReport(r *control.Report) {
	if v.m.Step != StepConnect || v.connected || v.waitText == nil {
		return
	}
	ph := ConnectPhaseOf(r, v.m.Name, v.upStarted, v.app.now(), v.m.NAT)
	v.waitText.SetText(ph.Text)
	if ph.Connected {
		v.connected = true
		v.stop()
		v.waitIcon.Objects = []fyne.CanvasObject{widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))}
		v.waitIcon.Refresh()
		v.tips.SetText(ph.After)
		v.tips.Show()
		return
	}
	if ph.Tips != "" {
		v.tips.SetText(ph.Tips)
		v.tips.Show()
	}
}
