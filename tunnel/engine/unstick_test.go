package engine

import (
	"fmt"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func keyByte(b byte) wgtypes.Key {
	var k wgtypes.Key
	k[0] = b
	return k
}

// The schedule: quiet at once in a recovery slot for quiet(), the lower key
// resuming first in even slots and second in odd ones; never quiet with a
// live session; recovery starts at the boundary after stuckAfter.
func TestUnstickSchedule(t *testing.T) {
	u := unstick{forget: 30 * time.Second}
	lo, hi := keyByte(1), keyByte(2)
	_, base := u.slot(time.Unix(1_800_000_000, 0))
	k, _ := u.slot(base)
	if k%2 != 0 {
		base = base.Add(u.period()) // start on an even slot
	}
	up := base.Add(-u.period() + time.Second) // stuck detected during the previous slot
	var sLo, sHi unstickState
	check := func(at time.Duration, wantLo, wantHi bool) {
		t.Helper()
		now := base.Add(at)
		ql, _ := u.step(&sLo, now, up, time.Time{}, lo, hi)
		qh, _ := u.step(&sHi, now, up, time.Time{}, hi, lo)
		if ql != wantLo || qh != wantHi {
			t.Errorf("at +%v: quiet lo %v hi %v, want %v %v", at, ql, qh, wantLo, wantHi)
		}
	}
	// Before the boundary: not yet quiet (stuck for less than one slot).
	ql, _ := u.step(&sLo, base.Add(-time.Second), up, time.Time{}, lo, hi)
	u.step(&sHi, base.Add(-time.Second), up, time.Time{}, hi, lo)
	if ql {
		t.Error("quiet before the first boundary")
	}
	check(0, true, true)
	check(u.quiet()-time.Second, true, true)
	check(u.quiet(), false, true) // even slot: the lower key first
	check(u.quiet()+unstickStagger-time.Second, false, true)
	check(u.quiet()+unstickStagger, false, false)
	p := u.period()
	check(p, true, true)
	check(p+u.quiet(), true, false) // odd slot: the higher key first
	check(p+u.quiet()+unstickStagger, false, false)

	// A live session: never quiet, and recovery ends.
	now := base.Add(2*p + time.Second)
	if q, _ := u.step(&sLo, now, up, now.Add(-time.Minute), lo, hi); q || !sLo.from.IsZero() {
		t.Errorf("quiet %v with a session a minute old (from %v)", q, sLo.from)
	}
	// A session that expired starts counting at its expiry.
	hs := now.Add(-sessionLife - stuckAfter + time.Second)
	if q, _ := u.step(&sLo, now, up, hs, lo, hi); q || !sLo.from.IsZero() {
		t.Errorf("stuck counted from before the session expired")
	}
}

// TestUnstickSimulation runs both sides' schedules against a model of the
// stuck router, for either router being the bad one, clock skews up to
// 4 s, and with the bad side's address watch asking STUN (at its up and
// every 60 s while the peer is silent) from where ownSocketProbe says: the
// link comes up within 180 s of the second side's up, and a healthy pair
// is never made quiet. The same watch asking always from the tunnel's
// socket must lose some cases, or the model would not show why
// ownSocketProbe exists.
//
// The model (per the lab's Linux routers, 30 s unreplied UDP timeout): the
// good side's packets reaching the bad router make it keep a router-local
// entry while they keep coming; the bad side's packets get a wrong port
// while that entry lives or while another flow of its socket has the wrong
// port: its own earlier packets to the peer (that flow is replaced at the
// next packet once expired) or a STUN query's flow, which lends its port
// until conntrack's garbage collection removes it, up to 60 s after it
// expired; else the right one. The good side's packets get through only
// while the right entry lives.
func TestUnstickSimulation(t *testing.T) {
	u := unstick{forget: 30 * time.Second}
	const forget = 30 // the routers' timeout, seconds
	lostUnheld := 0
	for _, probes := range []string{"none", "engine", "own socket"} {
		for _, recovery := range []bool{false, true} {
			for _, badIsLow := range []bool{true, false} {
				for _, skew := range []int{-4, 0, 4} {
					for _, laterUp := range []int{20, 61, 97} {
						name := fmt.Sprintf("STUN %s, recovery %v, bad router on the %s key, skew %ds, second side up after %ds", probes, recovery, map[bool]string{true: "lower", false: "higher"}[badIsLow], skew, laterUp)
						connected := simulateStuck(u, forget, probes, recovery, badIsLow, skew, laterUp)
						switch {
						case !recovery && connected >= 0:
							// The model must reproduce the trap, or the
							// cases with recovery prove nothing.
							t.Errorf("%s: without recovery the model linked at +%ds: it is not stuck", name, connected)
						case recovery && probes == "own socket":
							if connected < 0 {
								lostUnheld++
							}
						case recovery && connected < 0:
							t.Errorf("%s: no handshake within 180 s of the second side's up", name)
						case recovery:
							t.Logf("%s: linked %d s after the second side's up", name, connected-laterUp)
						}
					}
				}
			}
		}
	}
	if lostUnheld == 0 {
		t.Error("STUN queries from the tunnel's socket never kept the wrong port alive in the model: it cannot show why ownSocketProbe exists")
	}
	t.Logf("with every query from the tunnel's socket, %d of 18 cases stay stuck", lostUnheld)
}

// simulateStuck runs one case of TestUnstickSimulation second by second
// and returns when the handshake went through (-1: not within 180 s of
// the second side's up). It fails (panics) if a live session is muted.
func simulateStuck(u unstick, forget int, probes string, recovery, badIsLow bool, skew, laterUp int) (connected int) {
	good, bad := keyByte(2), keyByte(1)
	if !badIsLow {
		good, bad = keyByte(1), keyByte(2)
	}
	t0 := time.Unix(1_800_000_123, 0)
	var sGood, sBad unstickState
	const gcLag = 60   // conntrack collects an expired flow this much later, at worst
	goodLast := -1000  // the good side's last packet to the bad router
	wrongLast := -1000 // the bad side's last packet to the peer with the wrong port
	stunLast := -1000  // the last STUN query from its socket with the wrong port
	var ownProbe time.Time
	rightSince, wrong := -1000, false
	nextProbe := laterUp
	connected = -1
	for s := 0; s <= laterUp+180; s++ {
		now := t0.Add(time.Duration(s) * time.Second)
		var hs time.Time
		if connected >= 0 {
			hs = t0.Add(time.Duration(connected) * time.Second)
		}
		qg, _ := u.step(&sGood, now, t0, hs, good, bad)
		sending := s >= laterUp
		qb := true
		badNow := now.Add(time.Duration(skew) * time.Second)
		badUp := t0.Add(time.Duration(laterUp+skew) * time.Second)
		if sending {
			qb, _ = u.step(&sBad, badNow, badUp, hs, bad, good)
		}
		if !recovery {
			qg, qb = false, !sending
		}
		if connected >= 0 {
			if qg || qb {
				panic(fmt.Sprintf("quiet at +%ds with a live session", s))
			}
			continue
		}
		// The bad side's address watch (no session yet): at its up, then
		// every 60 s.
		if sending && probes != "none" && s == nextProbe {
			nextProbe = s + 60
			own := probes == "own socket" || ownSocketProbe(true, badNow, badUp, ownProbe)
			if own {
				ownProbe = badNow
				if wrong && (s-wrongLast < forget || s-stunLast < forget+gcLag) {
					stunLast = s // the query's flow gets the socket's wrong port
				}
			}
		}
		// The bad side sends every 5 s unless quiet.
		if sending && !qb && s%5 == 0 {
			routerLocal := s-goodLast < forget
			switch {
			case !wrong && s-rightSince >= forget && !routerLocal:
				rightSince = s
			case wrong && s-wrongLast >= forget && s-stunLast >= forget+gcLag && !routerLocal:
				wrong, rightSince = false, s
			case s-rightSince >= forget || wrong:
				wrong = true
				wrongLast = s
			default:
				rightSince = s
			}
		}
		if !qg && s%5 == 2 {
			if !wrong && s-rightSince < forget {
				connected = s
				continue
			}
			goodLast = s
		}
	}
	return connected
}

// The address watch asks from the tunnel's socket while every peer has a
// session; while one has none, from another socket, except once every
// socketProbeEvery counted from up and from the last such query.
func TestOwnSocketProbe(t *testing.T) {
	up := time.Unix(1_800_000_000, 0)
	for _, c := range []struct {
		sessionless bool
		at, last    time.Duration // after up; last < 0: none yet
		want        bool
	}{
		{false, time.Second, -1, true},
		{true, time.Second, -1, false},
		{true, socketProbeEvery - time.Second, -1, false},
		{true, socketProbeEvery, -1, true},
		{true, socketProbeEvery + time.Minute, socketProbeEvery, false},
		{true, 2 * socketProbeEvery, socketProbeEvery, true},
	} {
		last := time.Time{}
		if c.last >= 0 {
			last = up.Add(c.last)
		}
		if got := ownSocketProbe(c.sessionless, up.Add(c.at), up, last); got != c.want {
			t.Errorf("sessionless %v at up+%v, last own query %v: %v, want %v", c.sessionless, c.at, c.last, got, c.want)
		}
	}
}
