package engine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

var (
	candLAN = conf.Candidate{Kind: conf.PathLAN, Addr: netip.MustParseAddrPort("192.168.1.5:51820")}
	cand6   = conf.Candidate{Kind: conf.PathIPv6, Addr: netip.MustParseAddrPort("[2001:db8::5]:51820")}
	cand4   = conf.Candidate{Kind: conf.PathIPv4, Addr: netip.MustParseAddrPort("203.0.113.5:51820")}
)

// pathSim is a fake device and network for one peer, stepped once a
// second like watchStuck, starting on the first candidate (as Up sets
// it): a path of a kind in works carries handshakes
// (within a second of a kick, or every 120 s of rekeying) and keepalives
// (rx grows); any other path carries nothing.
type pathSim struct {
	t        *testing.T
	pp       pathPolicy
	s        *pathState
	now      time.Time
	endpoint netip.AddrPort
	hs       time.Time
	rx       uint64
	works    map[conf.PathKind]bool
	sets     []string // "+12s ipv6": every endpoint move step asked for
	start    time.Time
}

func newPathSim(t *testing.T, retry time.Duration, cands ...conf.Candidate) *pathSim {
	// Start a little after a retry slot boundary, so trials are predictable.
	start := time.Unix(0, (time.Unix(1_800_000_000, 0).UnixNano()/int64(retry)+1)*int64(retry)).Add(30 * time.Second)
	return &pathSim{t: t, pp: pathPolicy{retry: retry}, s: newPathState(cands), now: start, start: start,
		endpoint: cands[0].Addr, works: map[conf.PathKind]bool{}}
}

func (m *pathSim) kind() conf.PathKind { return conf.PathOf(m.s.cands, m.endpoint) }

// run steps for d, one second at a time.
func (m *pathSim) run(d time.Duration) {
	for end := m.now.Add(d); m.now.Before(end); m.now = m.now.Add(time.Second) {
		ok := m.works[m.kind()]
		if ok {
			m.rx += 32
			if m.hs.IsZero() || m.now.Sub(m.hs) >= 120*time.Second {
				m.hs = m.now
			}
		}
		a := m.pp.step(m.s, pathInput{now: m.now, handshake: m.hs, endpoint: m.endpoint, rx: m.rx})
		if a.set.IsValid() {
			m.endpoint = a.set
			m.sets = append(m.sets, m.at()+" "+string(m.kind()))
		}
		if a.kick && m.works[m.kind()] {
			m.hs = m.now
		}
	}
}

func (m *pathSim) at() string { return m.now.Sub(m.start).String() }

func (m *pathSim) wantKind(k conf.PathKind) {
	m.t.Helper()
	if got := m.kind(); got != k {
		m.t.Fatalf("at %s on %s, want %s (moves %q)", m.at(), got, k, m.sets)
	}
}

// The search tries LAN, then IPv6, then IPv4, each for pathDwell, and
// goes round again while nothing answers.
func TestPathsOrder(t *testing.T) {
	m := newPathSim(t, time.Hour, candLAN, cand6, cand4)
	m.wantKind(conf.PathLAN)
	m.run(45 * time.Second)
	want := []string{"10s ipv6", "20s ipv4", "30s lan", "40s ipv6"}
	if len(m.sets) != len(want) {
		t.Fatalf("moves %q, want %q", m.sets, want)
	}
	for i := range want {
		if m.sets[i] != want[i] {
			t.Fatalf("moves %q, want %q", m.sets, want)
		}
	}
}

// The first candidate that answers is kept: with only IPv4 working the
// link settles there and stays, apart from the short tries of IPv6 at
// each retry slot, which go back at once.
func TestPathsStayAndTry(t *testing.T) {
	retry := time.Minute
	m := newPathSim(t, retry, cand6, cand4)
	m.works[conf.PathIPv4] = true
	m.run(12 * time.Second)
	m.wantKind(conf.PathIPv4)
	if m.s.mode != pathSettled {
		t.Fatalf("mode %d after IPv4 answered, want settled", m.s.mode)
	}
	off := 0
	for i := 0; i < 5*60; i++ {
		m.run(time.Second)
		if m.kind() != conf.PathIPv4 {
			off++
			if at := m.now.UnixNano() % int64(retry); time.Duration(at) > pathDwell {
				t.Fatalf("at %s off IPv4 %v into a retry slot, want only within the first %v", m.at(), time.Duration(at), pathDwell)
			}
		}
	}
	m.wantKind(conf.PathIPv4)
	// 5 minutes, 4 or 5 tries (the slot it settled in is skipped), each
	// at most pathDwell long.
	if tries := len(m.sets) - 1; tries < 8 || tries > 10 {
		t.Errorf("%d moves in 5 minutes with a 1-minute retry, want 4 or 5 tries and returns: %q", tries, m.sets)
	}
	if off > 5*int(pathDwell/time.Second) {
		t.Errorf("off IPv4 for %d s in 5 minutes, want at most %v per try", off, pathDwell)
	}
}

