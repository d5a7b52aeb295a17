package trayicon

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui"
)

// fakeMenu records what the tray drew.
type fakeMenu struct {
	mu      sync.Mutex
	icons   []ui.Overall
	menus   [][]ui.TrayEntry
	changed chan struct{}
}

func newFakeMenu() *fakeMenu { return &fakeMenu{changed: make(chan struct{}, 100)} }

func (f *fakeMenu) SetIcon(o ui.Overall) {
	f.mu.Lock()
	f.icons = append(f.icons, o)
	f.mu.Unlock()
}

func (f *fakeMenu) SetMenu(e []ui.TrayEntry) {
	f.mu.Lock()
	f.menus = append(f.menus, e)
	f.mu.Unlock()
	f.changed <- struct{}{}
}

func (f *fakeMenu) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.icons), len(f.menus)
}

func (f *fakeMenu) lastIcon() ui.Overall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.icons[len(f.icons)-1]
}

// fakeCtl is a controller with only what the tray calls.
type fakeCtl struct {
	control.Controller
	mu     sync.Mutex
	ups    []string
	upErr  error
	status *control.Report
	watch  chan *control.Report
}

func (c *fakeCtl) Up(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ups = append(c.ups, "up "+name)
	return c.upErr
}

func (c *fakeCtl) Down(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ups = append(c.ups, "down "+name)
	return nil
}

func (c *fakeCtl) Status(ctx context.Context, name string) (*control.Report, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == nil {
		return nil, errors.New("no status")
	}
	return c.status, nil
}

func (c *fakeCtl) Watch(ctx context.Context) (<-chan *control.Report, error) {
	return c.watch, nil
}

var now = time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := now.Add(-d); return &t }

func report(state control.State) *control.Report {
	return &control.Report{Tunnels: []control.TunnelStatus{{Name: "office", Up: true,
		Peers: []control.PeerStatus{{Name: "bob", PublicKey: "K", State: state, LastHandshake: at(3 * time.Second)}}}}}
}

type notice struct {
	N     ui.Notice
	Click instance.Request
}

func TestApplyDrawsOnlyChanges(t *testing.T) {
	menu := newFakeMenu()
	var notes []notice
	tr := New(Options{Controller: &fakeCtl{}, Menu: menu, Now: func() time.Time { return now },
		Notify: func(n ui.Notice, c instance.Request) { notes = append(notes, notice{n, c}) }})
	tr.Apply(report("connecting"))
	tr.Apply(report("connecting")) // the same: nothing redrawn
	if i, m := menu.counts(); i != 1 || m != 1 {
		t.Fatalf("after two equal reports: %d icons, %d menus set; want 1, 1", i, m)
	}
	tr.Apply(report("connected"))
	if i, m := menu.counts(); i != 2 || m != 2 || menu.lastIcon() != ui.OverallConnected {
		t.Fatalf("after connecting: %d icons (last %v), %d menus; want 2 (connected), 2", i, menu.lastIcon(), m)
	}
	want := []notice{{ui.Notice{Title: "office connected", Body: "Linked with bob."}, instance.Request{Action: instance.ActionShow}}}
	if diff := cmp.Diff(want, notes); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	if got := tr.Model().Items[0].Label; got != "office: connected, 3 s ago" {
		t.Errorf("tray line %q", got)
	}
	// The daemon goes away: the problem icon, the menu keeps Open and Quit.
	tr.Apply(nil)
	if menu.lastIcon() != ui.OverallProblem {
		t.Errorf("icon without the daemon: %v, want problem", menu.lastIcon())
	}
}

