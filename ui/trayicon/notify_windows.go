package trayicon

import (
	"fmt"
	"os"
	"sync"

	"git.sr.ht/~jackmordaunt/go-toast/wintoast"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/ui"
)

// Notifier shows Windows toasts through go-toast (the Windows Runtime's
// toast API, or PowerShell where that fails, as Fyne does). A click does
// not come back to this process: the toast launches a wgpunch: link
// (protocol activation), Windows starts wgpunch.exe with it through the
// URL protocol the installer registers, and that start asks the running
// app to open the window, as a second start does (cmd/trayapp). Without
// the registration (a build run from a folder) a click just closes the
// toast.
type Notifier struct {
	icon string

	mu     sync.Mutex
	queue  chan string // toast XML; shown one at a time off the caller
	closed bool
	done   chan struct{}
}

// NewNotifier records WG Punch as a toast sender for this user (the
// AppUserModelId key under HKCU, with icon, a PNG file path or ""). open is
// unused on Windows: clicks arrive as a new start (see Notifier).
func NewNotifier(icon string, open func(instance.Request)) (*Notifier, error) {
	if err := wintoast.SetAppData(wintoast.AppData{AppID: toastAppID, GUID: toastGUID, IconPath: icon}); err != nil {
		return nil, fmt.Errorf("notifications: register WG Punch for toasts: %w", err)
	}
	n := &Notifier{icon: icon, queue: make(chan string, 8), done: make(chan struct{})}
	go n.run()
	return n, nil
}

// run shows the queued toasts. A toast may take a second (PowerShell), so
// Notify never waits for it. The Windows Runtime's API comes first; where
// it fails (no such API, older Windows) PowerShell shows the same toast.
// The first failure of both is written to stderr; later ones are dropped,
// as a Linux desktop without a notification service shows none.
func (n *Notifier) run() {
	defer close(n.done)
	told := false
	for x := range n.queue {
		if n.isClosed() {
			continue // quitting: drop what is left
		}
		err := wintoast.Push(x)
		if err != nil {
			err = wintoast.Push(x, wintoast.PreferPowershell)
		}
		if err != nil && !told {
			told = true
			fmt.Fprintf(os.Stderr, "wgpunch: could not show a notification (later ones may still work): %v\n", err)
		}
	}
}

func (n *Notifier) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Notify shows a toast; clicking it opens the window on click (through
// the wgpunch: link instance.URI makes of it). When toasts pile up faster
// than Windows takes them, the extra ones are dropped.
func (n *Notifier) Notify(note ui.Notice, click instance.Request) {
	x := toastXML(note, click, n.icon)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	select {
	case n.queue <- x:
	default:
	}
}

// Close drops the toasts not shown yet and waits for the one being shown.
func (n *Notifier) Close() error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	<-n.done
	return nil
}
