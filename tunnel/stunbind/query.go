package stunbind

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"
)

// result is what the receive path hands a waiting query.
type result struct {
	mapped netip.AddrPort
	err    error // the server answered with an error response, or Close
}

// waiter is one query waiting for its answer. It is in Bind.waiting until
// it has a result; whoever removes it from there (the receive path with an
// answer, Close, or the query itself when it gives up) is the only one who
// may send on done.
type waiter struct {
	server netip.AddrPort // answers from anywhere else are not ours
	done   chan result    // buffered 1: sending never blocks
}

// Query sends a STUN Binding request to server from the tunnel's socket
// and returns the XOR-MAPPED-ADDRESS of the answer: this socket's endpoint
// as the server sees it. It resends the request on the Options schedule
// and gives up after the Options timeout or when ctx is done, whichever
// comes first, with an error wrapping ErrNoAnswer (or ctx's error when it
// was cancelled). While the bind is closed, or when it closes during the
// query, the error wraps ErrClosed.
//
// Only an answer with the request's transaction ID, from server's address
// and port, completes the query; anything else is dropped and counted in
// Stats.
func (b *Bind) Query(ctx context.Context, server netip.AddrPort) (netip.AddrPort, error) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	if !server.IsValid() || server.Addr().IsUnspecified() || server.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("STUN query: bad server address %v", server)
	}
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("STUN query to %v: build request: %w", server, err)
	}
	ep, err := b.inner.ParseEndpoint(server.String())
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w", server, err)
	}

	w := &waiter{server: server, done: make(chan result, 1)}
	b.mu.Lock()
	if !b.open {
		b.mu.Unlock()
		return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w", server, ErrClosed)
	}
	b.waiting[req.TransactionID] = w
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if b.waiting[req.TransactionID] == w {
			delete(b.waiting, req.TransactionID)
		}
		b.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var sendErr error
	for next := 0; ; {
		select {
		case r := <-w.done:
			if r.err != nil {
				return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w", server, r.err)
			}
			return r.mapped, nil
		case <-ctx.Done():
			// An answer that raced with the deadline still counts.
			select {
			case r := <-w.done:
				if r.err == nil {
					return r.mapped, nil
				}
			default:
			}
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w", server, ctx.Err())
			}
			wait := time.Since(start).Round(10 * time.Millisecond)
			if sendErr != nil {
				return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w within %v (last send failed: %v)", server, ErrNoAnswer, wait, sendErr)
			}
			return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w within %v", server, ErrNoAnswer, wait)
		case <-timer.C:
			// Send takes the buffers as they are; req.Raw is not reused.
			if err := b.inner.Send([][]byte{req.Raw}, ep); err != nil {
				if _, open := b.Port(); !open {
					return netip.AddrPort{}, fmt.Errorf("STUN query to %v: %w", server, ErrClosed)
				}
				sendErr = err // network unreachable and such: try again
			} else {
				sendErr = nil
			}
			if next++; next < len(b.retransmits) {
				timer.Reset(time.Until(start.Add(b.retransmits[next])))
			}
		}
	}
}

// parseAnswer decodes a binding response to one of our requests.
func parseAnswer(m *stun.Message) (result, error) {
	if err := m.Decode(); err != nil {
		return result{}, fmt.Errorf("bad STUN message: %w", err)
	}
	if m.Contains(stun.AttrFingerprint) {
		if err := stun.Fingerprint.Check(m); err != nil {
			return result{}, fmt.Errorf("bad STUN fingerprint: %w", err)
		}
	}
	switch m.Type {
	case stun.BindingSuccess:
		var xor stun.XORMappedAddress
		if err := xor.GetFrom(m); err != nil {
			return result{}, fmt.Errorf("binding response without XOR-MAPPED-ADDRESS: %w", err)
		}
		addr, ok := netip.AddrFromSlice(xor.IP)
		if !ok || addr.Unmap().IsUnspecified() || xor.Port <= 0 || xor.Port > 65535 {
			return result{}, fmt.Errorf("binding response with bad address %v:%d", xor.IP, xor.Port)
		}
		return result{mapped: netip.AddrPortFrom(addr.Unmap(), uint16(xor.Port))}, nil
	case stun.BindingError:
		var code stun.ErrorCodeAttribute
		if err := code.GetFrom(m); err == nil {
			return result{err: fmt.Errorf("server refused the request: %d %s", code.Code, code.Reason)}, nil
		}
		return result{err: errors.New("server refused the request")}, nil
	default:
		return result{}, fmt.Errorf("STUN %v is not a binding response", m.Type)
	}
}
