// Package stunbind lets a running tunnel ask a STUN server for its public
// endpoint through the tunnel's own UDP socket, so the answer is the NAT
// mapping that WireGuard's packets really use, not that of another socket.
//
// A Bind wraps the conn.Bind a wireguard-go device uses (conn.NewDefaultBind
// on Linux). WireGuard traffic passes through unchanged; STUN packets are
// taken out of each received batch before WireGuard sees them and handed to
// the Query waiting for them. The way Tailscale's magicsock and
// stunmesh-go's mobilebind share WireGuard's socket.
//
// # Wiring it into an engine
//
// Where the engine creates the device, wrap the bind and keep the wrapper:
//
//	t.stun = stunbind.New(conn.NewDefaultBind(), stunbind.Options{})
//	t.dev = device.NewDevice(tdev, t.stun, logger)
//
// (t.stun a new *stunbind.Bind field of the engine's tunnel, for Query while
// the tunnel is up; docs/engine.md has the rest.)
//
// The device owns the bind: it opens and closes it (on Up, Down, a changed
// listen_port or fwmark), and the wrapper follows. Nothing else may call
// Open or Close.
//
// One cost on Linux: wireguard-go starts its route listener (which clears
// a peer's cached source address when the route to it changes) only for a
// bare *conn.StdNetBind. Behind the wrapper, a stale source address is
// cleared instead when a handshake goes unanswered (wireguard-go's
// retransmit timers do that for any bind) or when the bind is reopened.
//
// On Windows, WireGuardNT owns the tunnel's socket and no Bind exists to
// wrap; see docs/engine.md.
package stunbind

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v3"
	"golang.zx2c4.com/wireguard/conn"
)

// ErrClosed is returned by Query while the bind is not open: before the
// device first opens it, after Close, and to queries that were waiting when
// Close was called. errors.Is(err, net.ErrClosed) holds as well.
var ErrClosed = fmt.Errorf("the tunnel's socket is not open (tunnel down or rebinding): %w", net.ErrClosed)

// ErrNoAnswer is returned (wrapped) by Query when the server did not answer
// in time.
var ErrNoAnswer = errors.New("no answer from the STUN server")

// Default timings of a Query.
const (
	DefaultTimeout = 3 * time.Second
)

// DefaultRetransmits are the times, from the first send, at which a Query
// (re)sends its binding request.
func DefaultRetransmits() []time.Duration {
	return []time.Duration{0, 250 * time.Millisecond, 750 * time.Millisecond, 1750 * time.Millisecond}
}

// Options tune a Bind. Zero fields mean the defaults.
type Options struct {
	// Timeout bounds one Query when its context has no earlier deadline
	// (DefaultTimeout).
	Timeout time.Duration
	// Retransmits are the send times of a query's request from the first
	// send; the first should be 0 (DefaultRetransmits).
	Retransmits []time.Duration
	// Logf receives a debug line per dropped STUN packet; nil discards.
	// Anyone who can reach the tunnel's port can make it print, and it is
	// called from WireGuard's receive goroutines: give it nothing that
	// blocks or fills a disk (nil, or a rate-limited logger).
	Logf func(format string, args ...any)
}

// Stats counts the STUN packets a Bind took out of WireGuard's batches.
type Stats struct {
	STUN      uint64 // STUN-shaped packets received (none reached WireGuard)
	Answers   uint64 // of those, answers that completed a query
	Unmatched uint64 // no query waits for that transaction ID from that sender
	Malformed uint64 // a waited-for transaction, but no usable binding response
}

// Bind is a conn.Bind that passes WireGuard's traffic to and from the
// wrapped bind and answers Query with the public endpoint a STUN server
// sees for the same socket.
//
// Contract:
//   - Open, Close, SetMark, Send, ParseEndpoint and BatchSize behave as the
//     wrapped bind's; errors from it are returned unchanged.
//   - The receive functions returned by Open return what the wrapped ones
//     return, minus STUN packets (looksLikeSTUN): the batch is compacted,
//     bytes, sizes and endpoints moved down in place, so element i of the
//     caller's buffers is still the i-th packet reported. (Swapping the
//     slice headers instead would break wireguard-go, which reads its own
//     backing arrays by index.) A batch of nothing but STUN is not reported;
//     the function reads again. STUN packets never cause an error.
//   - The per-packet cost for WireGuard traffic is a length and two byte
//     comparisons; only a batch holding a STUN packet is copied.
//   - Query is safe for concurrent use, from any goroutine, at any time.
type Bind struct {
	inner       conn.Bind
	timeout     time.Duration
	retransmits []time.Duration
	logf        func(string, ...any)

	opMu sync.Mutex // serializes Open and Close

	mu      sync.Mutex // guards the fields below; never held across I/O
	open    bool
	port    uint16
	waiting map[[stun.TransactionIDSize]byte]*waiter

	stunPkts, answers, unmatched, malformed atomic.Uint64
}

var _ conn.Bind = (*Bind)(nil)

// New wraps inner, which must not be opened by anyone but the returned
// Bind's user (the device).
func New(inner conn.Bind, opts Options) *Bind {
	b := &Bind{
		inner:       inner,
		timeout:     opts.Timeout,
		retransmits: opts.Retransmits,
		logf:        opts.Logf,
		waiting:     make(map[[stun.TransactionIDSize]byte]*waiter),
	}
	if b.timeout <= 0 {
		b.timeout = DefaultTimeout
	}
	if len(b.retransmits) == 0 {
		b.retransmits = DefaultRetransmits()
	}
	if b.logf == nil {
		b.logf = func(string, ...any) {}
	}
	return b
}

