package ui

import (
	"fmt"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// Overall is the tray icon's state.
type Overall int

const (
	OverallOff        Overall = iota // no tunnel up
	OverallConnected                 // every up tunnel has every peer connected
	OverallConnecting                // something up is still waiting for a handshake
	OverallProblem                   // a peer went stale, an up failed, or a warning stands
)

func (o Overall) String() string {
	return [...]string{"off", "connected", "connecting", "problem"}[o]
}

// TrayItem is one line in the tray menu: a tunnel (clicking toggles it)
// or, with Update set, an address update to send (clicking shows it).
type TrayItem struct {
	Tunnel  string
	Label   string // "Office: connected, 4 s ago"
	Checked bool   // the tunnel is up; clicking toggles it
	Peer    string // with Update: whom to send it
	Update  string // a public-address-changed warning's update (WGP1U-...)
}

// TrayModel is everything the tray shows, built from a status snapshot.
type TrayModel struct {
	Overall Overall
	Items   []TrayItem
}

// BuildTray turns a status report into the tray's model. Pure: the same
// report and time give the same model, so callers rebuild the real menu
// only when the model changes.
func BuildTray(r *control.Report, now time.Time) TrayModel {
	var m TrayModel
	if r == nil {
		m.Overall = OverallProblem
		return m
	}
	anyUp, connecting, problem := false, false, false
	for _, t := range r.Tunnels {
		item := TrayItem{Tunnel: t.Name, Checked: t.Up || t.Starting}
		state, last := tunnelState(t)
		diag, waiting := diagnosisLabel(t, now)
		switch {
		case t.Starting:
			item.Label = t.Name + ": starting…"
			connecting = true
		case !t.Up && t.Error != "":
			item.Label = t.Name + ": failed to connect"
			problem = true
		case !t.Up:
			item.Label = t.Name + ": off"
		case state == "connected":
			item.Label = fmt.Sprintf("%s: connected, %s", t.Name, coarseAgo(now, last))
		case diag != "":
			item.Label = diag
			if waiting {
				connecting = true
			} else {
				problem = true
			}
		case state == "connecting":
			item.Label = t.Name + ": connecting…"
			connecting = true
		case state == "stale":
			item.Label = fmt.Sprintf("%s: no contact since %s", t.Name, coarseAgo(now, last))
			problem = true
		default:
			item.Label = t.Name + ": waiting for the other computer"
			connecting = true
		}
		if t.Up {
			anyUp = true
			if len(t.Warnings) > 0 {
				problem = true
			}
		}
		m.Items = append(m.Items, item)
		if t.Up {
			for _, w := range t.Warnings {
				if w.Code == "public-address-changed" && w.Update != "" {
					m.Items = append(m.Items, TrayItem{Tunnel: t.Name, Peer: w.Peer, Update: w.Update,
						Label: fmt.Sprintf("Send %s your new internet address…", nameOr(w.Peer))})
				}
			}
		}
	}
	switch {
	case problem:
		m.Overall = OverallProblem
	case connecting:
		m.Overall = OverallConnecting
	case anyUp:
		m.Overall = OverallConnected
	default:
		m.Overall = OverallOff
	}
	return m
}

// diagnosisLabel is a tunnel's tray line from its first not-connected
// peer's diagnosis, in a few words ("" if none has one), and whether it is
// only waiting (no answer yet, or the stuck-router recovery) rather than a
// problem. It holds no countdown, so the menu is not rebuilt every second.
func diagnosisLabel(t control.TunnelStatus, now time.Time) (label string, waiting bool) {
	for _, p := range t.Peers {
		d := p.Diagnosis
		if p.State == "connected" || d == nil {
			continue
		}
		who := p.Name
		if who == "" {
			who = "the other computer" // as the diagnosis says it
		}
		var what string
		switch d.Code {
		case "own-address-changed":
			what = "your internet address changed; send " + who + " the update"
		case "recovering-stuck-mapping":
			what = "no answer from " + who + " yet; trying again in a moment"
		case "udp-blocked":
			what = "this network blocks the connection"
		case "peer-nat-cannot-punch":
			what = who + "'s router cannot be reached directly"
		case "never-connected":
			what = "no answer from " + who + " yet"
		case "peer-silent":
			what = "no contact with " + who
			if p.LastHandshake != nil {
				what += " since " + coarseAgo(now, p.LastHandshake)
			}
		default:
			continue
		}
		return t.Name + ": " + what, d.Code == "never-connected" || d.Code == "recovering-stuck-mapping"
	}
	return "", false
}

// tunnelState is the worst peer state of a tunnel and the latest handshake
// among its peers. A tunnel with no peers yet counts as "connecting".
func tunnelState(t control.TunnelStatus) (control.State, *time.Time) {
	if !t.Up {
		return "down", nil
	}
	rank := map[control.State]int{"connected": 0, "connecting": 1, "stale": 2, "down": 3}
	var worst control.State = "connected"
	var last *time.Time
	if len(t.Peers) == 0 {
		return "", nil
	}
	for _, p := range t.Peers {
		if rank[p.State] > rank[worst] {
			worst = p.State
		}
		if p.LastHandshake != nil && (last == nil || p.LastHandshake.After(*last)) {
			last = p.LastHandshake
		}
	}
	return worst, last
}

// Notice is a desktop notification to send.
type Notice struct{ Title, Body string }

// Transitions compares two reports and says what the user should hear about:
// a peer connected, dropped (tunnel went down while connected) or went stale.
func Transitions(prev, cur *control.Report) []Notice {
	if prev == nil || cur == nil {
		return nil
	}
	old := map[string]control.State{}
	oldUp := map[string]bool{}
	for _, t := range prev.Tunnels {
		oldUp[t.Name] = t.Up
		for _, p := range t.Peers {
			old[t.Name+"\x00"+p.PublicKey] = p.State
		}
	}
	var out []Notice
	oldUpdates := map[string]bool{}
	for _, t := range prev.Tunnels {
		for _, w := range t.Warnings {
			if w.Code == "public-address-changed" {
				oldUpdates[w.Update] = true
			}
		}
	}
	for _, t := range cur.Tunnels {
		for _, w := range t.Warnings {
			if w.Code == "public-address-changed" && w.Update != "" && !oldUpdates[w.Update] {
				out = append(out, Notice{UpdateTitle(w.Peer), fmt.Sprintf("Open WG Punch and send %s the update shown on link %s.", nameOr(w.Peer), t.Name)})
			}
		}
		for _, p := range t.Peers {
			was, known := old[t.Name+"\x00"+p.PublicKey]
			if !known || was == p.State {
				continue
			}
			who := nameOr(p.Name)
			switch {
			case p.State == "connected":
				out = append(out, Notice{t.Name + " connected", fmt.Sprintf("Linked with %s.", who)})
			case p.State == "stale" && was == "connected":
				out = append(out, Notice{t.Name + ": no contact", fmt.Sprintf("Nothing heard from %s for a while. Is it on and online?", who)})
			case p.State == "down" && was == "connected":
				if oldUp[t.Name] && !t.Up && t.Error != "" {
					out = append(out, Notice{t.Name + " dropped", t.Error})
				} else if !t.Up {
					out = append(out, Notice{t.Name + " disconnected", fmt.Sprintf("The link with %s is off.", who)})
				}
			}
		}
	}
	return out
}

// TrayEntryKind says what a tray menu entry does when clicked.
type TrayEntryKind int

const (
	EntryTunnel    TrayEntryKind = iota // toggles TrayEntry.Item's tunnel
	EntryUpdate                         // opens the window with Item's address update
	EntryOpen                           // "Open WG Punch"
	EntryLink                           // "Link another computer…"
	EntryQuit                           // "Quit"
	EntrySeparator                      // a line between groups
)

// TrayEntry is one line of the tray menu as both tray front ends draw it
// (Fyne's in the one-process app, fyne.io/systray's in the tray process).
type TrayEntry struct {
	Kind  TrayEntryKind
	Label string
	// Checkable and Checked: a tunnel's tick box.
	Checkable, Checked bool
	Item               TrayItem // EntryTunnel and EntryUpdate
}

// TrayEntries is the tray menu for a model: one entry per tunnel or update,
// a separator, then Open, Link, a separator and Quit.
func TrayEntries(m TrayModel) []TrayEntry {
	var out []TrayEntry
	for _, it := range m.Items {
		if it.Update != "" {
			out = append(out, TrayEntry{Kind: EntryUpdate, Label: it.Label, Item: it})
			continue
		}
		out = append(out, TrayEntry{Kind: EntryTunnel, Label: it.Label, Checkable: true, Checked: it.Checked, Item: it})
	}
	if len(out) > 0 {
		out = append(out, TrayEntry{Kind: EntrySeparator})
	}
	return append(out,
		TrayEntry{Kind: EntryOpen, Label: "Open WG Punch"},
		TrayEntry{Kind: EntryLink, Label: "Link another computer…"},
		TrayEntry{Kind: EntrySeparator},
		TrayEntry{Kind: EntryQuit, Label: "Quit"})
}

// TrayEqual reports whether two models draw the same tray.
func TrayEqual(a, b TrayModel) bool { return trayEqual(a, b) }
