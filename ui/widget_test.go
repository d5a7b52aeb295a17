package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/internal/testutil"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui/internal/fakectl"
)

func TestIndicatorStates(t *testing.T) {
	test.NewTempApp(t)
	for _, s := range []control.State{"connected", "connecting", "stale", "down"} {
		i := NewIndicator()
		i.animate = false
		i.Set(s, nil)
		w := test.NewTempWindow(t, i)
		w.Resize(fyne.NewSize(160, 40))
		test.AssertRendersToMarkup(t, "indicator_"+string(s)+".xml", w.Canvas())
	}
}

func TestIndicatorPulse(t *testing.T) {
	test.NewTempApp(t)
	i := NewIndicator()
	i.animate = false
	a, b := t0, t0.Add(5*time.Second)
	i.Set("connected", &a) // first sight: no pulse
	i.Set("connected", &a) // unchanged: no pulse
	if i.Pulses != 0 {
		t.Fatalf("pulsed %d times without a new receive", i.Pulses)
	}
	i.Set("connected", &b)
	i.Set("stale", &b)
	if i.Pulses != 1 {
		t.Fatalf("pulses = %d, want 1", i.Pulses)
	}
	if i.words.Text != "No contact" {
		t.Errorf("words = %q", i.words.Text)
	}
}

func newTestApp(t *testing.T, f *fakectl.Fake) *App {
	t.Helper()
	fa := test.NewTempApp(t)
	f.Silent = true
	a := New(fa, Options{Connect: func() (control.Controller, error) { return f, nil }, Now: func() time.Time { return t0 }, NoAnimation: true, Sync: true})
	t.Cleanup(a.Stop)
	return a
}

func sampleReport() *control.Report {
	return &control.Report{Tunnels: []control.TunnelStatus{
		{Name: "Office", Up: true, Interface: "Office", Address: "10.77.12.1/24", ListenPort: 51820,
			Warnings: []control.Warning{{Code: "port-shared", Message: "Laptop on your LAN also uses UDP port 51820.", FixPort: 51822}},
			Peers: []control.PeerStatus{{Name: "Home", PublicKey: "AAAA", Address: "10.77.12.2/32", Endpoint: "203.0.113.5:51820",
				LastHandshake: ago(12 * time.Second), LastReceive: ago(2 * time.Second), RxBytes: 1536, TxBytes: 5 << 20,
				State: "connected", SafetyCode: "482-193"}}},
		{Name: "Lab", ListenPort: 51821, Address: "10.77.13.1/24",
			Peers: []control.PeerStatus{{Name: "Lab PC", PublicKey: "BBBB", Address: "10.77.13.2/32", State: "down"}}},
	}}
}

func TestMainWindow(t *testing.T) {
	f := fakectl.New()
	f.AddTunnel(control.TunnelStatus{Name: "Office", ListenPort: 51820})
	f.AddTunnel(control.TunnelStatus{Name: "Lab", ListenPort: 51821})
	a := newTestApp(t, f)
	a.connect()
	a.Apply(sampleReport())
	a.win.Resize(fyne.NewSize(900, 560))
	// The GL driver re-lays out grown labels every frame; the test canvas
	// only on Refresh.
	a.win.Content().Refresh()
	test.AssertRendersToMarkup(t, "main_window.xml", a.win.Canvas())

	// The warning's fix button sets the suggested port.
	btn := findButton(a.list.cards.get("Office").warnBox, "Use port 51822")
	if btn == nil {
		t.Fatal("no fix button in the warning banner")
	}
	test.Tap(btn)
	testutil.Eventually(t, 5*time.Second, "SetListenPort", func() bool { return hasCall(f, "SetListenPort Office 51822") })
	// The switch brings Lab up through the controller.
	card := a.list.cards.get("Lab")
	test.Tap(card.toggle)
	testutil.Eventually(t, 5*time.Second, "Up Lab", func() bool { return hasCall(f, "Up Lab") })

}

