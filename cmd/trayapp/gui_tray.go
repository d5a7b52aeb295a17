//go:build !nogui

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/wgpunch/wgpunch/assets"
	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/internal/locale"
	"github.com/wgpunch/wgpunch/internal/memtrim"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui"
	"github.com/wgpunch/wgpunch/ui/trayicon"
)

// The tray process tells the window process it starts what to show first
// (windowRequestEnv, an instance.Request in JSON) and that it is its
// parent (windowParentEnv): the window then ends when the tray's end of
// its stdin closes, so it never outlives the tray.
const (
	windowRequestEnv = "WGPUNCH_WINDOW_REQUEST"
	windowParentEnv  = "WGPUNCH_WINDOW_PARENT"
)

// runTray is the tray process: the icon, its menu and the notifications
// on fyne.io/systray and the daemon's watch stream, without Fyne's driver.
// It starts the window process when asked (the menu, a notification, a
// second start) and, unless --tray, once at start. Without a tray on the
// desktop the window shows anyway and closing it quits.
func runTray(g guiOptions, ctl control.Controller, srv *instance.Server) int {
	wsock, err := instance.Path("window", instanceKey(g))
	if err != nil {
		fmt.Fprintf(os.Stderr, "wgpunch: %v\n", err)
		return runOneProcess(g, srv)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wgpunch: find this program to start its window: %v\n", err)
		return runOneProcess(g, srv)
	}
	// It waits on sockets nearly all the time: one thread running Go code
	// and a small heap are plenty, and keep its memory near the floor.
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(20)
	debug.FreeOSMemory() // what the packages' start-up left
	var noTray atomic.Bool
	var stopMu sync.Mutex
	var stop func()
	quitEarly := false // quit came before the tray was up
	quit := func() {
		stopMu.Lock()
		s := stop
		if s == nil {
			quitEarly = true
		}
		stopMu.Unlock()
		if s != nil {
			s()
		}
	}
	w := &windowProc{exe: exe, args: append(append([]string(nil), g.Args...), "--window"), sock: wsock}
	w.exited = func() {
		if noTray.Load() {
			quit() // nothing left to open the window from
		}
	}
	opts := trayicon.Options{Controller: ctl, Open: w.open, Quit: w.quit, Settled: trimStartup}
	if n, err := trayicon.NewNotifier(notifyIcon(), w.open); err == nil {
		defer n.Close()
		opts.Notify = n.Notify
	}
	if srv != nil {
		go srv.Serve(func(r instance.Request) {
			if r.Action == instance.ActionQuit {
				quit()
				return
			}
			w.open(r)
		})
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; ok {
			quit()
		}
	}()
	icons := trayicon.Icons{Off: assets.TrayOffPNG, Connected: assets.TrayConnectedPNG,
		Connecting: assets.TrayConnectingPNG, Problem: assets.TrayProblemPNG}
	trayicon.Run(opts, icons, func(_ *trayicon.Tray, s func()) {
		stopMu.Lock()
		stop = s
		early := quitEarly
		stopMu.Unlock()
		if early {
			s()
			return
		}
		if !g.Tray {
			go w.open(instance.Request{Action: instance.ActionShow})
		}
		go func() {
			if hasTray() {
				return
			}
			noTray.Store(true)
			if g.Tray {
				w.open(instance.Request{Action: instance.ActionShow})
			} else if !w.running() {
				quit() // closed before we knew there is no tray
			}
		}()
	})
	signal.Stop(sig)
	close(sig)
	w.quit()
	return 0
}

// notifyIcon is a file with the app icon for notifications ("" if it
// cannot be written).
func notifyIcon() string {
	dir, err := instance.Dir()
	if err != nil {
		return ""
	}
	p := filepath.Join(dir, "wgpunch.png")
	if b, err := os.ReadFile(p); err == nil && string(b) == string(assets.AppIconPNG) {
		return p
	}
	if os.WriteFile(p, assets.AppIconPNG, 0o600) != nil {
		return ""
	}
	return p
}

// windowProc starts and asks the window process (wgpunch --window).
type windowProc struct {
	exe  string
	args []string
	sock string
	// exited runs when the window process ends.
	exited func()

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{} // closed when cmd ends
	stdin io.WriteCloser
}

