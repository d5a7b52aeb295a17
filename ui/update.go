package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// UpdateTitle is the heading of an address update to send.
func UpdateTitle(peer string) string {
	return "Your internet address changed: send this to " + nameOr(peer)
}

// updateView is the update as the window shows an invite: a QR code, the
// text and Copy.
func (a *App) updateView(w control.Warning) fyne.CanvasObject {
	var qr fyne.CanvasObject = widget.NewLabel("(no QR code)")
	if png, err := invite.QRPNG(w.Update, 0); err == nil {
		img := canvas.NewImageFromResource(fyne.NewStaticResource("update.png", png))
		img.FillMode = canvas.ImageFillContain
		img.ScaleMode = canvas.ImageScalePixels
		img.SetMinSize(fyne.NewSize(240, 240))
		qr = container.NewCenter(container.NewStack(canvas.NewRectangle(color.White), img))
	}
	text := widget.NewLabel(w.Update)
	text.Wrapping = fyne.TextWrapBreak
	text.Selectable = true
	text.TextStyle = fyne.TextStyle{Monospace: true}
	hint := widget.NewLabel("")
	cp := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		a.fyne.Clipboard().SetContent(w.Update)
		hint.SetText("The update is on the clipboard.")
	})
	how := widget.NewLabel(fmt.Sprintf("Send it to %s the way you sent the invite. They paste it into WG Punch (Paste update…), or run: wgpunch accept LINKNAME followed by the line. Only your address changes on their side.", nameOr(w.Peer)))
	how.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, qr, nil, container.NewVBox(how, text, container.NewHBox(cp, hint)))
}

// showUpdate opens the update of warning w (public-address-changed).
func (a *App) showUpdate(w control.Warning) {
	d := dialog.NewCustom(UpdateTitle(w.Peer), "Close", a.updateView(w), a.win)
	d.Resize(fyne.NewSize(760, 360))
	d.Show()
}

// pasteUpdate takes an address update from the other side: it says what
// it changes (PreviewAccept), then takes it on the click.
func (a *App) pasteUpdate() {
	entry := widget.NewMultiLineEntry()
	entry.SetPlaceHolder("WGP1U-…")
	entry.Wrapping = fyne.TextWrapBreak
	msg := widget.NewLabel("Paste the update the other computer's WG Punch showed when its internet address changed.")
	msg.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	take := widget.NewButtonWithIcon("Take update", theme.ConfirmIcon(), nil)
	take.Importance = widget.HighImportance
	take.OnTapped = func() {
		tok := strings.TrimSpace(entry.Text)
		a.spawn(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ctl := a.Controller()
			var res *control.AcceptResult
			var err error
			if ctl == nil {
				err = fmt.Errorf("WG Punch is not connected to its service")
			} else if res, err = ctl.PreviewAccept(ctx, control.AcceptRequest{Token: tok}); err == nil && res.Kind != "update" {
				err = fmt.Errorf("that is not an address update but a %s: use Link another computer… for invites and replies", res.Kind)
			} else if err == nil {
				res, err = ctl.Accept(ctx, control.AcceptRequest{Token: tok})
			}
			fyne.Do(func() {
				if err != nil {
					msg.SetText("Not taken: " + err.Error())
					return
				}
				d.Hide()
				dialog.ShowInformation("Update taken", strings.Join(res.Notes, "\n"), a.win)
			})
		})
	}
	d = dialog.NewCustom("Paste an address update", "Cancel", container.NewBorder(msg, take, nil, nil, entry), a.win)
	d.Resize(fyne.NewSize(620, 300))
	d.Show()
}
