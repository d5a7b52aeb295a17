package ui

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// Mode is which side of a link this computer takes.
type Mode int

const (
	ModeNone   Mode = iota // not chosen yet
	ModeInvite             // start a new link: make an invite, take the reply
	ModeAnswer             // answer someone's invite: paste it, send a reply back
)

// Step is one page of the link wizard.
type Step int

const (
	StepStart   Step = iota // choose: start a new link or answer one
	StepReceive             // answer only: paste or scan the invite
	StepOptions             // name, listen port, LAN subnets to share
	StepCheck               // NAT check with its verdict
	StepShare               // invite: show invite, take the reply; answer: show the reply
	StepConnect             // bring the tunnel up and wait for the first handshake
)

func (s Step) String() string {
	switch s {
	case StepStart:
		return "Start"
	case StepReceive:
		return "Paste the invite"
	case StepOptions:
		return "Options"
	case StepCheck:
		return "Check this network"
	case StepShare:
		return "Share"
	case StepConnect:
		return "Connect"
	}
	return "?"
}

// Steps returns the pages for a mode, in order.
func Steps(m Mode) []Step {
	switch m {
	case ModeAnswer:
		return []Step{StepStart, StepReceive, StepOptions, StepCheck, StepShare, StepConnect}
	case ModeInvite:
		return []Step{StepStart, StepOptions, StepCheck, StepShare, StepConnect}
	}
	return []Step{StepStart}
}

// LAN is a local subnet that may be shared with the peer.
type LAN struct {
	Prefix string // e.g. 192.168.1.0/24
	Iface  string // e.g. eth0
	Share  bool
}

// Wizard is the link wizard's view-model: plain data and rules, no widgets.
// The view (wizardView) renders it and calls the controller; tests drive it
// directly.
type Wizard struct {
	Mode Mode
	Step Step

	// StepReceive (answer side).
	InviteText string
	Invite     TokenCheck

	// StepOptions.
	Name     string
	PortText string
	LANs     []LAN
	Existing []string // tunnel names already present
	// SubnetText is the tunnel subnet the inviter chose (invite side;
	// empty: a free one), e.g. the one the other side suggested when it
	// refused an earlier invite's subnet.
	SubnetText string
	// AllowPublicRoutes is the explicit opt-in to route public internet
	// addresses (off by default; nothing in a token can turn it on).
	AllowPublicRoutes bool

	// StepCheck.
	Checking bool
	NAT      *natcheck.Report
	NATErr   error

	// StepShare.
	Working bool // Invite/Accept in flight
	// Preview is what accepting the invite (answer side) or the pasted
	// reply (invite side) would do, from PreviewAccept: shown before the
	// user presses Accept. Previewing: PreviewAccept in flight.
	Preview      *control.AcceptResult
	Previewing   bool
	InviteResult *control.InviteResult
	ReplyText    string
	Reply        TokenCheck
	AcceptResult *control.AcceptResult
	ShareErr     error
}

// Choose sets the mode from the start page.
func (w *Wizard) Choose(m Mode) { w.Mode = m }

// index is the position of the current step in Steps(w.Mode).
func (w *Wizard) index() int {
	for i, s := range Steps(w.Mode) {
		if s == w.Step {
			return i
		}
	}
	return 0
}

// CanBack reports whether Back is allowed. Once a tunnel is written there is
// no going back past the share page (Remove it from the main window instead).
func (w *Wizard) CanBack() bool {
	if w.Step == StepStart || w.Working || w.Checking {
		return false
	}
	if w.Step == StepConnect {
		return false
	}
	if w.Step == StepShare && (w.InviteResult != nil || w.AcceptResult != nil) {
		return false
	}
	return true
}

// Back moves one page back.
func (w *Wizard) Back() {
	if !w.CanBack() {
		return
	}
	w.Preview = nil // the options it was made with may change
	w.Step = Steps(w.Mode)[w.index()-1]
}

