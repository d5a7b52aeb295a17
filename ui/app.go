// Package ui is WG Punch's window, link wizard and tray. It talks only to a
// control.Controller and never imports a Fyne driver, so it is tested
// headless with fyne.io/fyne/v2/test.
package ui

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// Options configure the UI.
type Options struct {
	// Connect returns the controller: the daemon's client or an in-process
	// service. It is called again by the Retry button.
	Connect func() (control.Controller, error)
	// Icons for the window and tray; zero fields get placeholders.
	Icons Icons
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// NoAnimation turns off pulses (golden tests).
	NoAnimation bool
	// Sync runs controller calls inline instead of on goroutines, so
	// headless tests are deterministic.
	Sync bool
	// StartInTray starts with only the tray icon (wgpunch --tray, used at
	// login); the tray's "Open WG Punch" shows the window. Without a tray
	// the window shows anyway.
	StartInTray bool
	// HasTray says whether the desktop shows tray icons at all; nil means
	// yes. It may block a few seconds (a panel starting with the session)
	// and runs off the Fyne goroutine. Used only with StartInTray.
	HasTray func() bool
	// WindowOnly is the window process of the two-process app
	// (wgpunch --window, started by the tray process): no tray icon and
	// no notifications here (the tray process has both), and closing the
	// window ends the process, freeing the GL driver.
	WindowOnly bool
	// LiveEvery, when set, is how often the window shows changes that are
	// only traffic counters and the ages of handshakes; a packet arriving
	// (the dot's pulse, drawn with the counters in the same frame) and
	// anything else (a state, an error, a warning, a tunnel or peer coming
	// or going) show at once. Each redraw of the whole window costs a
	// frame, which in software OpenGL is the window's idle cost (issue
	// 14). 0: every report is drawn (tests).
	LiveEvery time.Duration
	// PulseEvery, with LiveEvery, is the shortest time between two frames
	// that pulse dots: a packet arriving sooner after the last pulse
	// pulses its dot with the first report after that, together with
	// every other dot that had packets meanwhile. 0: a packet pulses at
	// once.
	PulseEvery time.Duration
}

// App is the running UI: main window, tray and notifications.
type App struct {
	fyne    fyne.App
	opts    Options
	icons   Icons
	now     func() time.Time
	animate bool

	win    fyne.Window
	list   *tunnelList
	status *widget.Label
	// statusBox shows status with a Retry button (service missing or lost).
	statusBox *fyne.Container
	content   *fyne.Container

	mu     sync.Mutex
	ctl    control.Controller
	cancel context.CancelFunc

	hidden    bool // the main window is closed to the tray
	shownOnce bool // show ran (tray's Open, wizard without service)
	last      *control.Report
	drawn     *control.Report // the last report the window drew
	drawnAt   time.Time
	pulsedAt  time.Time // when the window last drew packets arriving
	tray      TrayModel
	trayOK    bool
	trayMenu  *fyne.Menu
	wizard    *wizardView
	settings  *settingsDialog // the last Settings dialog opened
}

// New builds the UI on a Fyne app; Start shows it.
func New(fa fyne.App, opts Options) *App {
	a := &App{fyne: fa, opts: opts, icons: opts.Icons.withDefaults(), now: opts.Now, animate: !opts.NoAnimation}
	if a.now == nil {
		a.now = time.Now
	}
	fa.SetIcon(a.icons.App)
	a.win = fa.NewWindow("WG Punch")
	a.win.SetIcon(a.icons.App)
	a.win.Resize(fyne.NewSize(900, 600))
	a.list = newTunnelList(a)
	a.status = widget.NewLabel("")
	a.status.Wrapping = fyne.TextWrapWord
	a.content = container.NewStack()
	a.win.SetContent(a.content)
	a.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierControl}, func(fyne.Shortcut) { a.ShowWizard() })
	return a
}

// Window is the main window.
func (a *App) Window() fyne.Window { return a.win }

// Controller is the current controller (nil before a successful connect).
func (a *App) Controller() control.Controller {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctl
}

