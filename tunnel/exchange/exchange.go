// Package exchange plans the invite exchange: given the stored configs and
// the facts about this machine (free ports, other WG Punch machines on the
// LAN, local routes, the NAT check's result), it decides the new tunnel
// config, the invite or reply to send, and the warnings and notes for the
// user. It makes no OS calls: control.Service gathers the facts, runs the
// NAT check and saves what the plan says (load, plan, save).
//
// The rules that more than one caller needs stand here once: which ports a
// tunnel may use (CheckPort, PickPort, CheckUpPort), which subnets are taken
// (UsedPrefixes, PickSubnet), how shared LANs are parsed (ParseLANs) and
// when they clash with a tunnel (TunnelClash), and how a peer is built from
// an invite or a reply (newPeer).
package exchange

import (
	"fmt"
	"github.com/wgpunch/wgpunch/tunnel/ports"
	"math/rand/v2"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
)

// Warning is a status warning (code and message), as monitor reports them.
type Warning = monitor.Warning

// Facts are what the planner knows about this machine. The Service reads
// them (under its lock, so they do not change during a plan).
type Facts struct {
	// Configs are the stored tunnels that parse.
	Configs []*conf.Config
	// Broken are the stored tunnels whose files do not parse, by name,
	// with the error to report.
	Broken map[string]error
	// Routes are this machine's interface subnets and routes.
	Routes []netinfo.Route
	// LANPeers are the other WG Punch machines announcing ports on the LAN.
	LANPeers []lanpeers.Announcement
	// Running are the tunnels that are up, by name.
	Running map[string]bool
	// PortFree says whether a UDP port is free on this machine; nil: all are.
	PortFree func(port uint16) bool
	// PortCheck, when set, is used instead of PortFree: nil when the port
	// is free, else why not (an error wrapping ports.ErrInUse,
	// ports.ErrReserved or ports.ErrNotAllowed; see ports.Check).
	PortCheck func(port uint16) error
	// Hostname is the default display name.
	Hostname string
	// LANAddress is this machine's address on its LAN (invalid: unknown),
	// for the route other computers of the office add to reach an alias.
	LANAddress netip.Addr
	// IntN returns a random number in [0, n) (subnet choice); nil:
	// math/rand/v2.IntN.
	IntN func(n int) int
}

func (f *Facts) portFree(p uint16) bool { return f.portBusy(p) == nil }

// portBusy is nil when port p is free, else why it is not.
func (f *Facts) portBusy(p uint16) error {
	switch {
	case f.PortCheck != nil:
		return f.PortCheck(p)
	case f.PortFree != nil && !f.PortFree(p):
		return ports.ErrInUse
	}
	return nil
}

func (f *Facts) intN(n int) int {
	if f.IntN != nil {
		return f.IntN(n)
	}
	return rand.IntN(n)
}

func (f *Facts) config(name string) *conf.Config {
	for _, c := range f.Configs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (f *Facts) displayName(req string) string {
	if req != "" {
		return req
	}
	return f.Hostname
}

// Kind is what sort of failure an Error is; control maps each to its
// error value (ErrInvalidInput, ErrExists, ErrPortInUse, ErrNotFound).
type Kind int

// Kinds of Error.
const (
	Invalid Kind = iota + 1
	Exists
	PortInUse
	NotFound
)

// Error is a plan that cannot be carried out. Msg says what is wrong and
// what to do; nothing has been changed.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the cause, if a sentinel callers test for (e.g. invite.ErrInviteChanged)
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error { return errorf(Invalid, format, args...) }
func existsf(format string, args ...any) error  { return errorf(Exists, format, args...) }
func portErrf(format string, args ...any) error { return errorf(PortInUse, format, args...) }
