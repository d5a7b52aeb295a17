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

// A report that only says a second went by changes no text in the window,
// so nothing is redrawn (issue 14: no constant redraw); the handshake age
// moves in 10 s steps.
func TestIdleSecondChangesNothing(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	r := newPeerRow(a, "office")
	hs, rx := t0.Add(-12*time.Second), t0.Add(-3*time.Second)
	p := control.PeerStatus{Name: "bob", PublicKey: "K", State: "connected", LastHandshake: &hs, LastReceive: &rx, RxBytes: 1000, TxBytes: 2000}
	texts := func() []string {
		return []string{r.name.Text, r.handshake.Text, r.traffic.Text, r.endpoint.Text, r.diagnosis.Text, r.ind.words.Text}
	}
	r.Update(p, t0)
	first := texts()
	for s := 1; s <= 7; s++ { // 12 s .. 19 s ago: one 10 s step
		r.Update(p, t0.Add(time.Duration(s)*time.Second))
		if got := texts(); strings.Join(got, "|") != strings.Join(first, "|") {
			t.Fatalf("after %d idle s the row changed:\n%q\nwas\n%q", s, got, first)
		}
	}
	if r.ind.Pulses != 0 {
		t.Errorf("pulsed %d times without a packet", r.ind.Pulses)
	}
	if first[1] != "last handshake 10 s ago" {
		t.Errorf("handshake line %q", first[1])
	}
	r.Update(p, t0.Add(8*time.Second)) // 20 s ago
	if r.handshake.Text != "last handshake 20 s ago" {
		t.Errorf("handshake line after 20 s: %q", r.handshake.Text)
	}
}

// Reports with the same warnings (none comes as an empty list from the
// daemon) leave the warning box alone: rebuilding it redraws the window.
func TestCardKeepsSameWarnings(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	c := newTunnelCard(a, "office")
	st := control.TunnelStatus{Name: "office", Up: true, Peers: []control.PeerStatus{}, Warnings: []control.Warning{}}
	for i := 0; i < 3; i++ {
		c.Update(st, t0.Add(time.Duration(i)*time.Second))
	}
	if c.warnRebuilds != 0 {
		t.Errorf("no warnings, three reports: the warning box was rebuilt %d times", c.warnRebuilds)
	}
	st.Warnings = []control.Warning{{Code: "port-shared", Message: "Laptop also uses UDP port 51820."}}
	for i := 0; i < 3; i++ {
		c.Update(st, t0.Add(time.Duration(i)*time.Second))
	}
	if c.warnRebuilds != 1 {
		t.Errorf("one warning, three reports: rebuilt %d times, want 1", c.warnRebuilds)
	}
}

// With LiveEvery the window draws a packet's arrival (its pulse, with the
// counters) and anything else at once, and changes that are only counters
// (packets sent) and ages on that beat.
func TestLiveEvery(t *testing.T) {
	fa := test.NewTempApp(t)
	f := fakectl.New()
	f.Silent = true
	clock := t0
	a := New(fa, Options{Connect: func() (control.Controller, error) { return f, nil }, Now: func() time.Time { return clock },
		NoAnimation: true, Sync: true, LiveEvery: 10 * time.Second})
	t.Cleanup(a.Stop)
	rep := func(state control.State, rx, tx int64) *control.Report {
		hs := t0.Add(-time.Minute)
		lr := t0.Add(time.Duration(rx) * time.Millisecond)
		return &control.Report{Tunnels: []control.TunnelStatus{{Name: "office", Up: true, Warnings: []control.Warning{},
			Peers: []control.PeerStatus{{Name: "bob", PublicKey: "K", State: state, LastHandshake: &hs, LastReceive: &lr, RxBytes: rx, TxBytes: tx}}}}}
	}
	row := func() *peerRow { return a.list.cards.get("office").peers.get("K") }
	step := func(d time.Duration, r *control.Report) { clock = clock.Add(d); a.Apply(r) }
	step(0, rep("connected", 100, 0))
	if got := row().traffic.Text; got != "in 100 B · out 0 B" {
		t.Fatalf("first report: %q", got)
	}
	step(time.Second, rep("connected", 100, 32)) // a packet sent only: waits for the beat
	if got, pulses := row().traffic.Text, row().ind.Pulses; got != "in 100 B · out 0 B" || pulses != 0 {
		t.Errorf("a packet sent 1 s later was drawn at once: %q, %d pulses", got, pulses)
	}
	step(time.Second, rep("connected", 132, 32)) // a keepalive arrived: its pulse and the counters at once
	if got, pulses := row().traffic.Text, row().ind.Pulses; got != "in 132 B · out 32 B" || pulses != 1 {
		t.Errorf("a keepalive arriving: %q, %d pulses; want the new counts and one pulse", got, pulses)
	}
	step(time.Second, rep("stale", 132, 32)) // a state change: at once, no pulse
	if got, pulses := row().ind.words.Text, row().ind.Pulses; got != "No contact" || pulses != 1 {
		t.Errorf("a state change: %q, %d pulses", got, pulses)
	}
	step(time.Second, rep("stale", 132, 64)) // sent only: wait
	if got := row().traffic.Text; got != "in 132 B · out 32 B" {
		t.Errorf("packets sent 1 s after a redraw were drawn at once: %q", got)
	}
	step(9*time.Second, rep("stale", 132, 96)) // the beat: the counters, no pulse
	if got, pulses := row().traffic.Text, row().ind.Pulses; got != "in 132 B · out 96 B" || pulses != 1 {
		t.Errorf("on the beat: %q, %d pulses; want the new count and no second pulse", got, pulses)
	}
}