// CanNext reports whether Next is allowed and, if not, why (for a hint
// under the buttons).
func (w *Wizard) CanNext() (bool, string) {
	switch w.Step {
	case StepStart:
		if w.Mode == ModeNone {
			return false, "Choose one of the two."
		}
	case StepReceive:
		if !w.Invite.OK {
			if w.Invite.Problem == "" {
				return false, "Paste the invite, open a picture of its QR code, or drop one on this window."
			}
			return false, "Fix the problem above to go on."
		}
	case StepOptions:
		if err := w.validateOptions(); err != nil {
			return false, err.Error()
		}
	case StepCheck:
		if w.Checking {
			return false, "Checking…"
		}
		if w.NAT == nil && w.NATErr == nil {
			return false, "Run the check first."
		}
	case StepShare:
		if w.Working || w.Previewing {
			return false, "Working…"
		}
		if w.AcceptResult == nil {
			if w.Mode == ModeInvite && w.Reply.OK && w.Preview != nil {
				return false, "Read what the link routes, then press \"Use this reply\" to add the other computer."
			}
			if w.Mode == ModeInvite {
				return false, "Paste the reply from the other computer."
			}
			if w.Preview != nil {
				return false, "Read what the link routes, then press \"" + AcceptInviteLabel + "\"."
			}
			return false, "Create the reply first."
		}
	case StepConnect:
		return false, ""
	}
	return true, ""
}

// Next moves one page on if allowed.
func (w *Wizard) Next() bool {
	if ok, _ := w.CanNext(); !ok {
		return false
	}
	steps := Steps(w.Mode)
	if i := w.index(); i+1 < len(steps) {
		w.Step = steps[i+1]
		return true
	}
	return false
}

func (w *Wizard) validateOptions() error {
	if err := ValidateTunnelName(w.Name); err != nil {
		return err
	}
	for _, n := range w.Existing {
		if n == w.Name {
			return fmt.Errorf("A tunnel named %q already exists; choose another name.", w.Name)
		}
	}
	if _, err := ParsePort(w.PortText); err != nil {
		return err
	}
	if t := strings.TrimSpace(w.SubnetText); w.Mode == ModeInvite && t != "" {
		if _, err := netip.ParsePrefix(t); err != nil {
			return fmt.Errorf("The tunnel subnet %q is not a subnet; write it like 172.22.5.0/24, or leave it empty to let WG Punch pick one.", t)
		}
	}
	return nil
}

// Port is the chosen listen port (0 if the text is not valid).
func (w *Wizard) Port() uint16 {
	p, _ := ParsePort(w.PortText)
	return p
}

// SharedLANs are the CIDRs ticked for sharing.
func (w *Wizard) SharedLANs() []string {
	var out []string
	for _, l := range w.LANs {
		if l.Share {
			out = append(out, l.Prefix)
		}
	}
	return out
}

// SetInviteText validates a pasted invite as the user types.
func (w *Wizard) SetInviteText(s string) {
	w.InviteText = s
	w.Invite = CheckToken(s, WantInvite, "")
	if w.Invite.OK && w.Name == "" {
		w.Name = SuggestName(w.Invite.From, w.Existing)
	}
}

// SetReplyText validates a pasted reply as the user types.
func (w *Wizard) SetReplyText(s string) {
	if strings.TrimSpace(s) != strings.TrimSpace(w.ReplyText) {
		w.Preview = nil // it was of another reply
	}
	w.ReplyText = s
	own := ""
	if w.InviteResult != nil {
		if m, err := invite.Decode(w.InviteResult.Token); err == nil && m.Invite != nil {
			own = m.Invite.ID
		}
	}
	w.Reply = CheckToken(s, WantReply, own)
}

// InviteRequest is what the wizard asks the controller for (invite side).
func (w *Wizard) InviteRequest() control.InviteRequest {
	return control.InviteRequest{Name: w.Name, Port: w.Port(), LANs: w.SharedLANs(), Subnet: strings.TrimSpace(w.SubnetText), AllowPublicRoutes: w.AllowPublicRoutes}
}

// AcceptInviteLabel is the answer side's button under the preview.
const AcceptInviteLabel = "Accept and make the reply"

// AcceptInviteRequest answers the pasted invite (answer side).
func (w *Wizard) AcceptInviteRequest() control.AcceptRequest {
	return control.AcceptRequest{Name: w.Name, Token: strings.TrimSpace(w.InviteText), Port: w.Port(), LANs: w.SharedLANs(), AllowPublicRoutes: w.AllowPublicRoutes}
}

