package ui

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

func (a *App) showError(err error) { dialog.ShowError(err, a.win) }

// run calls f with the controller off the UI goroutine, then ok (on the UI
// goroutine) or an error dialog.
func (a *App) run(what string, f func(ctx context.Context, c control.Controller) error, ok func()) {
	ctl := a.Controller()
	if ctl == nil {
		return
	}
	a.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := f(ctx, ctl)
		fyne.Do(func() {
			if err != nil {
				a.showError(fmt.Errorf("%s: %w", what, err))
				return
			}
			if ok != nil {
				ok()
			}
			a.refresh()
		})
	})
}

func (a *App) setPort(name string, port uint16) {
	a.run(fmt.Sprintf("Could not change the port of %s", name), func(ctx context.Context, c control.Controller) error {
		return c.SetListenPort(ctx, name, port)
	}, nil)
}

// editTunnel edits the name and the listen port.
func (a *App) editTunnel(name string) {
	port := ""
	if a.last != nil {
		for _, t := range a.last.Tunnels {
			if t.Name == name {
				port = fmt.Sprint(t.ListenPort)
			}
		}
	}
	nameEntry := widget.NewEntry()
	nameEntry.SetText(name)
	nameEntry.Validator = ValidateTunnelName
	portEntry := widget.NewEntry()
	portEntry.SetText(port)
	portEntry.Validator = func(s string) error { _, err := ParsePort(s); return err }
	items := []*widget.FormItem{
		widget.NewFormItem("Name", nameEntry),
		widget.NewFormItem("Listen port", portEntry),
	}
	dialog.ShowForm("Edit "+name, "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		newName := nameEntry.Text
		p, _ := ParsePort(portEntry.Text)
		a.run("Could not save "+name, func(ctx context.Context, c control.Controller) error {
			if port != fmt.Sprint(p) {
				if err := c.SetListenPort(ctx, name, p); err != nil {
					return err
				}
			}
			if newName != name {
				return c.Rename(ctx, name, newName)
			}
			return nil
		}, nil)
	}, a.win)
}

// exportTunnel saves a wg-quick file without the private key.
func (a *App) exportTunnel(name string) {
	ctl := a.Controller()
	if ctl == nil {
		return
	}
	data, err := ctl.Export(context.Background(), name, false)
	if err != nil {
		a.showError(fmt.Errorf("Could not export %s: %w", name, err))
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if _, err := w.Write(data); err != nil {
			a.showError(fmt.Errorf("Could not write %s: %w", w.URI().Path(), err))
		}
	}, a.win)
	d.SetFileName(name + ".conf")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".conf"}))
	d.Show()
}

// removeTunnel deletes a tunnel after confirmation.
func (a *App) removeTunnel(name string) {
	dialog.ShowConfirm("Remove "+name+"?",
		fmt.Sprintf("This disconnects %s and deletes its keys and settings from this computer. "+
			"To link again you will need a new invite. Remove it?", name),
		func(ok bool) {
			if !ok {
				return
			}
			a.run("Could not remove "+name, func(ctx context.Context, c control.Controller) error {
				return c.Remove(ctx, name)
			}, nil)
		}, a.win)
}

func (a *App) showSafetyCode(p control.PeerStatus) {
	code := p.SafetyCode
	if code == "" {
		code = "(not known yet)"
	} else if p.SafetyCodeKeysOnly {
		code += " (keys only: an older link)\n\nThis link was made with an older WG Punch, so its code covers only the two public keys. Update WG Punch on both computers and link again for the 16-digit code over the whole exchange."
	}
	dialog.ShowInformation("Safety code for "+nameOr(p.Name),
		"Safety code: "+code+"\n\nRead it out to the person at the other computer (on the phone, not by e-mail).\n"+
			"Their WG Punch shows the same code for this link. If the codes differ, remove the link: someone else's invite got in the way.",
		a.win)
}

// remoteDesktop checks TCP 3389 on the peer and opens the platform client,
// or offers a .rdp file; when nothing answers it explains what to enable.
func (a *App) remoteDesktop(p control.PeerStatus) {
	ip, err := PeerIP(p.Address)
	if err != nil {
		a.showError(err)
		return
	}
	prog := dialog.NewCustomWithoutButtons("Remote desktop", widget.NewLabel(fmt.Sprintf("Checking %s port %d…", ip, RDPPort)), a.win)
	prog.Show()
	a.spawn(func() {
		err := ProbeRDP(ip, 3*time.Second, nil)
		fyne.Do(func() {
			prog.Hide()
			if err != nil {
				dialog.ShowInformation("Remote desktop is not answering", RDPHelp(ip), a.win)
				return
			}
			if args := RDPClient(runtime.GOOS, ip, nil); args != nil {
				cmd := exec.Command(args[0], args[1:]...)
				if err := cmd.Start(); err == nil {
					go cmd.Wait()
					return
				}
			}
			a.saveRDP(ip.String())
		})
	})
}

func (a *App) saveRDP(ip string) {
	ipAddr, _ := PeerIP(ip)
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		_, _ = io.Copy(w, bytesReader(RDPFile(ipAddr)))
	}, a.win)
	d.SetFileName(ip + ".rdp")
	d.Show()
	dialog.ShowInformation("Remote desktop", "No remote desktop program was found. Save the .rdp file and open it with your remote desktop client.", a.win)
}