// Open opens the wrapped bind and returns its receive functions with the
// STUN filter in front of each.
func (b *Bind) Open(port uint16) ([]conn.ReceiveFunc, uint16, error) {
	b.opMu.Lock()
	defer b.opMu.Unlock()
	fns, actual, err := b.inner.Open(port)
	if err != nil {
		return nil, 0, err
	}
	wrapped := make([]conn.ReceiveFunc, len(fns))
	for i, fn := range fns {
		// Keep wireguard-go's "v4"/"v6" names in its log lines
		// (ReceiveFunc.PrettyName goes by the function's name).
		switch fn.PrettyName() {
		case "v4":
			wrapped[i] = b.filterIPv4(fn)
		case "v6":
			wrapped[i] = b.filterIPv6(fn)
		default:
			wrapped[i] = b.filter(fn)
		}
	}
	b.mu.Lock()
	b.open = true
	b.port = actual
	b.mu.Unlock()
	return wrapped, actual, nil
}

// Close fails every waiting query with ErrClosed and closes the wrapped
// bind. A later Open makes Query work again.
func (b *Bind) Close() error {
	b.opMu.Lock()
	defer b.opMu.Unlock()
	b.mu.Lock()
	b.open = false
	b.port = 0
	for id, w := range b.waiting {
		delete(b.waiting, id)
		w.done <- result{err: ErrClosed}
	}
	b.mu.Unlock()
	return b.inner.Close()
}

// Port returns the port the bind is open on, and false while it is closed.
func (b *Bind) Port() (uint16, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.port, b.open
}

// Stats returns the STUN packet counters since New.
func (b *Bind) Stats() Stats {
	return Stats{
		STUN:      b.stunPkts.Load(),
		Answers:   b.answers.Load(),
		Unmatched: b.unmatched.Load(),
		Malformed: b.malformed.Load(),
	}
}

func (b *Bind) SetMark(mark uint32) error                  { return b.inner.SetMark(mark) }
func (b *Bind) Send(bufs [][]byte, ep conn.Endpoint) error { return b.inner.Send(bufs, ep) }
func (b *Bind) ParseEndpoint(s string) (conn.Endpoint, error) {
	return b.inner.ParseEndpoint(s)
}
func (b *Bind) BatchSize() int { return b.inner.BatchSize() }

func (b *Bind) filterIPv4(fn conn.ReceiveFunc) conn.ReceiveFunc {
	return func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		return b.receive(fn, bufs, sizes, eps)
	}
}

func (b *Bind) filterIPv6(fn conn.ReceiveFunc) conn.ReceiveFunc {
	return func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		return b.receive(fn, bufs, sizes, eps)
	}
}

func (b *Bind) filter(fn conn.ReceiveFunc) conn.ReceiveFunc {
	return func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		return b.receive(fn, bufs, sizes, eps)
	}
}

// receive calls fn until it reports at least one packet that is not STUN,
// and compacts the batch so only those are left in bufs[:n], sizes[:n]
// and eps[:n].
func (b *Bind) receive(fn conn.ReceiveFunc, bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
	for {
		n, err := fn(bufs, sizes, eps)
		if err != nil {
			return n, err
		}
		// Fast path: find the first STUN packet, if any.
		i := 0
		for i < n && !looksLikeSTUN(bufs[i][:sizes[i]]) {
			i++
		}
		if i == n {
			return n, nil
		}
		// Slow path, a batch with STUN in it: hand those over and move
		// the others down. Every buffer wireguard-go passes is the same
		// size, so a copy never truncates.
		w := i
		for ; i < n; i++ {
			p := bufs[i][:sizes[i]]
			if looksLikeSTUN(p) {
				b.handleSTUN(p, eps[i])
				continue
			}
			sizes[w] = copy(bufs[w], p)
			eps[w] = eps[i]
			w++
		}
		for j := w; j < n; j++ {
			sizes[j] = 0
			eps[j] = nil
		}
		if w > 0 {
			return w, nil
		}
	}
}

// handleSTUN gives p to the query waiting for its transaction ID, if it
// comes from that query's server and is a usable binding response. It
// copies what it keeps: p belongs to WireGuard.
func (b *Bind) handleSTUN(p []byte, ep conn.Endpoint) {
	b.stunPkts.Add(1)
	var id [stun.TransactionIDSize]byte
	copy(id[:], p[8:stunHeaderSize])
	b.mu.Lock()
	w := b.waiting[id]
	b.mu.Unlock()
	from := endpointAddr(ep)
	if w == nil || from != w.server {
		b.unmatched.Add(1)
		b.logf("stunbind: dropped STUN packet from %v: no query waits for it", from)
		return
	}
	m := &stun.Message{Raw: append([]byte(nil), p...)}
	r, err := parseAnswer(m)
	if err != nil {
		b.malformed.Add(1)
		b.logf("stunbind: dropped STUN packet from %v: %v", from, err)
		return
	}
	// Whoever takes the waiter out of the map hands it its one result: a
	// retransmit's answer or Close may have come first.
	b.mu.Lock()
	mine := b.waiting[id] == w
	if mine {
		delete(b.waiting, id)
	}
	b.mu.Unlock()
	if !mine {
		b.unmatched.Add(1)
		return
	}
	b.answers.Add(1) // before the query wakes, so its Stats include this
	w.done <- r
}

// endpointAddr is the sender of a received packet, unmapped; zero if
// unknown.
func endpointAddr(ep conn.Endpoint) netip.AddrPort {
	var ap netip.AddrPort
	switch e := ep.(type) {
	case *conn.StdNetEndpoint:
		ap = e.AddrPort
	case nil:
		return netip.AddrPort{}
	default:
		ap, _ = netip.ParseAddrPort(e.DstToString())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