// Start connects to the controller and shows the main window (or the
// "service not running" screen). With a desktop app it also sets up the tray
// and keeps running in it when the window is closed; with
// Options.StartInTray it starts there, unless Options.HasTray says there is
// no tray to open the window from.
func (a *App) Start() {
	if a.opts.WindowOnly {
		a.win.SetMaster()
		a.connect()
		a.win.Show()
		return
	}
	if d, ok := a.fyne.(desktop.App); ok {
		a.trayOK = true
		d.SetSystemTrayIcon(a.icons.Off)
		a.applyTray(nil, true)
		a.win.SetCloseIntercept(a.hide)
	}
	inTray := a.trayOK && a.opts.StartInTray
	if inTray {
		a.hidden = true // before connect: a window in the tray is not drawn
	}
	a.connect()
	if !inTray {
		a.win.Show()
		return
	}
	if has := a.opts.HasTray; has != nil {
		a.spawn(func() {
			if !has() {
				fyne.Do(a.showIfNeverShown)
			}
		})
	}
}

// showIfNeverShown opens the window when no tray turned up, unless the
// user opened it (or opened and closed it) meanwhile.
func (a *App) showIfNeverShown() {
	if a.hidden && !a.shownOnce {
		a.show()
	}
}

// ShowWindow opens or raises the window (another start asked for it).
func (a *App) ShowWindow() { a.show() }

// ShowAddressUpdate opens the window showing an address update to send
// to peer (the tray's "Send … your new internet address" item).
func (a *App) ShowAddressUpdate(peer, update string) {
	a.show()
	a.showUpdate(control.Warning{Code: "public-address-changed", Peer: peer, Update: update})
}

// hide closes the window to the tray.
func (a *App) hide() {
	a.hidden = true
	a.win.Hide()
}

// show opens the window again, up to date.
func (a *App) show() {
	a.shownOnce = true
	if a.hidden {
		a.hidden = false
		a.list.Update(a.last, a.now())
		a.drawn, a.drawnAt = a.last, a.now()
	}
	a.win.Show()
	a.win.RequestFocus()
}

// Stop ends the watch loop.
func (a *App) Stop() {
	a.mu.Lock()
	if a.cancel != nil {
		a.cancel()
	}
	a.mu.Unlock()
}

func (a *App) connect() {
	ctl, err := a.opts.Connect()
	if err != nil {
		a.content.Objects = []fyne.CanvasObject{a.noService(err)}
		a.content.Refresh()
		return
	}
	a.mu.Lock()
	a.ctl = ctl
	a.mu.Unlock()
	a.content.Objects = []fyne.CanvasObject{a.mainScreen()}
	a.content.Refresh()
	if svc, local := ctl.(*control.Service); local && !svc.HasEngine() {
		// Without the daemon tunnels can be made and edited but not connected.
		a.showStatus("The WG Punch service is not running: you can create and edit links, " +
			"but connecting them needs it. " + startHelp)
	}
	if r, err := ctl.Status(context.Background(), ""); err == nil {
		a.Apply(r)
	}
	a.watch(ctl)
}

// noService is the screen shown when the controller cannot be reached.
func (a *App) noService(err error) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("WG Punch cannot reach its service", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	why := widget.NewLabel("Reason: " + err.Error())
	why.Wrapping = fyne.TextWrapWord
	how := widget.NewLabel("WG Punch needs its background service to create and connect tunnels. Start it, then press Retry:\n\n" +
		"    sudo systemctl start wgpunch\n\n" +
		"or, without systemd, in a terminal:\n\n" +
		"    sudo wgpunch daemon")
	how.Wrapping = fyne.TextWrapWord
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { a.connect() })
	retry.Importance = widget.HighImportance
	return container.NewPadded(container.NewVBox(
		container.NewHBox(widget.NewIcon(theme.ErrorIcon()), title), why, how, container.NewHBox(retry)))
}

// startHelp says how to start the privileged service.
const startHelp = "Start it, then try again:\n\n" +
	"    sudo systemctl start wgpunch\n\n" +
	"or, without systemd, in a terminal:\n\n" +
	"    sudo wgpunch daemon"

// showNeedDaemon explains that connecting needs the service.
func (a *App) showNeedDaemon(name string) {
	dialog.ShowInformation("The WG Punch service is not running",
		"Connecting "+name+" needs the WG Punch background service, which may create network interfaces. "+startHelp, a.win)
}

