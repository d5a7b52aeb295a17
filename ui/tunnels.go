package ui

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
)

// tunnelList is the main window's body: one card per tunnel, updated in
// place from each report so nothing flickers and pulses survive.
type tunnelList struct {
	app   *App
	box   *fyne.Container
	cards *keyedRows[*tunnelCard] // by tunnel name
}

func newTunnelList(a *App) *tunnelList {
	l := &tunnelList{app: a, box: container.NewVBox()}
	msg := widget.NewLabel("No links yet. Use \"Link another computer…\" to connect this computer with another one.")
	msg.Wrapping = fyne.TextWrapWord
	l.cards = newKeyedRows(l.box, msg,
		func(name string) *tunnelCard { return newTunnelCard(a, name) },
		func(c *tunnelCard) fyne.CanvasObject { return c.root })
	return l
}

// Update applies a report.
func (l *tunnelList) Update(r *control.Report, now time.Time) {
	var names []string
	if r != nil {
		for _, t := range r.Tunnels {
			names = append(names, t.Name)
		}
	}
	l.cards.set(names)
	if r == nil {
		return
	}
	for _, t := range r.Tunnels {
		l.cards.get(t.Name).Update(t, now)
	}
}

// tunnelCard is one tunnel: switch, details, warnings, peers.
type tunnelCard struct {
	app  *App
	name string

	toggle   *widget.Check
	setting  bool // true while Update sets the switch, to ignore OnChanged
	busy     bool
	info     *widget.Label
	errLabel *widget.Label
	warnBox  *fyne.Container
	warnings []control.Warning
	// warnRebuilds counts rebuilds of warnBox, for tests.
	warnRebuilds int
	peerBox      *fyne.Container
	peers        *keyedRows[*peerRow] // by public key
	root         fyne.CanvasObject
}

func newTunnelCard(a *App, name string) *tunnelCard {
	c := &tunnelCard{app: a, name: name}
	c.toggle = widget.NewCheck(name, func(on bool) {
		if c.setting {
			return
		}
		c.busy = true
		c.toggle.Disable()
		a.setUp(c.name, on, func() {
			c.busy = false
			c.toggle.Enable()
		})
	})
	c.info = widget.NewLabel("")
	c.errLabel = widget.NewLabel("")
	c.errLabel.Wrapping = fyne.TextWrapWord
	c.errLabel.Importance = widget.DangerImportance
	c.errLabel.Hide()
	c.warnBox = container.NewVBox()
	c.peerBox = container.NewVBox()
	c.peers = newKeyedRows(c.peerBox, widget.NewLabel("No peer yet: this link waits for the other computer's reply."),
		func(string) *peerRow { return newPeerRow(a, c.name) },
		func(r *peerRow) fyne.CanvasObject { return r.root })
	edit := widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() { a.editTunnel(c.name) })
	export := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), func() { a.exportTunnel(c.name) })
	remove := widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), func() { a.removeTunnel(c.name) })
	header := container.NewBorder(nil, nil, container.NewHBox(c.toggle, c.info), container.NewHBox(edit, export, remove))
	// A line under each link, not a filled card: every frame redraws the
	// whole window, and in software OpenGL two card-sized fills were half
	// of a frame's cost (docs/benchmarks.md).
	body := container.NewVBox(header, c.errLabel, c.warnBox, c.peerBox)
	c.root = container.NewVBox(container.NewPadded(body), widget.NewSeparator())
	return c
}

// Update applies one tunnel's status.
func (c *tunnelCard) Update(t control.TunnelStatus, now time.Time) {
	// A starting tunnel (a Windows service not running yet) is on: turning
	// it on again would install it a second time.
	on := t.Up || t.Starting
	if !c.busy && c.toggle.Checked != on {
		c.setting = true
		c.toggle.SetChecked(on)
		c.setting = false
	}
	info := fmt.Sprintf("port %d", t.ListenPort)
	if t.Address != "" {
		info += " · " + t.Address
	}
	switch {
	case t.Starting:
		info += " · starting…"
	case !t.Up:
		info += " · off"
	}
	setText(c.info, info)
	if t.Error != "" {
		setText(c.errLabel, "Could not connect: "+t.Error)
		c.errLabel.Show()
	} else {
		c.errLabel.Hide()
	}
	// The daemon sends "no warnings" as an empty list, the copy below is
	// nil: both mean none. (Comparing them with DeepEqual rebuilt the box,
	// and so redrew the window, on every report: issue 14.)
	if !(len(t.Warnings) == 0 && len(c.warnings) == 0) && !reflect.DeepEqual(t.Warnings, c.warnings) {
		c.warnRebuilds++
		c.warnings = append([]control.Warning(nil), t.Warnings...)
		c.warnBox.RemoveAll()
		for _, w := range t.Warnings {
			c.warnBox.Add(c.app.warningBanner(c.name, w))
		}
	}
	var keys []string
	for _, p := range t.Peers {
		keys = append(keys, p.PublicKey)
	}
	c.peers.set(keys)
	for _, p := range t.Peers {
		r := c.peers.get(p.PublicKey)
		r.lanAddress = t.LANAddress
		r.Update(p, now)
	}
}