// When the better path starts working, the next try moves the link there
// for good.
func TestPathsUpgrade(t *testing.T) {
	retry := time.Minute
	m := newPathSim(t, retry, cand6, cand4)
	m.works[conf.PathIPv4] = true
	m.run(3 * time.Minute)
	m.wantKind(conf.PathIPv4)
	m.works[conf.PathIPv6] = true
	m.run(2*retry + time.Second)
	m.wantKind(conf.PathIPv6)
	n := len(m.sets)
	m.run(10 * time.Minute)
	m.wantKind(conf.PathIPv6)
	if len(m.sets) != n {
		t.Errorf("moved again on the best path: %q", m.sets[n:])
	}
}

// When the path in use stops answering, the link falls back to the next
// candidate within pathSilence+pathConfirm (and a second of ticking).
func TestPathsFallback(t *testing.T) {
	m := newPathSim(t, time.Hour, cand6, cand4)
	m.works[conf.PathIPv6], m.works[conf.PathIPv4] = true, true
	m.run(5 * time.Second)
	m.wantKind(conf.PathIPv6)
	m.run(5 * time.Minute) // rekeys, keepalives: stays
	m.wantKind(conf.PathIPv6)
	m.works[conf.PathIPv6] = false
	broke := m.now
	for m.kind() == conf.PathIPv6 {
		m.run(time.Second)
		if m.now.Sub(broke) > pathSilence+pathConfirm+2*time.Second {
			t.Fatalf("still on IPv6 %v after it stopped answering", m.now.Sub(broke))
		}
	}
	m.run(2 * time.Second)
	m.wantKind(conf.PathIPv4)
	if m.s.mode != pathSettled {
		t.Errorf("mode %d after falling back, want settled", m.s.mode)
	}
}

// A handshake that completes over another candidate (wireguard-go roamed
// the endpoint to where the peer's packets came from) ends the search:
// the endpoint in use is the path.
func TestPathsRoamed(t *testing.T) {
	m := newPathSim(t, time.Hour, candLAN, cand6, cand4)
	m.run(time.Second) // on LAN, nothing answers
	m.wantKind(conf.PathLAN)
	m.endpoint, m.hs = cand6.Addr, m.now // the peer's handshake came over IPv6
	m.works[conf.PathIPv6] = true
	m.run(time.Minute)
	m.wantKind(conf.PathIPv6)
	if m.s.mode != pathSettled || len(m.sets) != 0 {
		t.Errorf("mode %d, moves %q: want settled on the roamed IPv6 with no further move", m.s.mode, m.sets)
	}
}

// While the stuck-router recovery keeps quiet, the candidate is kept.
func TestPathsPaused(t *testing.T) {
	pp := pathPolicy{retry: time.Hour}
	s := newPathState([]conf.Candidate{cand6, cand4})
	now := time.Unix(1_800_000_000, 0)
	pp.step(s, pathInput{now: now, endpoint: cand6.Addr})
	for i := 1; i < 60; i++ {
		if a := pp.step(s, pathInput{now: now.Add(time.Duration(i) * time.Second), endpoint: cand6.Addr, paused: true}); a.set.IsValid() {
			t.Fatalf("moved to %s while paused", a.set)
		}
	}
	if a := pp.step(s, pathInput{now: now.Add(60 * time.Second), endpoint: cand6.Addr}); a.set.IsValid() {
		t.Errorf("moved to %s at once after the pause, want a full dwell first", a.set)
	}
	if a := pp.step(s, pathInput{now: now.Add(60*time.Second + pathDwell), endpoint: cand6.Addr}); a.set != cand4.Addr {
		t.Errorf("after the pause and a dwell: move to %v, want %v", a.set, cand4.Addr)
	}
}

// One candidate: nothing to do (the stuck-router recovery alone acts).
func TestPathsSingle(t *testing.T) {
	pp := pathPolicy{retry: time.Minute}
	s := newPathState([]conf.Candidate{cand4})
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < 600; i++ {
		if a := pp.step(s, pathInput{now: now.Add(time.Duration(i) * time.Second), endpoint: cand4.Addr}); a.set.IsValid() || a.kick {
			t.Fatalf("acted %+v with one candidate", a)
		}
	}
}