// With PulseEvery, packets arriving pulse their dots at most once per
// PulseEvery: a peer whose packet comes sooner after the last pulse
// pulses with the first report after that, together with the others.
func TestPulseEvery(t *testing.T) {
	fa := test.NewTempApp(t)
	f := fakectl.New()
	f.Silent = true
	clock := t0
	a := New(fa, Options{Connect: func() (control.Controller, error) { return f, nil }, Now: func() time.Time { return clock },
		NoAnimation: true, Sync: true, LiveEvery: 15 * time.Second, PulseEvery: 5 * time.Second})
	t.Cleanup(a.Stop)
	rx := map[string]int64{"office": 100, "lab": 100}
	rep := func() *control.Report {
		hs := t0.Add(-time.Minute)
		r := &control.Report{}
		for _, name := range []string{"lab", "office"} {
			lr := t0.Add(time.Duration(rx[name]) * time.Millisecond)
			r.Tunnels = append(r.Tunnels, control.TunnelStatus{Name: name, Up: true, Warnings: []control.Warning{},
				Peers: []control.PeerStatus{{Name: "bob", PublicKey: "K" + name, State: "connected", LastHandshake: &hs, LastReceive: &lr, RxBytes: rx[name]}}})
		}
		return r
	}
	pulses := func(name string) int { return a.list.cards.get(name).peers.get("K" + name).ind.Pulses }
	step := func(d time.Duration) { clock = clock.Add(d); a.Apply(rep()) }
	step(0)
	step(time.Second) // nothing moved
	if p, q := pulses("office"), pulses("lab"); p != 0 || q != 0 {
		t.Fatalf("no packet yet: %d and %d pulses", p, q)
	}
	rx["office"] += 32
	step(time.Second) // office's keepalive: at once
	if p := pulses("office"); p != 1 {
		t.Fatalf("office's packet: %d pulses, want 1 at once", p)
	}
	rx["lab"] += 32
	step(2 * time.Second) // lab's, 2 s after the pulse: waits
	if p := pulses("lab"); p != 0 {
		t.Errorf("lab's packet 2 s after a pulse: %d pulses, want it to wait", p)
	}
	if got := a.list.cards.get("lab").peers.get("Klab").traffic.Text; got != "in 100 B · out 0 B" {
		t.Errorf("lab's counters drawn before its pulse: %q", got)
	}
	step(2 * time.Second) // 4 s after the pulse: still waits
	if p := pulses("lab"); p != 0 {
		t.Errorf("lab's packet 4 s after a pulse: %d pulses, want it to wait", p)
	}
	rx["office"] += 32
	step(time.Second) // 5 s: both pulse in one draw
	if p, q := pulses("office"), pulses("lab"); p != 2 || q != 1 {
		t.Errorf("5 s after the first pulse: office %d, lab %d pulses; want 2 and 1", p, q)
	}
	if got := a.list.cards.get("lab").peers.get("Klab").traffic.Text; got != "in 132 B · out 0 B" {
		t.Errorf("lab's counters with its pulse: %q", got)
	}
}

// The peer row says the path in words.
func TestPeerRowPath(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	r := newPeerRow(a, "office")
	r.Update(control.PeerStatus{Name: "bob", PublicKey: "K", State: "connected", Path: "ipv6", Endpoint: "[2001:db8::5]:51820", Address: "10.77.1.2/32"}, t0)
	if got, want := r.endpoint.Text, "direct over IPv6 · endpoint [2001:db8::5]:51820 · tunnel address 10.77.1.2"; got != want {
		t.Errorf("row %q, want %q", got, want)
	}
	r.Update(control.PeerStatus{Name: "bob", PublicKey: "K", State: "connecting", Address: "10.77.1.2/32"}, t0)
	if got := r.endpoint.Text; strings.Contains(got, "direct") {
		t.Errorf("row %q of a peer not connected names a path", got)
	}
}
