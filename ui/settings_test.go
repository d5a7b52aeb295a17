package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/ui/internal/fakectl"
)

// openSettings taps the header's "Settings…" button and returns the dialog.
func openSettings(t *testing.T, a *App) *settingsDialog {
	t.Helper()
	btn := findButton(a.win.Content(), "Settings…")
	if btn == nil {
		t.Fatal("no Settings… button in the main window")
	}
	test.Tap(btn)
	if a.settings == nil || findButton(a.win.Canvas().Overlays().Top(), "Use defaults") == nil {
		t.Fatal("Settings… opened no dialog")
	}
	return a.settings
}

func TestSettingsDialog(t *testing.T) {
	f := fakectl.New()
	a := newTestApp(t, f)
	a.connect()
	a.win.Resize(fyne.NewSize(900, 560))

	s := openSettings(t, a)
	if s.entry.Text != "" || s.entry.PlaceHolder != strings.Join(natcheck.DefaultServers, "\n") {
		t.Errorf("fresh dialog: text %q, placeholder %q; want empty with the defaults as placeholder", s.entry.Text, s.entry.PlaceHolder)
	}
	test.AssertRendersToMarkup(t, "settings_dialog.xml", a.win.Canvas())

	// A bad entry: said in plain words, nothing saved, dialog stays open.
	test.Type(s.entry, "stun.example.org:99999")
	test.Tap(s.save)
	if !s.errMsg.Visible() || !strings.Contains(s.errMsg.Text, `Not saved: STUN server "stun.example.org:99999": port 99999 is out of range`) {
		t.Errorf("error shown: %v %q", s.errMsg.Visible(), s.errMsg.Text)
	}
	if f.STUN != nil || a.win.Canvas().Overlays().Top() == nil {
		t.Errorf("after a bad entry: saved %v, dialog open %v", f.STUN, a.win.Canvas().Overlays().Top() != nil)
	}

	// Good entries, one per line (blank lines ignored, port defaulted).
	s.entry.SetText("192.0.2.1\n\nstun.example.org:19302\n")
	test.Tap(s.save)
	if diff := cmp.Diff([]string{"192.0.2.1:3478", "stun.example.org:19302"}, f.STUN); diff != "" {
		t.Errorf("saved servers (-want +got):\n%s", diff)
	}
	if a.win.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after a successful Save")
	}

	// Reopened, it shows what is saved; Use defaults clears it.
	s = openSettings(t, a)
	if s.entry.Text != "192.0.2.1:3478\nstun.example.org:19302" {
		t.Errorf("reopened dialog shows %q", s.entry.Text)
	}
	test.Tap(s.reset)
	if len(f.STUN) != 0 || !hasCall(f, "SetSettings []") {
		t.Errorf("after Use defaults: saved %v, calls %v", f.STUN, f.CallLog())
	}
}

func TestSettingsPermissionDenied(t *testing.T) {
	f := fakectl.New()
	f.SettingsErr = fmt.Errorf("%w: only root and members of group \"wgpunch\" may change tunnels", control.ErrPermission)
	a := newTestApp(t, f)
	a.connect()
	s := openSettings(t, a)
	s.entry.SetText("192.0.2.1")
	test.Tap(s.save)
	if !strings.HasPrefix(s.errMsg.Text, "You are not allowed to change the settings of WG Punch on this computer; only an administrator can. Nothing was changed.") {
		t.Errorf("permission error shown as %q", s.errMsg.Text)
	}
	if f.STUN != nil {
		t.Errorf("saved %v although denied", f.STUN)
	}
}

func TestSplitServers(t *testing.T) {
	got := SplitServers(" a:1\r\n\n b, c\td \n")
	if diff := cmp.Diff([]string{"a:1", "b", "c", "d"}, got); diff != "" {
		t.Errorf("SplitServers (-want +got):\n%s", diff)
	}
}
