package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
)

func cmdStatus(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	asJSON := fs.Bool("json", false, "")
	watch := fs.Bool("watch", false, "")
	ctl, pos, err := c.open(cmd, fs, args, 0, 1)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := ctl.Status(ctx, name)
	if err != nil {
		return err
	}
	show := func(rep *control.Report) error {
		if *asJSON {
			return json.NewEncoder(c.stdout).Encode(rep)
		}
		var b bytes.Buffer
		if *watch {
			b.WriteString("\x1b[H\x1b[2J")
		}
		renderStatus(&b, rep, time.Now())
		_, err := c.stdout.Write(b.Bytes())
		return err
	}
	if err := show(rep); err != nil {
		return err
	}
	if !*watch {
		return nil
	}
	ch, err := ctl.Watch(ctx)
	if err != nil {
		return err
	}
	for r := range ch {
		if name != "" {
			r = onlyTunnel(r, name)
		}
		if err := show(r); err != nil {
			return err
		}
	}
	return nil // Ctrl-C or the daemon went away
}

func onlyTunnel(r *control.Report, name string) *control.Report {
	out := &control.Report{Tunnels: []control.TunnelStatus{}}
	for _, t := range r.Tunnels {
		if t.Name == name {
			out.Tunnels = append(out.Tunnels, t)
		}
	}
	return out
}

// renderStatus writes the human status: one block per tunnel, a line per peer.
func renderStatus(w io.Writer, rep *control.Report, now time.Time) {
	if len(rep.Tunnels) == 0 {
		fmt.Fprintln(w, "No tunnels. Create one with: wgpunch invite NAME")
		return
	}
	for i, t := range rep.Tunnels {
		if i > 0 {
			fmt.Fprintln(w)
		}
		state := "down"
		if t.Starting {
			state = "starting (its Windows service has not finished starting)"
		}
		if t.Up {
			state = "up"
			if t.Interface != "" && t.Interface != t.Name {
				state += " (interface " + t.Interface + ")"
			}
		}
		port := "-"
		if t.ListenPort != 0 {
			port = fmt.Sprint(t.ListenPort)
		}
		fmt.Fprintf(w, "tunnel %s: %s, address %s, UDP port %s\n", t.Name, state, orDash(t.Address), port)
		if t.PublicKey != "" {
			fmt.Fprintf(w, "  public key %s\n", t.PublicKey)
		}
		if t.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", t.Error)
		}
		if len(t.Peers) == 0 && t.Error == "" {
			fmt.Fprintln(w, "  no peers yet (waiting for a reply to the invite?)")
		}
		tw := &table{}
		tw.row("  PEER", "STATE", "PATH", "LAST HANDSHAKE", "RX", "TX", "ENDPOINT", "ADDRESS")
		for _, p := range t.Peers {
			name := p.Name
			if name == "" {
				name = short(p.PublicKey)
			}
			tw.row("  "+name, string(p.State), orDash(conf.PathKind(p.Path).Words()), ago(now, p.LastHandshake), bytesize(p.RxBytes), bytesize(p.TxBytes), orDash(p.Endpoint), orDash(p.Address))
		}
		if len(t.Peers) > 0 {
			tw.write(w)
		}
		// LANs reached through an alias, and how other computers of
		// this office reach them.
		for _, p := range t.Peers {
			name := p.Name
			if name == "" {
				name = short(p.PublicKey)
			}
			for _, l := range p.LANs {
				sentence, cmds := control.AliasText(name, l, t.LANAddress)
				if sentence == "" {
					continue
				}
				fmt.Fprintf(w, "  %s.\n    other computers in this office reach it through this one:\n", sentence)
				for _, c := range cmds {
					fmt.Fprintf(w, "      %s\n", c)
				}
			}
			for _, l := range p.ServeAs {
				if s := control.ServedText(name, l); s != "" {
					fmt.Fprintf(w, "  %s.\n", s)
				}
			}
		}
		// Why a peer is not connected, and what to do (once per text: a
		// switched-off link says it once, not per peer).
		said := map[string]bool{}
		for _, p := range t.Peers {
			d := p.Diagnosis
			if d == nil || said[d.Message] {
				continue
			}
			said[d.Message] = true
			fmt.Fprintf(w, "  %s\n    what to do: %s\n", d.Message, d.Action)
		}
		for _, x := range t.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", x.Message)
			if x.FixPort != 0 {
				fmt.Fprintf(w, "           fix: wgpunch set-port %s %d\n", t.Name, x.FixPort)
			}
		}
	}
}

type table struct{ rows [][]string }

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	width := map[int]int{}
	for _, r := range t.rows {
		for i, c := range r {
			if len(c) > width[i] {
				width[i] = len(c)
			}
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%-*s  ", width[i], c)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(key string) string {
	if len(key) > 8 {
		return key[:8] + "…"
	}
	return key
}

func ago(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := now.Sub(*t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s ago", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return t.Local().Format("2006-01-02 15:04")
}

func bytesize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
