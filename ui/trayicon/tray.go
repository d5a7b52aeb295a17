// Package trayicon is WG Punch's tray-only process: the tray icon, its menu
// and the notifications, fed by the daemon's watch stream, without Fyne's
// driver. Nothing here runs unless a report arrives or the user clicks, so
// an idle tray costs about what a sleeping process does. The window is
// another process (wgpunch --window) that Options.Open starts or raises.
//
// Tray holds the logic and is tested with a fake Menu; systray.go draws it
// with fyne.io/systray (StatusNotifierItem over D-Bus on Linux, the
// notification area on Windows).
package trayicon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui"
)

// Menu is where the tray is drawn. Calls come from one goroutine at a time.
type Menu interface {
	// SetIcon shows the state icon.
	SetIcon(ui.Overall)
	// SetMenu replaces the menu; clicking an entry calls Tray.Click.
	SetMenu([]ui.TrayEntry)
}

// Options configure a Tray.
type Options struct {
	// Controller is the daemon's client.
	Controller control.Controller
	// Menu draws the tray.
	Menu Menu
	// Open opens or raises the window with a request (show, an address
	// update, the wizard). It may block briefly and is called off the
	// watch goroutine.
	Open func(instance.Request)
	// Quit ends the tray (and the window).
	Quit func()
	// Notify shows a desktop notification whose click sends click to
	// Open (on Windows through a wgpunch: link, see notify_windows.go);
	// nil: no notifications (macOS, or no notification service).
	Notify func(n ui.Notice, click instance.Request)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Retry is how long to wait before following the daemon again after
	// the watch stream ends; default 3 s.
	Retry time.Duration
	// LazyAges keeps the ages in the menu ("connected, 10 s ago") as they
	// were until MenuOpened, so an idle tray does not rewrite its menu every
	// 10 s for nobody; states and items still change at once. For tray
	// hosts that say when the menu opens (dbusmenu's "opened" event).
	LazyAges bool
	// Settled, if set, is called once, after Watch has drawn the first
	// report of the watch stream (or found no daemon): the tray's start-up
	// is over and from then on it only idles until something changes.
	Settled func()
}

// Tray is the tray's state: the last report and the model drawn from it.
type Tray struct {
	opts Options

	mu    sync.Mutex
	last  *control.Report
	model ui.TrayModel
	drawn bool
	ageAt time.Time // with LazyAges: the time the menu's ages are told from

	settled bool // Options.Settled was called (only Watch's goroutine)
}

// settle calls Options.Settled the first time; only from Watch.
func (t *Tray) settle() {
	if t.settled {
		return
	}
	t.settled = true
	if t.opts.Settled != nil {
		t.opts.Settled()
	}
}

// New returns a Tray; nothing is drawn until Apply or Watch.
func New(o Options) *Tray {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retry <= 0 {
		o.Retry = 3 * time.Second
	}
	return &Tray{opts: o}
}

// Apply draws a report (nil: the daemon cannot be reached) and sends the
// notifications its changes call for. The menu is rebuilt and the icon
// set only when what they show changed.
func (t *Tray) Apply(r *control.Report) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.opts.Notify != nil {
		for _, n := range ui.Transitions(t.last, r) {
			t.opts.Notify(n, instance.Request{Action: instance.ActionShow})
		}
	}
	if r != nil {
		t.last = r
	}
	t.draw(r)
}

// MenuOpened brings the menu's ages up to date (the user is looking).
func (t *Tray) MenuOpened() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ageAt = t.opts.Now()
	if t.drawn && t.last != nil {
		t.draw(t.last)
	}
}

// draw shows r (nil: no daemon); t.mu is held.
func (t *Tray) draw(r *control.Report) {
	now := t.opts.Now()
	if t.opts.LazyAges {
		if t.ageAt.IsZero() {
			t.ageAt = now
		}
		now = t.ageAt
	}
	m := ui.BuildTray(r, now)
	if t.drawn && ui.TrayEqual(m, t.model) {
		return
	}
	if !t.drawn || m.Overall != t.model.Overall {
		t.opts.Menu.SetIcon(m.Overall)
	}
	t.model, t.drawn = m, true
	t.opts.Menu.SetMenu(ui.TrayEntries(m))
}

// Model is what the tray shows now.
func (t *Tray) Model() ui.TrayModel {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.model
}

// Click does what a menu entry says. Toggling a tunnel runs in the
// background; a failure is told in a notification.
func (t *Tray) Click(e ui.TrayEntry) {
	switch e.Kind {
	case ui.EntryTunnel:
		go t.toggle(e.Item.Tunnel, !e.Item.Checked)
	case ui.EntryUpdate:
		go t.opts.Open(instance.Request{Action: instance.ActionUpdate, Peer: e.Item.Peer, Update: e.Item.Update})
	case ui.EntryOpen:
		go t.opts.Open(instance.Request{Action: instance.ActionShow})
	case ui.EntryLink:
		go t.opts.Open(instance.Request{Action: instance.ActionWizard})
	case ui.EntryQuit:
		t.opts.Quit()
	}
}

func (t *Tray) toggle(name string, on bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctl := t.opts.Controller
	var err error
	verb := "connect"
	if on {
		err = ctl.Up(ctx, name)
	} else {
		verb = "disconnect"
		err = ctl.Down(ctx, name)
	}
	if err != nil && t.opts.Notify != nil {
		msg := err.Error()
		if errors.Is(err, control.ErrNeedDaemon) {
			msg = "Connecting needs the WG Punch background service. Start it with: sudo systemctl start wgpunch"
		}
		t.opts.Notify(ui.Notice{Title: "Could not " + verb + " " + name, Body: msg}, instance.Request{Action: instance.ActionShow})
	}
	if r, err := ctl.Status(ctx, ""); err == nil {
		t.Apply(r)
	}
}

// Watch follows the daemon's watch stream until ctx ends, drawing each
// report; when the stream ends it shows the problem icon and follows
// again after Options.Retry.
func (t *Tray) Watch(ctx context.Context) {
	ctl := t.opts.Controller
	for ctx.Err() == nil {
		if r, err := ctl.Status(ctx, ""); err == nil {
			t.Apply(r)
		}
		ch, err := ctl.Watch(ctx)
		if err == nil {
			for r := range ch {
				t.Apply(r)
				t.settle()
			}
		}
		if ctx.Err() != nil {
			return
		}
		t.Apply(nil)
		t.settle()
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.opts.Retry):
		}
	}
}
