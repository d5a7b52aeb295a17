package engine

// Trying a peer's candidates until one answers (docs/engine.md, "Paths").
// WireGuard keeps one endpoint per peer; a peer may be reachable at its
// LAN address (both behind one NAT), its public IPv6 address or its public
// IPv4 address (conf.Candidates, best first). The Linux engine moves the
// endpoint between them:
//
//   - searching (no session yet, or the path in use stopped answering):
//     each candidate in turn for pathDwell, long enough for two handshake
//     initiations (wireguard-go retries every 5 s) and short enough that
//     the firewall pinhole our last packets to a candidate opened is still
//     open when we come back to it (a cycle of three candidates leaves
//     20 s between visits; Linux keeps unreplied UDP entries 30 s), so two
//     sides cycling out of phase still meet;
//   - settled: a handshake completed; the path is the endpoint in use,
//     wherever wireguard-go roamed it (it follows the source of the peer's
//     authenticated packets: a handshake arriving over IPv6 moves it);
//   - trying: now and then (every retry, in slots aligned to Unix time so
//     that both sides try together and both firewalls open) a settled
//     link on a worse path tries one better candidate for pathDwell and
//     goes back to the working endpoint at once if no handshake completes.
//     The session stays valid all along; what is lost is at most pathDwell
//     of packets every retry while the better path stays broken (less when
//     the peer's next keepalive arrives over the old path: wireguard-go
//     roams back to it by itself).
//
// A settled path counts as dead when no handshake completed for
// pathWindow (WireGuard rekeys every 120 s of traffic, and keepalives are
// traffic), or when nothing arrived for pathSilence and a handshake
// started then did not complete within pathConfirm. The search then goes
// on from the candidate after the dead one.