func (a *App) mainScreen() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Your links", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	link := widget.NewButtonWithIcon("Link another computer…", theme.ContentAddIcon(), a.ShowWizard)
	link.Importance = widget.HighImportance
	settings := widget.NewButtonWithIcon("Settings…", theme.SettingsIcon(), a.ShowSettings)
	paste := widget.NewButtonWithIcon("Paste update…", theme.ContentPasteIcon(), a.pasteUpdate)
	top := container.NewBorder(nil, nil, title, container.NewHBox(settings, paste, link))
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { a.connect() })
	a.statusBox = container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), container.NewCenter(retry), a.status)
	a.statusBox.Hide()
	return container.NewBorder(container.NewVBox(top, a.statusBox), nil, nil, nil, container.NewVScroll(container.NewPadded(a.list.box)))
}

// watch follows Controller.Watch; when it ends unexpectedly it says so and
// reconnects every few seconds.
func (a *App) watch(ctl control.Controller) {
	a.mu.Lock()
	if a.cancel != nil {
		a.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.mu.Unlock()
	go func() {
		for ctx.Err() == nil {
			ch, err := ctl.Watch(ctx)
			if svc, local := ctl.(*control.Service); err == nil && (!local || svc.HasEngine()) {
				fyne.Do(func() { a.showStatus("") })
			}
			if err == nil {
				for r := range ch {
					fyne.Do(func() { a.Apply(r) })
				}
			}
			if ctx.Err() != nil {
				return
			}
			msg := "Lost contact with the WG Punch service; retrying…"
			if err != nil {
				msg = "Cannot follow tunnel status (" + err.Error() + "); retrying…"
			}
			fyne.Do(func() { a.showStatus(msg) })
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}()
}

func (a *App) showStatus(msg string) {
	if a.statusBox == nil {
		return
	}
	if msg == "" {
		a.statusBox.Hide()
		return
	}
	a.status.SetText(msg)
	a.status.Show()
	a.statusBox.Show()
}

// Apply shows a report everywhere: window, tray, notifications, wizard.
// It must run on the Fyne goroutine (Watch's goroutine uses fyne.Do).
func (a *App) Apply(r *control.Report) {
	now := a.now()
	if !a.opts.WindowOnly {
		for _, n := range Transitions(a.last, r) {
			a.fyne.SendNotification(fyne.NewNotification(n.Title, n.Body))
		}
	}
	a.last = r
	if !a.hidden && !a.onlyLiveness(r, now) { // a window in the tray is not redrawn: cheap idle
		if a.drawn != nil && r != nil && receiveMoved(a.drawn, r) {
			a.pulsedAt = now
		}
		a.list.Update(r, now)
		a.drawn, a.drawnAt = r, now
	}
	a.applyTray(r, false)
	if a.wizard != nil {
		a.wizard.onReport(r)
	}
}

// onlyLiveness reports whether r may wait: it differs from what the
// window shows only in traffic counters and packets arriving, and neither
// the next Options.LiveEvery beat nor, if a packet arrived, the next
// Options.PulseEvery slot is due.
func (a *App) onlyLiveness(r *control.Report, now time.Time) bool {
	if a.opts.LiveEvery <= 0 || a.drawn == nil || r == nil || now.Sub(a.drawnAt) >= a.opts.LiveEvery {
		return false
	}
	if !reflect.DeepEqual(withoutLiveness(a.drawn), withoutLiveness(r)) {
		return false
	}
	return !receiveMoved(a.drawn, r) || now.Sub(a.pulsedAt) < a.opts.PulseEvery
}

// receiveMoved reports whether a peer in r received a packet since old:
// its last-receive time is set and differs from old's for that peer.
func receiveMoved(old, r *control.Report) bool {
	was := map[[2]string]time.Time{}
	for _, t := range old.Tunnels {
		for _, p := range t.Peers {
			if p.LastReceive != nil {
				was[[2]string{t.Name, p.PublicKey}] = *p.LastReceive
			}
		}
	}
	for _, t := range r.Tunnels {
		for _, p := range t.Peers {
			if p.LastReceive != nil && !p.LastReceive.Equal(was[[2]string{t.Name, p.PublicKey}]) {
				return true
			}
		}
	}
	return false
}

// withoutLiveness is a copy of r without the fields that change with every
// packet.
func withoutLiveness(r *control.Report) control.Report {
	c := *r
	c.Tunnels = make([]control.TunnelStatus, len(r.Tunnels))
	for i, t := range r.Tunnels {
		t.Peers = append([]control.PeerStatus(nil), t.Peers...)
		for j := range t.Peers {
			t.Peers[j].RxBytes, t.Peers[j].TxBytes, t.Peers[j].LastReceive = 0, 0, nil
		}
		if len(t.Warnings) == 0 {
			t.Warnings = nil
		}
		c.Tunnels[i] = t
	}
	return c
}

// applyTray rebuilds the tray menu only when its model changed.
func (a *App) applyTray(r *control.Report, force bool) {
	if !a.trayOK {
		return
	}
	m := BuildTray(r, a.now())
	if r == nil && force {
		m = TrayModel{Overall: OverallOff}
	}
	if !force && trayEqual(m, a.tray) {
		return
	}
	d := a.fyne.(desktop.App)
	if force || m.Overall != a.tray.Overall {
		d.SetSystemTrayIcon(a.icons.ForOverall(m.Overall))
	}
	a.tray = m
	a.trayMenu = a.TrayMenu(m)
	d.SetSystemTrayMenu(a.trayMenu)
}

func trayEqual(a, b TrayModel) bool {
	if a.Overall != b.Overall || len(a.Items) != len(b.Items) {
		return false
	}
	for i := range a.Items {
		if a.Items[i] != b.Items[i] {
			return false
		}
	}
	return true
}

// TrayMenu turns a tray model into a Fyne menu: one check item per tunnel
// (clicking toggles it), an item per address update to send (clicking
// opens the window with the update), then Open, Link, Quit.
func (a *App) TrayMenu(m TrayModel) *fyne.Menu {
	var items []*fyne.MenuItem
	for _, e := range TrayEntries(m) {
		e := e
		var mi *fyne.MenuItem
		switch e.Kind {
		case EntrySeparator:
			mi = fyne.NewMenuItemSeparator()
		case EntryUpdate:
			mi = fyne.NewMenuItem(e.Label, func() { a.ShowAddressUpdate(e.Item.Peer, e.Item.Update) })
		case EntryTunnel:
			mi = fyne.NewMenuItem(e.Label, func() { a.setUp(e.Item.Tunnel, !e.Item.Checked, nil) })
			mi.Checked = e.Checked
		case EntryOpen:
			mi = fyne.NewMenuItem(e.Label, a.show)
		case EntryLink:
			mi = fyne.NewMenuItem(e.Label, a.ShowWizard)
		case EntryQuit:
			mi = fyne.NewMenuItem(e.Label, func() { a.Stop(); a.fyne.Quit() })
			mi.IsQuit = true
		}
		items = append(items, mi)
	}
	return fyne.NewMenu("WG Punch", items...)
}

// setUp connects or disconnects a tunnel in the background; done (may be
// nil) runs on the Fyne goroutine afterwards.
func (a *App) setUp(name string, on bool, done func()) {
	ctl := a.Controller()
	if ctl == nil {
		return
	}
	a.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if on {
			err = ctl.Up(ctx, name)
		} else {
			err = ctl.Down(ctx, name)
		}
		r, _ := ctl.Status(ctx, "")
		fyne.Do(func() {
			if done != nil {
				done()
			}
			if errors.Is(err, control.ErrNeedDaemon) {
				a.showNeedDaemon(name)
			} else if err != nil {
				verb := "connect"
				if !on {
					verb = "disconnect"
				}
				a.showError(errors.New("Could not " + verb + " " + name + ": " + err.Error()))
			}
			if r != nil {
				a.Apply(r)
			}
		})
	})
}

// spawn runs f off the UI goroutine (inline with Options.Sync).
func (a *App) spawn(f func()) {
	if a.opts.Sync {
		f()
		return
	}
	go f()
}

func (a *App) refresh() {
	ctl := a.Controller()
	if ctl == nil {
		return
	}
	a.spawn(func() {
		r, err := ctl.Status(context.Background(), "")
		if err == nil {
			fyne.Do(func() { a.Apply(r) })
		}
	})
}
