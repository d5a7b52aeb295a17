package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// settingsDialog is the open "Settings" dialog (tests reach into it).
type settingsDialog struct {
	d      *dialog.CustomDialog
	entry  *widget.Entry
	errMsg *widget.Label
	save   *widget.Button
	reset  *widget.Button
}

// ShowSettings opens the Settings dialog: the STUN servers NAT checks use,
// one per line; empty means the built-in ones.
func (a *App) ShowSettings() {
	ctl := a.Controller()
	if ctl == nil {
		return
	}
	a.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		set, err := ctl.Settings(ctx)
		fyne.Do(func() {
			if err != nil {
				a.showError(fmt.Errorf("Could not read the settings: %w", err))
				return
			}
			a.settings = a.newSettingsDialog(ctl, set)
			a.settings.d.Show()
		})
	})
}

func (a *App) newSettingsDialog(ctl control.Controller, set *control.Settings) *settingsDialog {
	s := &settingsDialog{}
	s.entry = widget.NewMultiLineEntry()
	s.entry.SetPlaceHolder(strings.Join(set.DefaultSTUNServers, "\n"))
	s.entry.SetText(strings.Join(set.STUNServers, "\n"))
	s.entry.SetMinRowsVisible(5)
	s.entry.Wrapping = fyne.TextWrapOff

	now := "Now using the built-in STUN servers."
	if len(set.STUNServers) > 0 {
		now = "Now using the STUN servers below."
	}
	help := widget.NewLabel("STUN servers tell this computer its public address and whether its network " +
		"allows a direct link. Write one per line, as HOST:PORT or just HOST (port 3478), at most " +
		fmt.Sprint(control.MaxSTUNServers) + ". Leave it empty to use the built-in ones:\n" +
		strings.Join(set.DefaultSTUNServers, ", ") + "\n" + now)
	help.Wrapping = fyne.TextWrapWord
	s.errMsg = widget.NewLabel("")
	s.errMsg.Wrapping = fyne.TextWrapWord
	s.errMsg.Importance = widget.DangerImportance
	s.errMsg.Hide()

	content := container.NewBorder(help, s.errMsg, nil, nil, s.entry)
	s.d = dialog.NewCustom("Settings", "Cancel", content, a.win)

	apply := func(servers []string) {
		s.save.Disable()
		s.reset.Disable()
		a.spawn(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := ctl.SetSettings(ctx, control.Settings{STUNServers: servers})
			fyne.Do(func() {
				s.save.Enable()
				s.reset.Enable()
				if err != nil {
					s.errMsg.SetText(settingsErrText(err))
					s.errMsg.Show()
					return
				}
				s.d.Hide()
			})
		})
	}
	cancelBtn := widget.NewButton("Cancel", s.d.Hide)
	s.reset = widget.NewButtonWithIcon("Use defaults", theme.ContentUndoIcon(), func() { apply(nil) })
	s.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { apply(SplitServers(s.entry.Text)) })
	s.save.Importance = widget.HighImportance
	s.d.SetButtons([]fyne.CanvasObject{cancelBtn, s.reset, s.save})
	s.d.Resize(fyne.NewSize(520, 380))
	return s
}

// SplitServers turns the Settings text (one server per line; commas and
// spaces also separate) into a list.
func SplitServers(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t'
	})
}

// settingsErrText says in plain words why saving failed.
func settingsErrText(err error) string {
	switch {
	case errors.Is(err, control.ErrPermission):
		return "You are not allowed to change the settings of WG Punch on this computer; " +
			"only an administrator can. Nothing was changed. Details: " + err.Error()
	case errors.Is(err, control.ErrInvalidInput):
		return "Not saved: " + err.Error()
	case errors.Is(err, control.ErrNeedDaemon):
		return "Not saved: the WG Punch background service is not answering. " + err.Error()
	}
	return "Not saved: " + err.Error()
}