func TestWarningBanner(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	b := a.warningBanner("Office", control.Warning{Code: "port-shared", Message: "Laptop on your LAN also uses UDP port 51820.", FixPort: 51822})
	w := test.NewTempWindow(t, b)
	w.Resize(fyne.NewSize(600, 60))
	test.AssertRendersToMarkup(t, "warning_port_shared.xml", w.Canvas())
	n := a.warningBanner("Office", control.Warning{Code: "nat-fail", Message: "Home's router gives a new port per destination; a direct link cannot work."})
	if findButton(n, "") != nil {
		t.Error("a warning without a fix has a button")
	}
}

func TestNoService(t *testing.T) {
	f := fakectl.New()
	fa := test.NewTempApp(t)
	f.Silent = true
	fail := true
	a := New(fa, Options{Connect: func() (control.Controller, error) {
		if fail {
			return nil, errors.New("dial unix /run/wgpunch/wgpunch.sock: connect: no such file or directory")
		}
		return f, nil
	}, Now: func() time.Time { return t0 }, NoAnimation: true})
	t.Cleanup(a.Stop)
	a.connect()
	a.win.Resize(fyne.NewSize(700, 420))
	test.AssertRendersToMarkup(t, "no_service.xml", a.win.Canvas())
	fail = false
	test.Tap(findButton(a.content, "Retry"))
	if a.Controller() == nil {
		t.Fatal("Retry did not connect")
	}
	if findButton(a.content, "Link another computer…") == nil {
		t.Error("main screen not shown after Retry")
	}
}

func TestTrayMenu(t *testing.T) {
	f := fakectl.New()
	f.AddTunnel(control.TunnelStatus{Name: "Office", ListenPort: 51820})
	f.AddTunnel(control.TunnelStatus{Name: "Lab", ListenPort: 51821})
	a := newTestApp(t, f)
	a.connect()
	m := a.TrayMenu(BuildTray(sampleReport(), t0))
	var labels []string
	for _, it := range m.Items {
		l := it.Label
		if it.IsSeparator {
			l = "---"
		}
		if it.Checked {
			l = "[x] " + l
		}
		labels = append(labels, l)
	}
	want := "[x] Office: connected, 10 s ago|Lab: off|---|Open WG Punch|Link another computer…|---|Quit"
	if got := strings.Join(labels, "|"); got != want {
		t.Errorf("menu = %q\nwant   %q", got, want)
	}
	m.Items[0].Action() // Office is up: clicking turns it off
	m.Items[1].Action() // Lab is off: clicking turns it on
	testutil.Eventually(t, 5*time.Second, "Down Office and Up Lab", func() bool { return hasCall(f, "Down Office") && hasCall(f, "Up Lab") })
	if !m.Items[len(m.Items)-1].IsQuit {
		t.Error("last item is not the Quit item")
	}
}

func hasCall(f *fakectl.Fake, c string) bool {
	for _, x := range f.CallLog() {
		if x == c {
			return true
		}
	}
	return false
}