// AcceptReplyRequest takes the pasted reply (invite side).
func (w *Wizard) AcceptReplyRequest() control.AcceptRequest {
	return control.AcceptRequest{Name: w.Name, Token: strings.TrimSpace(w.ReplyText), AllowPublicRoutes: w.AllowPublicRoutes}
}

// Want is which kind of token a paste box expects.
type Want int

const (
	WantInvite Want = iota
	WantReply
)

// TokenCheck is the verdict on pasted text, in words for the user.
type TokenCheck struct {
	OK      bool
	From    string // the sender's display name
	Summary string // "Invite from Office (198.51.100.7:51820)"
	Problem string // what is wrong and what to do
	Message *invite.Message
}

// CheckToken decides what pasted text is. ownInviteID is the ID of the invite
// this computer made (invite side), to catch it being pasted back.
func CheckToken(s string, want Want, ownInviteID string) TokenCheck {
	s = strings.TrimSpace(s)
	if s == "" {
		return TokenCheck{}
	}
	m, err := invite.Decode(s)
	if err != nil {
		return TokenCheck{Problem: tokenProblem(err, want)}
	}
	switch {
	case m.Invite != nil && want == WantInvite:
		i := m.Invite
		return TokenCheck{OK: true, From: i.Name, Message: m,
			Summary: fmt.Sprintf("Invite from %s (reachable at %s).", nameOr(i.Name), endpointOr(i.Endpoint)) + sharesText(i.LANs)}
	case m.Invite != nil && want == WantReply:
		if ownInviteID != "" && m.Invite.ID == ownInviteID {
			return TokenCheck{Message: m, Problem: "That is your own invite pasted back. Paste the reply the other computer made from it."}
		}
		return TokenCheck{Message: m, Problem: fmt.Sprintf("That is an invite from %s, not a reply. Paste the reply the other computer made from your invite.", nameOr(m.Invite.Name))}
	case m.Reply != nil && want == WantInvite:
		return TokenCheck{Message: m, Problem: fmt.Sprintf("That is a reply from %s, not an invite. Paste it on the computer that made the invite.", nameOr(m.Reply.Name))}
	case m.Reply != nil && want == WantReply:
		r := m.Reply
		if ownInviteID != "" && r.InviteID != ownInviteID {
			return TokenCheck{Message: m, Problem: fmt.Sprintf("That reply from %s answers a different invite. Ask for a reply to the invite shown above.", nameOr(r.Name))}
		}
		return TokenCheck{OK: true, From: r.Name, Message: m,
			Summary: fmt.Sprintf("Reply from %s (reachable at %s).", nameOr(r.Name), endpointOr(r.Endpoint)) + sharesText(r.LANs)}
	}
	return TokenCheck{Problem: "That text is empty of any invite or reply."}
}

// sharesText names the networks a token asks this computer to route into
// the link, so the user sees them before accepting: a peer decides them.
func sharesText(lans []netip.Prefix) string {
	if len(lans) == 0 {
		return ""
	}
	list := make([]string, len(lans))
	for i, l := range lans {
		list[i] = l.String()
	}
	return fmt.Sprintf(" It shares its network %s: this computer will send traffic for it through the link.", strings.Join(list, ", "))
}

func tokenProblem(err error, want Want) string {
	var de *invite.DecodeError
	if errors.As(err, &de) {
		// The invite package's messages already name the kind of damage
		// ("looks cut off", "checksum does not match") and what to do.
		return sentence(de.Msg)
	}
	what := "invite"
	if want == WantReply {
		what = "reply"
	}
	return fmt.Sprintf("Cannot read the %s: %v.", what, err)
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

func nameOr(n string) string {
	if n == "" {
		return "an unnamed computer"
	}
	return n
}

func endpointOr(e conf.Endpoint) string {
	if e.IsZero() {
		return "an unknown address"
	}
	return e.String()
}

// ParsePort checks a listen port typed by the user.
func ParsePort(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("Enter a listen port (1024–65535).")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("The listen port %q is not a number; enter one between 1024 and 65535.", s)
	}
	if n < 1024 || n > 65535 {
		return 0, fmt.Errorf("The listen port %d is out of range; enter one between 1024 and 65535.", n)
	}
	return uint16(n), nil
}

