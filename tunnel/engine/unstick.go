package engine

// Getting out of a stuck mapping by itself (docs/engine.md, "Stuck
// routers"). Some routers answer unsolicited WAN packets themselves. When
// peer A's first handshakes reach router B before B's tunnel is up, router
// B keeps a conntrack entry for A's address and B's port; B's own packets
// then get another public port, which A's router drops. Keepalives keep
// the wrong entry alive forever. The cure: both sides go quiet for longer
// than routers keep unreplied UDP entries, so every entry expires, then
// the side behind the bad router sends first (making the right entry) and
// the other a little later. Nobody knows which router is the bad one, so
// the two take turns being first.
//
// The peers cannot talk while stuck, so they agree through the clock:
// recovery runs in slots of one period aligned to Unix time (both clocks
// are NTP-synced to well within the stagger). In slot k, the side whose
// public key sorts lower resumes first when k is even, the other when k is
// odd. A peer counts as stuck when it has an endpoint and no handshake
// completed for stuckAfter (since up, or since the last session expired);
// recovery starts at the next slot boundary and ends as soon as a
// handshake completes. A working link always has a handshake less than
// 180 s old, so it is never touched.

import (
	"bytes"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Defaults of the recovery schedule.
const (
	// DefaultRouterForget is how long routers keep an unreplied UDP entry
	// (Linux's nf_conntrack_udp_timeout, 30 s; OpenWrt uses 60 s). Both
	// sides must use the same value (settings: router_forget).
	DefaultRouterForget = 30 * time.Second
	// unstickMargin is added to the forget time: the quiet phase.
	unstickMargin = 5 * time.Second
	// unstickStagger is how much later the second side resumes.
	unstickStagger = 10 * time.Second
	// unstickSettle is how long both send before the next slot.
	unstickSettle = 10 * time.Second
	// stuckAfter: no handshake completed for this long while sending (2
	// initiations 5 s apart) is stuck.
	stuckAfter = 10 * time.Second
	// sessionLife: a handshake older than this means no session (WireGuard's
	// REJECT_AFTER_TIME).
	sessionLife = 180 * time.Second
	// socketProbeEvery: while a peer has no session, the address watch's
	// STUN queries go from a separate socket (sessionless probes, see
	// recover_linux.go), except one from the tunnel's own socket this often.
	socketProbeEvery = 10 * time.Minute
)

// unstick is the schedule, one per engine.
type unstick struct {
	forget time.Duration
}

func (u unstick) quiet() time.Duration  { return u.forget + unstickMargin }
func (u unstick) period() time.Duration { return u.quiet() + unstickStagger + unstickSettle }

// stuckSince says since when a peer that has an endpoint has been without
// a session while the tunnel was up (zero: it has one now).
func stuckSince(now, up, handshake time.Time) time.Time {
	if !handshake.IsZero() && now.Sub(handshake) < sessionLife {
		return time.Time{}
	}
	since := up
	if end := handshake.Add(sessionLife); !handshake.IsZero() && end.After(since) {
		since = end
	}
	return since
}

// slot is the recovery slot containing t and its start.
func (u unstick) slot(t time.Time) (k int64, start time.Time) {
	p := u.period()
	k = t.UnixNano() / int64(p)
	return k, time.Unix(0, k*int64(p))
}

// first reports whether we resume first in slot k.
func first(k int64, ours, theirs wgtypes.Key) bool {
	lower := bytes.Compare(ours[:], theirs[:]) < 0
	return lower == (k%2 == 0)
}

// unstickState is one peer's recovery state.
type unstickState struct {
	from time.Time // recovery starts at this slot boundary; zero: not stuck
}

// step advances a peer's recovery at now and says whether we must stay
// quiet toward it, and until when (the end of the quiet phase, for the
// diagnosis). up is when the tunnel came up; handshake the peer's latest.
func (u unstick) step(s *unstickState, now, up, handshake time.Time, ours, theirs wgtypes.Key) (quiet bool, until time.Time) {
	since := stuckSince(now, up, handshake)
	if since.IsZero() {
		s.from = time.Time{}
		return false, time.Time{}
	}
	if s.from.IsZero() {
		if now.Sub(since) < stuckAfter {
			return false, time.Time{}
		}
		_, start := u.slot(now)
		s.from = start.Add(u.period()) // the next boundary
	}
	if now.Before(s.from) {
		return false, time.Time{}
	}
	k, start := u.slot(now)
	resume := start.Add(u.quiet())
	if !first(k, ours, theirs) {
		resume = resume.Add(unstickStagger)
	}
	if now.Before(resume) {
		return true, resume
	}
	return false, time.Time{}
}

// waitLeft is how long until a peer in recovery is tried again (for the
// diagnosis): until the quiet phase ends, or, between phases, until the
// next slot's resume. Zero if s is not recovering.
func (u unstick) waitLeft(s *unstickState, now time.Time, quietUntil time.Time) time.Duration {
	if s.from.IsZero() {
		return 0
	}
	if !quietUntil.IsZero() {
		return quietUntil.Sub(now)
	}
	if now.Before(s.from) {
		return s.from.Add(u.quiet()).Sub(now)
	}
	_, start := u.slot(now)
	return start.Add(u.period() + u.quiet()).Sub(now)
}

// ownSocketProbe says whether an address-watch STUN query at now may go
// from the tunnel's own socket (PublicAddress): always while every peer
// has a session; while one has none (sessionless), only once every
// socketProbeEvery, counted from up and from the last such query (last).
// A query from the tunnel's socket gives the router's flow for it the
// socket's current port; on a stuck router that is the wrong one, and the
// flow, expired or not, lends it to the next packets until conntrack
// collects it (docs/engine.md).
func ownSocketProbe(sessionless bool, now, up, last time.Time) bool {
	return !sessionless || (now.Sub(up) >= socketProbeEvery && now.Sub(last) >= socketProbeEvery)
}