// findButton walks a tree for a button with the given text ("" = any).
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		if text == "" || x.Text == text {
			return x
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		for _, c := range r.Objects() {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

func TestNotifications(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	rep := func(state control.State) *control.Report {
		return &control.Report{Tunnels: []control.TunnelStatus{{Name: "office", Up: true,
			Peers: []control.PeerStatus{{Name: "Home", PublicKey: "K", State: state}}}}}
	}
	a.Apply(rep("connecting"))
	test.AssertNotificationSent(t, fyne.NewNotification("office connected", "Linked with Home."), func() {
		a.Apply(rep("connected"))
	})
}

func TestRemoveAsksFirst(t *testing.T) {
	f := fakectl.New()
	f.AddTunnel(control.TunnelStatus{Name: "Lab", ListenPort: 51821})
	a := newTestApp(t, f)
	a.connect()
	a.win.Resize(fyne.NewSize(900, 560))

	a.removeTunnel("Lab")
	no := findButton(a.win.Canvas().Overlays().Top(), "No")
	if no == nil {
		t.Fatal("no confirmation dialog")
	}
	test.Tap(no)
	if hasCall(f, "Remove Lab") {
		t.Fatal("removed although the user said No")
	}
	a.removeTunnel("Lab")
	test.Tap(findButton(a.win.Canvas().Overlays().Top(), "Yes"))
	if !hasCall(f, "Remove Lab") {
		t.Fatalf("not removed after Yes: %v", f.CallLog())
	}
}

func TestEditRenamesAndSetsPort(t *testing.T) {
	f := fakectl.New()
	f.AddTunnel(control.TunnelStatus{Name: "Lab", ListenPort: 51821})
	a := newTestApp(t, f)
	a.connect()
	a.win.Resize(fyne.NewSize(900, 560))
	a.editTunnel("Lab")
	form := a.win.Canvas().Overlays().Top()
	entries := findEntries(form)
	if len(entries) != 2 {
		t.Fatalf("edit form has %d entries, want name and port", len(entries))
	}
	entries[0].SetText("Lab2")
	entries[1].SetText("80")
	save := findButton(form, "Save")
	if !save.Disabled() {
		t.Error("Save enabled with port 80")
	}
	entries[1].SetText("51830")
	test.Tap(save)
	if !hasCall(f, "SetListenPort Lab 51830") || !hasCall(f, "Rename Lab Lab2") {
		t.Errorf("calls: %v", f.CallLog())
	}
}

func findEntries(o fyne.CanvasObject) []*widget.Entry {
	var out []*widget.Entry
	switch x := o.(type) {
	case *widget.Entry:
		return []*widget.Entry{x}
	case *fyne.Container:
		for _, c := range x.Objects {
			out = append(out, findEntries(c)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			out = append(out, findEntries(c)...)
		}
	}
	return out
}

// A peer that is not connected shows its diagnosis (what is going on, what
// to do) under it; once connected the text goes away.
func TestPeerDiagnosis(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	r := newPeerRow(a, "Lab")
	d := &control.Diagnosis{Code: "never-connected", Message: "No answer from Lab PC in the 95 seconds since this link was turned on.", Action: "Ask Lab PC to open WG Punch and connect this link."}
	r.Update(control.PeerStatus{Name: "Lab PC", State: "connecting", Diagnosis: d}, t0)
	if !r.diagnosis.Visible() || r.diagnosis.Text != d.Message+"\nWhat to do: "+d.Action {
		t.Errorf("diagnosis shown %v: %q", r.diagnosis.Visible(), r.diagnosis.Text)
	}
	r.Update(control.PeerStatus{Name: "Lab PC", State: "connected", LastHandshake: ago(time.Second)}, t0)
	if r.diagnosis.Visible() {
		t.Errorf("diagnosis still shown when connected: %q", r.diagnosis.Text)
	}
}

// A changed public address: the banner offers the update, shown as an
// invite is (QR code, text, Copy), and the tray notifies once per update.
func TestAddressUpdateShown(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	w := control.Warning{Code: "public-address-changed", Peer: "Home", Update: "WGP1U-EXAMPLEUPDATETOKEN", Message: "Your internet address changed (now 203.0.113.12:51820, was 203.0.113.2:51820): send this update to Home."}
	b := a.warningBanner("Office", w)
	if findButton(b, "Show update…") == nil {
		t.Fatal("no Show update… button on the banner")
	}
	v := a.updateView(w)
	if findButton(v, "Copy") == nil {
		t.Error("no Copy button with the update")
	}
	if UpdateTitle("Home") != "Your internet address changed: send this to Home" {
		t.Errorf("title %q", UpdateTitle("Home"))
	}
	prev := &control.Report{Tunnels: []control.TunnelStatus{{Name: "Office"}}}
	cur := &control.Report{Tunnels: []control.TunnelStatus{{Name: "Office", Warnings: []control.Warning{w}}}}
	if n := Transitions(prev, cur); len(n) != 1 || n[0].Title != UpdateTitle("Home") {
		t.Errorf("notices %+v, want one for the update", n)
	}
	if n := Transitions(cur, cur); len(n) != 0 {
		t.Errorf("the same update notified again: %+v", n)
	}
}
