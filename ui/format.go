package ui

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// HumanBytes formats a byte count in binary units: "512 B", "1.5 KiB".
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Ago says how long ago t was: "12 s ago", "3 min ago", "never".
func Ago(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// coarseAgo is Ago in 10 s steps under a minute, so a menu built from it
// changes at most every 10 s.
func coarseAgo(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := now.Sub(*t)
	if d >= 10*time.Second && d < time.Minute {
		return fmt.Sprintf("%d s ago", int(d/(10*time.Second))*10)
	}
	return Ago(now, t)
}

// Tone is the colour family of an indicator or banner; every Tone also has
// words so nothing depends on colour alone.
type Tone int

const (
	ToneGrey Tone = iota
	ToneGreen
	ToneAmber
	ToneRed
)

// StateWords gives a peer state's tone and its words.
func StateWords(s control.State) (Tone, string) {
	switch s {
	case "connected":
		return ToneGreen, "Connected"
	case "connecting":
		return ToneAmber, "Connecting…"
	case "stale":
		return ToneRed, "No contact"
	}
	return ToneGrey, "Off"
}

// VerdictWords turns a NAT check into a headline, tone and explanation.
func VerdictWords(r *natcheck.Report) (Tone, string, string) {
	if r == nil {
		return ToneGrey, "Not checked", ""
	}
	msg := r.Message
	switch r.Verdict {
	case natcheck.VerdictOK:
		if msg == "" {
			msg = "Your router keeps the same public port for every destination, so the other computer can reach this one directly."
		}
		if r.IPv4.Verdict != "" && r.IPv4.Verdict != natcheck.VerdictOK {
			return ToneGreen, "OK: this network can link directly over IPv6", msg
		}
		return ToneGreen, "OK: this network can link directly", msg
	case natcheck.VerdictWarning:
		if msg == "" {
			msg = "A direct link may work; if it does not, try another network on one side."
		}
		return ToneAmber, "Maybe: a direct link may not work from here", msg
	}
	if msg == "" {
		switch {
		case r.UDPBlocked:
			msg = "No STUN server answered: UDP seems blocked on this network."
		case r.Mapping == natcheck.MappingEndpointDependent:
			msg = "Your router gives a new public port to every destination (symmetric NAT), so hole punching cannot work from here."
		default:
			msg = "A direct link cannot be made from this network."
		}
	}
	return ToneRed, "Problem: this network cannot link directly", msg
}

// FamilyLines is the check page's two halves in words: what IPv4 and
// IPv6 each allow from this network, with the addresses others would use.
func FamilyLines(r *natcheck.Report) string {
	if r == nil {
		return ""
	}
	words := func(v natcheck.Verdict) string {
		switch v {
		case natcheck.VerdictOK:
			return "can link directly"
		case natcheck.VerdictWarning:
			return "a direct link may not work"
		case natcheck.VerdictFail:
			return "cannot link directly"
		}
		return "not checked"
	}
	v4 := r.IPv4.Verdict
	if v4 == "" {
		v4 = r.Verdict // a report from before the two halves
	}
	out := fmt.Sprintf("IPv4: %s. Public address %s, router behaviour: %s.", words(v4), orUnknown(r.PublicEndpoint), orUnknown(string(r.Mapping)))
	six := fmt.Sprintf("IPv6: %s.", words(r.IPv6.Verdict))
	if r.IPv6.PublicEndpoint != "" {
		six += " Address " + r.IPv6.PublicEndpoint + "."
	}
	if r.IPv6.Message != "" {
		six += " " + r.IPv6.Message
	}
	return out + "\n" + six
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// DiagnosisText is what the window shows under a peer that is not
// connected: what is going on, then what to do.
func DiagnosisText(d *control.Diagnosis) string {
	return d.Message + "\nWhat to do: " + d.Action
}

// AliasDetails says, for a peer's details, how its LANs that overlap a
// network here are reached (their alias, an example address) and how
// other computers of this office reach them through this one at
// lanAddress (control.AliasText), then how the peer reaches our LANs
// through an alias; "" when no LAN is aliased.
func AliasDetails(p control.PeerStatus, lanAddress string) string {
	var lines []string
	for _, l := range p.LANs {
		s, cmds := control.AliasText(nameOr(p.Name), l, lanAddress)
		if s == "" {
			continue
		}
		lines = append(lines, s+".", "Other computers in this office reach it through this one:")
		for _, c := range cmds {
			lines = append(lines, "  "+c)
		}
	}
	for _, l := range p.ServeAs {
		if s := control.ServedText(nameOr(p.Name), l); s != "" {
			lines = append(lines, s+".")
		}
	}
	return strings.Join(lines, "\n")
}