func TestClick(t *testing.T) {
	ctl := &fakeCtl{upErr: errors.New("port 51820 is in use"), status: report("connected")}
	opened := make(chan instance.Request, 4)
	noted := make(chan ui.Notice, 4)
	quit := false
	tr := New(Options{Controller: ctl, Menu: newFakeMenu(), Now: func() time.Time { return now },
		Open:   func(r instance.Request) { opened <- r },
		Quit:   func() { quit = true },
		Notify: func(n ui.Notice, _ instance.Request) { noted <- n }})
	tr.Click(ui.TrayEntry{Kind: ui.EntryTunnel, Item: ui.TrayItem{Tunnel: "lab", Checked: false}})
	select {
	case n := <-noted:
		if n.Title != "Could not connect lab" || n.Body != "port 51820 is in use" {
			t.Errorf("failure notice %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a failed connect was not told")
	}
	ctl.mu.Lock()
	if diff := cmp.Diff([]string{"up lab"}, ctl.ups); diff != "" {
		t.Errorf("controller calls (-want +got):\n%s", diff)
	}
	ctl.mu.Unlock()

	tr.Click(ui.TrayEntry{Kind: ui.EntryUpdate, Item: ui.TrayItem{Tunnel: "office", Peer: "bob", Update: "WGP1U-abc"}})
	if r := <-opened; r != (instance.Request{Action: instance.ActionUpdate, Peer: "bob", Update: "WGP1U-abc"}) {
		t.Errorf("update click opened %+v", r)
	}
	tr.Click(ui.TrayEntry{Kind: ui.EntryLink})
	if r := <-opened; r.Action != instance.ActionWizard {
		t.Errorf("link click opened %+v", r)
	}
	tr.Click(ui.TrayEntry{Kind: ui.EntryOpen})
	if r := <-opened; r.Action != instance.ActionShow {
		t.Errorf("open click opened %+v", r)
	}
	tr.Click(ui.TrayEntry{Kind: ui.EntryQuit})
	if !quit {
		t.Error("Quit did not quit")
	}
}

// Watch draws each report of the stream and the problem icon when it ends.
func TestWatch(t *testing.T) {
	ctl := &fakeCtl{watch: make(chan *control.Report)}
	menu := newFakeMenu()
	tr := New(Options{Controller: ctl, Menu: menu, Now: func() time.Time { return now }, Retry: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tr.Watch(ctx)
	ctl.watch <- report("connected")
	<-menu.changed
	if menu.lastIcon() != ui.OverallConnected {
		t.Fatalf("icon %v, want connected", menu.lastIcon())
	}
	close(ctl.watch)
	<-menu.changed
	if menu.lastIcon() != ui.OverallProblem {
		t.Fatalf("icon after the stream ended: %v, want problem", menu.lastIcon())
	}
}

func TestPNGICO(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 32, 32))); err != nil {
		t.Fatal(err)
	}
	png := buf.Bytes()
	ico := pngICO(png)
	if len(ico) != 22+len(png) || ico[2] != 1 || ico[4] != 1 || ico[6] != 32 || ico[7] != 32 || string(ico[22:]) != string(png) {
		t.Fatalf("ico header % x", ico[:22])
	}
}

func TestSameShape(t *testing.T) {
	office := func(label string, on bool) ui.TrayEntry {
		return ui.TrayEntry{Kind: ui.EntryTunnel, Label: label, Checkable: true, Checked: on, Item: ui.TrayItem{Tunnel: "office"}}
	}
	open := ui.TrayEntry{Kind: ui.EntryOpen, Label: "Open WG Punch"}
	a := []ui.TrayEntry{office("office: connected, 10 s ago", true), open}
	if !sameShape(a, []ui.TrayEntry{office("office: off", false), open}) {
		t.Error("a new label and tick changed the shape")
	}
	update := ui.TrayEntry{Kind: ui.EntryUpdate, Label: "Send bob…", Item: ui.TrayItem{Tunnel: "office"}}
	if sameShape(a, []ui.TrayEntry{office("x", true), update, open}) {
		t.Error("an added update entry kept the shape")
	}
	lab := office("lab: off", false)
	lab.Item.Tunnel = "lab"
	if sameShape(a, []ui.TrayEntry{lab, open}) {
		t.Error("another tunnel in the same place kept the shape")
	}
}

// With LazyAges an idle tray keeps its menu until it is opened; a state
// change still shows at once.
func TestLazyAges(t *testing.T) {
	menu := newFakeMenu()
	clock := now
	tr := New(Options{Controller: &fakeCtl{}, Menu: menu, Now: func() time.Time { return clock }, LazyAges: true})
	tr.Apply(report("connected"))
	clock = clock.Add(25 * time.Second)
	tr.Apply(report("connected"))
	if _, m := menu.counts(); m != 1 {
		t.Fatalf("25 idle seconds rewrote the menu (%d menus)", m)
	}
	tr.MenuOpened()
	if got := tr.Model().Items[0].Label; got != "office: connected, 20 s ago" {
		t.Errorf("after the menu opened: %q", got)
	}
	tr.Apply(report("stale"))
	if menu.lastIcon() != ui.OverallProblem {
		t.Errorf("a state change waited for the menu to open: icon %v", menu.lastIcon())
	}
}