// warningBanner shows a warning with its fix as a button.
func (a *App) warningBanner(tunnel string, w control.Warning) fyne.CanvasObject {
	tone := ToneAmber
	if w.Code == "nat-fail" {
		tone = ToneRed
	}
	bg := canvas.NewRectangle(toneBackground(tone))
	bg.CornerRadius = 4
	msg := widget.NewLabel("Warning: " + w.Message)
	msg.Wrapping = fyne.TextWrapWord
	var fix fyne.CanvasObject
	if w.FixPort != 0 {
		port := w.FixPort
		b := widget.NewButton(fmt.Sprintf("Use port %d", port), func() { a.setPort(tunnel, port) })
		b.Importance = widget.HighImportance
		fix = b
	}
	if w.Code == "public-address-changed" && w.Update != "" {
		b := widget.NewButtonWithIcon("Show update…", theme.MailSendIcon(), func() { a.showUpdate(w) })
		b.Importance = widget.HighImportance
		fix = b
	}
	icon := widget.NewIcon(theme.WarningIcon())
	if tone == ToneRed {
		icon = widget.NewIcon(theme.ErrorIcon())
	}
	var right fyne.CanvasObject
	if fix != nil {
		right = container.NewCenter(fix)
	}
	return container.NewStack(bg, container.NewBorder(nil, nil, icon, right, msg))
}

// peerRow is one peer under a tunnel.
type peerRow struct {
	app       *App
	tunnel    string
	peer      control.PeerStatus
	ind       *Indicator
	name      *widget.Label
	handshake *widget.Label
	traffic   *widget.Label
	endpoint  *widget.Label
	diagnosis *widget.Label // why it is not connected and what to do; hidden when connected
	// aliases says how the peer's aliased LANs are reached (AliasDetails);
	// hidden when none is. lanAddress is the tunnel's LANAddress.
	aliases    *widget.Label
	lanAddress string
	root       fyne.CanvasObject
}

func newPeerRow(a *App, tunnel string) *peerRow {
	r := &peerRow{app: a, tunnel: tunnel, ind: NewIndicator(),
		name: widget.NewLabel(""), handshake: widget.NewLabel(""), traffic: widget.NewLabel(""), endpoint: widget.NewLabel("")}
	r.ind.animate = a.animate
	r.name.TextStyle = fyne.TextStyle{Bold: true}
	r.diagnosis = widget.NewLabel("")
	r.diagnosis.Wrapping = fyne.TextWrapWord
	r.diagnosis.Hide()
	r.aliases = widget.NewLabel("")
	r.aliases.Wrapping = fyne.TextWrapWord
	r.aliases.Hide()
	safety := widget.NewButton("Safety code", func() { a.showSafetyCode(r.peer) })
	rdp := widget.NewButtonWithIcon("Remote desktop…", theme.ComputerIcon(), func() { a.remoteDesktop(r.peer) })
	line1 := container.NewHBox(r.ind, r.name, r.handshake)
	line2 := container.NewHBox(r.traffic, r.endpoint)
	r.root = container.NewBorder(nil, nil, widget.NewLabel("  "), container.NewCenter(container.NewHBox(safety, rdp)), container.NewVBox(line1, line2, r.aliases, r.diagnosis))
	return r
}

// Update applies one peer's status.
func (r *peerRow) Update(p control.PeerStatus, now time.Time) {
	r.peer = p
	r.ind.Set(p.State, p.LastReceive)
	setText(r.name, nameOr(p.Name))
	// In 10 s steps: a label that changed every second would redraw the
	// whole window every second (issue 14).
	setText(r.handshake, "last handshake "+coarseAgo(now, p.LastHandshake))
	setText(r.traffic, fmt.Sprintf("in %s · out %s", HumanBytes(p.RxBytes), HumanBytes(p.TxBytes)))
	ep := p.Endpoint
	if ep == "" {
		ep = "unknown"
	}
	addr := strings.TrimSuffix(p.Address, "/32")
	line := fmt.Sprintf("endpoint %s · tunnel address %s", ep, addr)
	if w := conf.PathKind(p.Path).Words(); w != "" {
		line = w + " · " + line // "direct over IPv6 · endpoint ..."
	}
	setText(r.endpoint, line)
	if a := AliasDetails(p, r.lanAddress); a != "" {
		setText(r.aliases, a)
		r.aliases.Show()
	} else if r.aliases.Visible() {
		r.aliases.Hide()
	}
	if d := p.Diagnosis; d != nil {
		setText(r.diagnosis, DiagnosisText(d))
		r.diagnosis.Show()
	} else if r.diagnosis.Visible() {
		r.diagnosis.Hide()
	}
}

// setText changes a label only when needed (cheap refresh).
func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}