// open shows r in the window: sent to the running window process, or to
// a new one.
func (w *windowProc) open(r instance.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd != nil {
		select {
		case <-w.done: // ended; its goroutine has not caught up yet
			w.cmd, w.stdin = nil, nil
		default:
		}
	}
	if w.cmd == nil {
		if err := w.start(r); err != nil {
			fmt.Fprintf(os.Stderr, "wgpunch: open the window: %v\n", err)
		}
		return
	}
	// Running, perhaps still starting: send it r once it listens.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := instance.Send(ctx, w.sock, r)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-w.done:
			// It ended meanwhile: a new one.
			if err := w.start(r); err != nil {
				fmt.Fprintf(os.Stderr, "wgpunch: open the window: %v\n", err)
			}
			return
		case <-time.After(100 * time.Millisecond): // only while a window starts
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "wgpunch: the window does not answer: %v\n", err)
			return
		}
	}
}

// start runs a window process showing r; w.mu is held.
func (w *windowProc) start(r instance.Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	cmd := exec.Command(w.exe, w.args...)
	cmd.Env = append(os.Environ(), windowRequestEnv+"="+string(b), windowParentEnv+"=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	w.cmd, w.done, w.stdin = cmd, done, stdin
	go func() {
		cmd.Wait()
		close(done) // first: open may be waiting on it with w.mu held
		w.mu.Lock()
		if w.cmd == cmd {
			w.cmd, w.stdin = nil, nil
		}
		w.mu.Unlock()
		if w.exited != nil {
			w.exited()
		}
	}()
	return nil
}

// running reports whether a window process runs.
func (w *windowProc) running() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cmd != nil
}

// quit closes the window process, if any, and waits for it to end.
func (w *windowProc) quit() {
	w.mu.Lock()
	cmd, done, stdin := w.cmd, w.done, w.stdin
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	instance.Send(ctx, w.sock, instance.Request{Action: instance.ActionQuit})
	cancel()
	stdin.Close() // and if it did not listen yet, the closed pipe ends it
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// runWindow is the window process (wgpunch --window): the Fyne window
// without a tray icon; closing it ends the process and frees the GL driver.
// It answers requests on its own instance socket, so the tray (and through
// it a second start) raises it instead of opening another.
func runWindow(g guiOptions) int {
	first := instance.Request{Action: instance.ActionShow}
	if s := os.Getenv(windowRequestEnv); s != "" {
		json.Unmarshal([]byte(s), &first)
	}
	parent := os.Getenv(windowParentEnv) == "1"
	os.Unsetenv(windowRequestEnv)
	os.Unsetenv(windowParentEnv)
	path, err := instance.Path("window", instanceKey(g))
	var srv *instance.Server
	if err == nil {
		srv, err = instance.Listen(path)
	}
	if errors.Is(err, instance.ErrRunning) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := instance.Send(ctx, path, first); err != nil {
			fmt.Fprintf(os.Stderr, "wgpunch: %v\n", err)
			return 1
		}
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "wgpunch: %v\n", err)
	}
	locale.Apply()
	a := app.NewWithID("io.github.wgpunch")
	u := ui.New(a, ui.Options{Connect: g.Connect, Icons: guiIcons(), WindowOnly: true, LiveEvery: liveEvery, PulseEvery: pulseEvery})
	if srv != nil {
		defer srv.Close()
		go srv.Serve(func(r instance.Request) { fyne.Do(func() { handleWindowRequest(a, u, r) }) })
	}
	if parent {
		go func() {
			io.Copy(io.Discard, os.Stdin) // returns when the tray process ends
			fyne.Do(func() { u.Stop(); a.Quit() })
		}()
	}
	if first.Action != instance.ActionShow {
		go fyne.Do(func() { handleWindowRequest(a, u, first) })
	}
	return runFyne(a, u)
}

// memtrimEnv set to 0 keeps the tray process's start-up mappings (to
// measure what trimStartup saves: BenchmarkGUI runs a second tray so).
const memtrimEnv = "WGPUNCH_MEMTRIM"

// trimStartup gives back the tray process's mappings of the binary's
// pages that its start-up touched (internal/memtrim): most of its RSS was
// the shared binary mapped in 2 MiB pieces, for packages (Fyne, GL, the
// engine) that this process does not run. A failure costs only memory.
func trimStartup() {
	if os.Getenv(memtrimEnv) == "0" {
		return
	}
	if _, err := memtrim.DropStartupMappings(); err != nil {
		fmt.Fprintf(os.Stderr, "wgpunch: %v\n", err)
	}
}