// ValidateTunnelName applies conf.CheckName's rules in plain words, so the
// wizard never lets a name through that the daemon refuses only after the
// user moved on.
func ValidateTunnelName(name string) error {
	problem, i := conf.CheckName(name)
	switch problem {
	case conf.NameEmpty:
		return errors.New("Enter a name for this link.")
	case conf.NameTooLong:
		return fmt.Errorf("The name %q is too long; use at most %d characters.", name, conf.MaxNameLen)
	case conf.NameBadChar:
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("The name %q has %q in it; use only letters, digits and . _ = + -", name, r)
	case conf.NameDots:
		return fmt.Errorf("The name %q is not allowed; use letters or digits in it.", name)
	case conf.NameLeadingDash:
		return fmt.Errorf("The name %q starts with \"-\"; start it with a letter or digit.", name)
	}
	return nil
}

// SuggestName makes a tunnel name from a display name ("Office PC" ->
// "Office-PC"), unique among existing.
func SuggestName(display string, existing []string) string {
	var b strings.Builder
	for _, r := range display {
		switch {
		case conf.NameRune(r):
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	base := strings.Trim(b.String(), "-.")
	if base == "" {
		base = "wgpunch"
	}
	if len(base) > 12 {
		base = strings.Trim(base[:12], "-.")
	}
	taken := map[string]bool{}
	for _, n := range existing {
		taken[n] = true
	}
	if !taken[base] {
		return base
	}
	for i := 2; ; i++ {
		n := base + strconv.Itoa(i)
		if !taken[n] {
			return n
		}
	}
}

// ConnectPhase is what the connect page says.
type ConnectPhase struct {
	Connected bool
	Text      string
	Tips      string // what to check, once the wait is too long
	After     string // once connected: where the peer is, what happens next
}

// ConnectPhaseOf follows tunnel name in a report: connected once a peer has
// a handshake; after ConnectTimeout without one, lists what to check.
func ConnectPhaseOf(r *control.Report, name string, started, now time.Time, nat *natcheck.Report) ConnectPhase {
	var t *control.TunnelStatus
	if r != nil {
		for i := range r.Tunnels {
			if r.Tunnels[i].Name == name {
				t = &r.Tunnels[i]
			}
		}
	}
	waited := now.Sub(started).Truncate(time.Second)
	if t != nil {
		for _, p := range t.Peers {
			if p.LastHandshake != nil && !p.LastHandshake.IsZero() && p.State == "connected" {
				ip := strings.TrimSuffix(p.Address, "/32")
				return ConnectPhase{Connected: true, Text: fmt.Sprintf("Connected to %s. First handshake at %s; the link is ready.",
					nameOr(p.Name), p.LastHandshake.Local().Format("15:04:05")),
					After: fmt.Sprintf("Through the link, %s is at %s (this computer is %s).\n\n"+
						"The link stays on when you close this window and comes back after a restart. "+
						"Switch it off and on in the main window or from the tray icon.", nameOr(p.Name), ip, strings.Split(t.Address, "/")[0])}
			}
		}
	}
	ph := ConnectPhase{Text: fmt.Sprintf("Waiting for the first handshake with the other computer… (%s)", waited)}
	if t != nil && t.Error != "" {
		ph.Tips = "Could not connect: " + t.Error
		return ph
	}
	if waited >= ConnectTimeout {
		port := uint16(0)
		if t != nil {
			port = t.ListenPort
		}
		tips := fmt.Sprintf("No handshake after %s. Check:\n"+
			"• Is the other computer's link switched on? It must connect too (its wizard's last step, or its switch in the main window).\n"+
			"• Did both of you paste the right invite and reply, and do the safety codes match?\n", waited)
		if nat != nil && nat.Verdict != natcheck.VerdictOK {
			_, head, _ := VerdictWords(nat)
			tips += "• This network's check said: " + head + ". Try from another network on one side.\n"
		}
		if port != 0 {
			tips += fmt.Sprintf("• Does another device behind your router use UDP port %d? Change the port (Edit…) on one side.\n", port)
		}
		tips += "• A firewall on either computer must allow UDP on the link's port."
		ph.Tips = tips
	}
	return ph
}