import (
	"net/netip"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

const (
	// pathDwell is how long a candidate is tried.
	pathDwell = 10 * time.Second
	// DefaultPathRetry is how often a link on a worse path tries a better
	// candidate (settings: path_retry_seconds; both sides must agree).
	DefaultPathRetry = 5 * time.Minute
	// pathSilence: nothing received for this long starts a handshake to
	// check the path (keepalives come every 5 s).
	pathSilence = 15 * time.Second
	// pathConfirm: that handshake not completing within this long makes
	// the path dead.
	pathConfirm = 10 * time.Second
	// pathWindow: no handshake completed for this long makes the path
	// dead (the rekey window: REKEY_AFTER_TIME plus three retries).
	pathWindow = 135 * time.Second
)

// pathPolicy is the schedule, one per engine.
type pathPolicy struct {
	retry time.Duration
}

type pathMode int

const (
	pathStart pathMode = iota
	pathSearch
	pathSettled
	pathTrial
)

// pathState is one peer's candidate state.
type pathState struct {
	cands []conf.Candidate
	mode  pathMode
	idx   int       // the candidate tried (searching, trying)
	since time.Time // the current try started
	from  time.Time // searching: a handshake after this ends the search
	back  netip.AddrPort
	rx    uint64
	rxAt  time.Time // when rx last grew (or the state began)
	probe time.Time // settled: when a check handshake was started
	slot  int64     // the last retry slot a trial ran in
}

// pathInput is what the device says about the peer at now.
type pathInput struct {
	now, handshake time.Time
	endpoint       netip.AddrPort
	rx             uint64
	// paused: the stuck-router recovery keeps quiet toward the peer; the
	// candidate in use is kept and its dwell starts again afterwards.
	paused bool
}

// pathAction is what step asks of the device.
type pathAction struct {
	set  netip.AddrPort // move the endpoint here; zero: leave it
	kick bool           // start a handshake now
	log  string         // what happened, for the log; empty: nothing to say
}

func newPathState(cands []conf.Candidate) *pathState { return &pathState{cands: cands} }

// step advances s at in.now.
func (pp pathPolicy) step(s *pathState, in pathInput) pathAction {
	n := len(s.cands)
	if n < 2 {
		return pathAction{} // nothing to choose between
	}
	if s.rxAt.IsZero() || in.rx != s.rx {
		s.rx, s.rxAt = in.rx, in.now
		s.probe = time.Time{}
	}
	if in.paused {
		s.since = in.now
		return pathAction{}
	}
	alive := !in.handshake.IsZero() && in.now.Sub(in.handshake) < pathWindow
	switch s.mode {
	case pathStart:
		s.since, s.from = in.now, in.now
		if alive {
			// A session already (a config applied again): keep its path.
			s.idx = s.index(in.endpoint)
			s.settle(in.now)
			return pathAction{}
		}
		s.mode, s.idx = pathSearch, 0
		if s.cands[s.idx].Addr != in.endpoint {
			return pathAction{set: s.cands[s.idx].Addr, kick: true}
		}
		return pathAction{}
	case pathSearch:
		if !in.handshake.IsZero() && !in.handshake.Before(s.from) {
			s.settle(in.now)
			return pathAction{log: "linked " + s.words(in.endpoint)}
		}
		if in.now.Sub(s.since) < pathDwell {
			return pathAction{}
		}
		s.idx = (s.idx + 1) % n
		s.since = in.now
		c := s.cands[s.idx]
		return pathAction{set: c.Addr, kick: true, log: "no answer yet; trying " + string(c.Kind) + " " + c.Addr.String()}
	case pathTrial:
		if !in.handshake.Before(s.since) {
			s.settle(in.now)
			return pathAction{log: "now " + s.words(in.endpoint)}
		}
		if in.now.Sub(s.since) < pathDwell {
			return pathAction{}
		}
		c := s.cands[s.idx]
		s.settle(in.now)
		a := pathAction{log: "no answer over " + string(c.Kind) + " " + c.Addr.String() + "; staying " + s.words(s.back)}
		if in.endpoint != s.back {
			a.set = s.back
		}
		return a
	}
	// Settled: is the path still answering?
	dead := !alive
	if !dead && in.now.Sub(s.rxAt) >= pathSilence {
		if s.probe.IsZero() {
			s.probe = in.now
			return pathAction{kick: true}
		}
		if !in.handshake.Before(s.probe) {
			s.probe, s.rxAt = time.Time{}, in.now
		} else if in.now.Sub(s.probe) >= pathConfirm {
			dead = true
		}
	}
	if dead {
		was := conf.PathOf(s.cands, in.endpoint)
		s.idx = (s.kindIndex(was) + 1) % n
		s.mode, s.since, s.from, s.probe = pathSearch, in.now, in.now, time.Time{}
		c := s.cands[s.idx]
		return pathAction{set: c.Addr, kick: true, log: "the link " + s.words(in.endpoint) + " stopped answering; trying " + string(c.Kind) + " " + c.Addr.String()}
	}
	// Now and then, a better candidate.
	cur := conf.PathOf(s.cands, in.endpoint)
	var better []int
	for i, c := range s.cands {
		if c.Kind.Better(cur) {
			better = append(better, i)
		}
	}
	if len(better) == 0 || pp.retry <= 0 {
		return pathAction{}
	}
	k := in.now.UnixNano() / int64(pp.retry)
	start := time.Unix(0, k*int64(pp.retry))
	if s.slot == -1 {
		s.slot = k // the slot the link settled in counts as tried
	}
	if k == s.slot || in.now.Sub(start) >= pathDwell {
		return pathAction{}
	}
	s.slot = k
	s.idx = better[int(k%int64(len(better)))]
	s.mode, s.since, s.back = pathTrial, in.now, in.endpoint
	c := s.cands[s.idx]
	return pathAction{set: c.Addr, kick: true, log: "trying the better path " + string(c.Kind) + " " + c.Addr.String() + " for " + pathDwell.String()}
}

// settle marks s as on a working path at now.
func (s *pathState) settle(now time.Time) {
	s.mode, s.probe, s.rxAt = pathSettled, time.Time{}, now
	// The slot a link settles in counts as tried (step marks it): a link
	// that just came up, or back, is not moved again at once.
	s.slot = -1
}

// index is the candidate equal to ep, or of its kind; 0 if none.
func (s *pathState) index(ep netip.AddrPort) int {
	for i, c := range s.cands {
		if c.Addr == ep {
			return i
		}
	}
	return s.kindIndex(conf.PathOf(s.cands, ep))
}

func (s *pathState) kindIndex(k conf.PathKind) int {
	for i, c := range s.cands {
		if c.Kind == k {
			return i
		}
	}
	return 0
}

func (s *pathState) words(ep netip.AddrPort) string {
	return conf.PathOf(s.cands, ep).Words() + " (" + ep.String() + ")"
}
