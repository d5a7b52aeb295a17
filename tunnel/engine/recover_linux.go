package engine

// The Linux side of stuck-mapping recovery (unstick.go): the device sends
// through muteBind, which drops what goes to a peer's endpoint while its
// quiet phase lasts, and one goroutine per tunnel (watchStuck) steps every
// peer's schedule once a second, and says whether a peer is without a
// session, which decides where the public address probe (engine.Prober)
// asks from (PublicAddress).

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// muteBind drops sends to muted endpoints (a quiet phase), passing all
// else to the wrapped bind.
type muteBind struct {
	conn.Bind
	mu    sync.RWMutex
	muted map[netip.AddrPort]bool
}

func (m *muteBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	m.mu.RLock()
	quiet := len(m.muted) > 0 && m.muted[endpointOf(ep)]
	m.mu.RUnlock()
	if quiet {
		return nil // dropped on purpose: the quiet phase lets routers forget
	}
	return m.Bind.Send(bufs, ep)
}

func (m *muteBind) set(ep netip.AddrPort, quiet bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if quiet {
		if m.muted == nil {
			m.muted = map[netip.AddrPort]bool{}
		}
		m.muted[ep] = true
	} else {
		delete(m.muted, ep)
	}
}

func endpointOf(ep conn.Endpoint) netip.AddrPort {
	if ep == nil {
		return netip.AddrPort{}
	}
	ap := ep.DstIP()
	s, err := netip.ParseAddrPort(ep.DstToString())
	if err != nil {
		return netip.AddrPortFrom(ap.Unmap(), 0)
	}
	return netip.AddrPortFrom(s.Addr().Unmap(), s.Port())
}

// stuckPeer is one peer's recovery, kept by watchStuck.
type stuckPeer struct {
	state    unstickState
	muted    netip.AddrPort // the endpoint muted now, if any
	until    time.Time      // end of the quiet phase
	loggedAt time.Time      // the slot whose start was logged
}

// watchStuck steps the recovery of t's peers every second until t stops.
func (e *linuxEngine) watchStuck(t *tunnel) {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	ours := t.pub
	peers := map[wgtypes.Key]*stuckPeer{}
	paths := map[wgtypes.Key]*pathState{}
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		samples, err := peerSamples(t.dev)
		if err != nil {
			continue
		}
		now := time.Now()
		sessionless := false
		for k, s := range samples {
			p := peers[k]
			if p == nil {
				p = &stuckPeer{}
				peers[k] = p
			}
			if !s.endpoint.IsValid() || (s.keepalive == 0 && !p.muted.IsValid()) {
				// No endpoint, or no keepalive: an idle link without
				// keepalives has no handshake for long stretches and is
				// not stuck; quiet phases would delay its next packets.
				continue
			}
			sessionless = sessionless || !stuckSince(now, t.upAt, s.handshake).IsZero()
			quiet, until := e.unstick.step(&p.state, now, t.upAt, s.handshake, ours, k)
			if quiet && p.muted != s.endpoint {
				if p.muted.IsValid() {
					t.mute.set(p.muted, false)
				}
				t.mute.set(s.endpoint, true)
				p.muted = s.endpoint
				if k0, start := e.unstick.slot(now); !start.Equal(p.loggedAt) {
					p.loggedAt = start
					e.logf("tunnel %s: peer %s answers none of our handshakes; a router on the way may hold a wrong entry: staying quiet toward %s until %s so routers forget it, then trying again (round %d)", t.name, keyLabel(k), s.endpoint, until.Format("15:04:05"), k0)
				}
			}
			if !quiet && p.muted.IsValid() {
				t.mute.set(p.muted, false)
				p.muted = netip.AddrPort{}
				if peer := t.dev.LookupPeer(device.NoisePublicKey(k)); peer != nil {
					peer.SendKeepalive() // resume at once: a handshake now
				}
			}
			t.recMu.Lock()
			if t.recovering == nil {
				t.recovering = map[wgtypes.Key]time.Duration{}
			}
			t.recovering[k] = e.unstick.waitLeft(&p.state, now, until)
			cands := t.cands[k]
			t.recMu.Unlock()
			e.stepPath(t, k, paths, cands, s, now, quiet || p.muted.IsValid())
		}
		t.recMu.Lock()
		t.sessionless = sessionless
		t.recMu.Unlock()
	}
}

// stepPath moves peer k's endpoint between its candidates (paths.go);
// paused while the recovery keeps quiet toward it. A new candidate list
// (the config was applied again) starts its state afresh.
func (e *linuxEngine) stepPath(t *tunnel, k wgtypes.Key, paths map[wgtypes.Key]*pathState, cands []conf.Candidate, s peerSample, now time.Time, paused bool) {
	ps := paths[k]
	if ps == nil || !slices.Equal(ps.cands, cands) {
		ps = newPathState(cands)
		paths[k] = ps
	}
	a := e.paths.step(ps, pathInput{now: now, handshake: s.handshake, endpoint: s.endpoint, rx: s.rx, paused: paused})
	if a.set.IsValid() {
		if err := t.dev.IpcSet(fmt.Sprintf("public_key=%x\nupdate_only=true\nendpoint=%s\n", k[:], a.set)); err != nil {
			e.logf("tunnel %s: peer %s: move to %s: %v", t.name, keyLabel(k), a.set, err)
			return
		}
	}
	if a.log != "" {
		e.logf("tunnel %s: peer %s: %s", t.name, keyLabel(k), a.log)
	}
	if a.kick {
		if peer := t.dev.LookupPeer(device.NoisePublicKey(k)); peer != nil {
			peer.SendHandshakeInitiation(false)
		}
	}
}

// Recovering implements Recoverer.
func (e *linuxEngine) Recovering(name string, peer wgtypes.Key) time.Duration {
	t := e.lookup(name)
	if t == nil {
		return 0
	}
	t.recMu.Lock()
	defer t.recMu.Unlock()
	return t.recovering[peer]
}

// PublicAddress implements Prober: a STUN query from tunnel name's own
// socket, so the answer is the tunnel's real mapping. While a peer has no
// session (it may be stuck behind a router that gave our socket a wrong
// port), the query goes from a separate socket instead and only the
// address counts (port 0), except once every socketProbeEvery: Linux NAT
// gives every new flow of a socket the port an existing flow of it has,
// and an expired flow keeps lending it until conntrack's garbage
// collection (up to a minute later), so a query from the tunnel's socket
// would keep the wrong port alive across the recovery's quiet phase. It
// does not hold e.op (a query may take seconds).
func (e *linuxEngine) PublicAddress(ctx context.Context, name string, server netip.AddrPort) (netip.AddrPort, error) {
	t := e.lookup(name)
	if t == nil {
		return netip.AddrPort{}, fmt.Errorf("tunnel %q: %w", name, ErrNotUp)
	}
	now := time.Now()
	t.recMu.Lock()
	own := ownSocketProbe(t.sessionless, now, t.upAt, t.socketProbe)
	if own && t.sessionless {
		t.socketProbe = now
	}
	t.recMu.Unlock()
	if !own {
		return separateProbe(ctx, server)
	}
	return t.stun.Query(ctx, server)
}

func keyLabel(k wgtypes.Key) string { return k.String()[:8] + "…" }
