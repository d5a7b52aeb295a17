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
// stuck router, for either router being the bad one and clock skews up to
// 4 s: the link comes up within 180 s of the second side's up, and a
// healthy pair is never made quiet.
//
// The model (per the lab's Linux routers, 30 s unreplied UDP timeout): the
// good side's packets reaching the bad router make it keep a router-local
// entry while they keep coming; the bad side's packets get a wrong port
// while that entry (or its own wrong entry) lives, else the right one; the
// good side's packets get through only while the right entry lives.
func TestUnstickSimulation(t *testing.T) {
	u := unstick{forget: 30 * time.Second}
	const forget = 30 // the routers' timeout, seconds
	for _, recovery := range []bool{false, true} {
		for _, badIsLow := range []bool{true, false} {
			for _, skew := range []int{-4, 0, 4} {
				for _, laterUp := range []int{20, 61, 97} {
					name := fmt.Sprintf("recovery %v, bad router on the %s key, skew %ds, second side up after %ds", recovery, map[bool]string{true: "lower", false: "higher"}[badIsLow], skew, laterUp)
					t.Run(name, func(t *testing.T) {
						good, bad := keyByte(2), keyByte(1)
						if !badIsLow {
							good, bad = keyByte(1), keyByte(2)
						}
						t0 := time.Unix(1_800_000_123, 0)
						var sGood, sBad unstickState
						goodLast, badLast := -1000, -1000 // last send, seconds
						rightSince, wrong := -1000, false
						connected := -1
						for s := 0; s <= laterUp+180; s++ {
							now := t0.Add(time.Duration(s) * time.Second)
							var hs time.Time
							if connected >= 0 {
								hs = t0.Add(time.Duration(connected) * time.Second)
							}
							qg, _ := u.step(&sGood, now, t0, hs, good, bad)
							sending := s >= laterUp
							qb := true
							if sending {
								qb, _ = u.step(&sBad, now.Add(time.Duration(skew)*time.Second), t0.Add(time.Duration(laterUp+skew)*time.Second), hs, bad, good)
							}
							if !recovery {
								qg, qb = false, !sending
							}
							if connected >= 0 {
								if qg || qb {
									t.Fatalf("quiet at +%ds with a live session", s)
								}
								continue
							}
							// The bad side sends every 5 s unless quiet.
							if sending && !qb && s%5 == 0 {
								routerLocal := s-goodLast < forget
								if !wrong && s-rightSince >= forget && !routerLocal {
									rightSince = s
								} else if wrong && s-badLast >= forget && !routerLocal {
									wrong, rightSince = false, s
								} else if s-rightSince >= forget || wrong {
									wrong = true
								} else {
									rightSince = s
								}
								badLast = s
							}
							if !qg && s%5 == 2 {
								if !wrong && s-rightSince < forget {
									connected = s
									continue
								}
								goodLast = s
							}
						}
						if !recovery {
							// The model must reproduce the trap, or the
							// test above proves nothing.
							if connected >= 0 {
								t.Fatalf("without recovery the model linked at +%ds: it is not stuck", connected)
							}
							return
						}
						if connected < 0 {
							t.Fatalf("no handshake within 180 s of the second side's up")
						}
						t.Logf("linked %d s after the second side's up", connected-laterUp)
					})
				}
			}
		}
	}
}
