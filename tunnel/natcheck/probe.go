package natcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/pion/stun/v3"
)

// answer is one server's successful reply.
type answer struct {
	index  int            // into the results
	server netip.AddrPort // where we sent the request
	mapped netip.AddrPort // what the server saw
}

// event is what the reader goroutine hands to the prober.
type event struct {
	slot   int // into prober.slots
	mapped netip.AddrPort
	err    error // the server answered, but not with an address
	at     time.Time
}

// slot is the state of one server during a probe.
type slot struct {
	target
	txid    [stun.TransactionIDSize]byte
	request []byte
	sent    time.Time
	sendErr error
	done    bool
}

// prober sends binding requests to all targets, over conn (IPv4 targets)
// or conn6 (IPv6 targets, nil if none), and collects the answers.
type prober struct {
	conn        net.PacketConn
	conn6       net.PacketConn
	logf        func(string, ...any)
	progress    func(ServerResult)
	retransmits []time.Duration // send times from the first; not empty
}

// connFor is the socket for packets to addr.
func (p *prober) connFor(addr netip.AddrPort) net.PacketConn {
	if addr.Addr().Is6() {
		return p.conn6
	}
	return p.conn
}

// run probes targets until every one has answered or ctx is done.
// It fills results and calls progress once per result below nProgress.
func (p *prober) run(ctx context.Context, targets []target, results []ServerResult, nProgress int) []answer {
	report := func(i int) {
		if p.progress != nil && i < nProgress {
			p.progress(results[i])
		}
	}
	// Servers that could not even be resolved are final already.
	resolved := make(map[int]bool, len(targets))
	for _, t := range targets {
		resolved[t.index] = true
	}
	for i := range results {
		if !resolved[i] {
			report(i)
		}
	}
	if len(targets) == 0 {
		return nil
	}

	slots := make([]*slot, len(targets))
	byTxID := make(map[[stun.TransactionIDSize]byte]int, len(targets))
	for i, t := range targets {
		m, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		if err != nil {
			// Only crypto/rand failing can get here.
			results[t.index].Error = fmt.Sprintf("build STUN request: %v", err)
			report(t.index)
			continue
		}
		slots[i] = &slot{target: t, txid: m.TransactionID, request: m.Raw}
		byTxID[m.TransactionID] = i
	}

	conns := []net.PacketConn{p.conn}
	if p.conn6 != nil {
		conns = append(conns, p.conn6)
	}
	want6 := func(i int) bool { return slots[i].addr.Addr().Is6() }
	events := make(chan event)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.read(c, byTxID, want6, events, stop)
		}()
		if dl, ok := ctx.Deadline(); ok {
			c.SetReadDeadline(dl)
		}
	}

	var answers []answer
	pending := 0
	for _, s := range slots {
		if s != nil {
			pending++
		}
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := 0
loop:
	for pending > 0 {
		select {
		case <-ctx.Done():
			break loop
		case <-timer.C:
			p.sendAll(slots)
			// A server that cannot be reached at all (no route: typically
			// IPv6 on a machine without it) is final at once, so it does
			// not hold the check up until the timeout.
			for _, s := range slots {
				if s != nil && !s.done && unreachable(s.sendErr) {
					s.done = true
					pending--
					results[s.index].Error = fmt.Sprintf("send to %s: %v", s.addr, s.sendErr)
					report(s.index)
				}
			}
			next++
			if next < len(p.retransmits) {
				timer.Reset(time.Until(start.Add(p.retransmits[next])))
			}
		case ev := <-events:
			s := slots[ev.slot]
			if s.done {
				continue // answer to a retransmit
			}
			s.done = true
			pending--
			r := &results[s.index]
			r.RTTMilli = ev.at.Sub(s.sent).Milliseconds()
			if ev.err != nil {
				r.Error = ev.err.Error()
			} else {
				r.Mapped = ev.mapped.String()
				answers = append(answers, answer{index: s.index, server: s.addr, mapped: ev.mapped})
			}
			p.logf("natcheck: %s (%s) answered in %d ms: mapped %s", r.Server, r.Address, r.RTTMilli, r.Mapped)
			report(s.index)
		}
	}

	// Stop the readers: a read deadline in the past wakes them up.
	close(stop)
	for _, c := range conns {
		c.SetReadDeadline(time.Unix(1, 0))
	}
	wg.Wait()
	for _, c := range conns {
		c.SetReadDeadline(time.Time{})
	}

	wait := time.Since(start).Round(100 * time.Millisecond)
	for _, s := range slots {
		if s == nil || s.done {
			continue
		}
		r := &results[s.index]
		switch {
		case s.sendErr != nil:
			r.Error = fmt.Sprintf("send to %s: %v", s.addr, s.sendErr)
		case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			r.Error = "check cancelled"
		default:
			r.Error = fmt.Sprintf("no answer within %.1f s", wait.Seconds())
		}
		report(s.index)
	}
	// Keep answers in the order the servers were given.
	slices.SortFunc(answers, func(a, b answer) int { return a.index - b.index })
	return answers
}

// unreachable reports whether a send failed because there is no way to
// the server from here (no route, no source address of its family).
func unreachable(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

// sendAll (re)sends the request to every server that has not answered.
func (p *prober) sendAll(slots []*slot) {
	for _, s := range slots {
		if s == nil || s.done {
			continue
		}
		if s.sent.IsZero() {
			s.sent = time.Now()
		}
		_, err := p.connFor(s.addr).WriteTo(s.request, net.UDPAddrFromAddrPort(s.addr))
		if err != nil {
			p.logf("natcheck: send to %s: %v", s.addr, err)
			s.sendErr = err
			continue
		}
		s.sendErr = nil
	}
}

// read decodes packets from conn until the read deadline passes. Packets
// that are not STUN, not a binding response or not ours are dropped.
// want6 says whether a slot's server is asked over IPv6: its answer must
// carry an IPv6 address, an IPv4 server's an IPv4 one.
func (p *prober) read(conn net.PacketConn, byTxID map[[stun.TransactionIDSize]byte]int, want6 func(int) bool, events chan<- event, stop <-chan struct{}) {
	buf := make([]byte, 1500)
	failures := 0
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
				return
			}
			// Unconnected UDP sockets rarely fail; do not spin if one does.
			if failures++; failures > 100 {
				p.logf("natcheck: read: %v", err)
				return
			}
			continue
		}
		at := time.Now()
		if !stun.IsMessage(buf[:n]) {
			p.logf("natcheck: ignored %d non-STUN bytes from %v", n, from)
			continue
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := m.Decode(); err != nil {
			p.logf("natcheck: ignored bad STUN message from %v: %v", from, err)
			continue
		}
		i, ok := byTxID[m.TransactionID]
		if !ok {
			p.logf("natcheck: ignored STUN message with unknown transaction ID from %v", from)
			continue
		}
		ev := event{slot: i, at: at}
		switch m.Type {
		case stun.BindingSuccess:
			ev.mapped, ev.err = mappedAddress(m)
			if ev.err == nil && ev.mapped.Addr().Is6() != want6(i) {
				ev.err = fmt.Errorf("mapped address %v is of the other address family", ev.mapped)
			}
			if ev.err != nil {
				// A broken answer; maybe a retransmit brings a good one.
				p.logf("natcheck: ignored binding response from %v: %v", from, ev.err)
				continue
			}
		case stun.BindingError:
			var code stun.ErrorCodeAttribute
			if err := code.GetFrom(m); err == nil {
				ev.err = fmt.Errorf("server refused the request: %d %s", code.Code, code.Reason)
			} else {
				ev.err = errors.New("server refused the request")
			}
		default:
			p.logf("natcheck: ignored STUN %v from %v", m.Type, from)
			continue
		}
		select {
		case events <- ev:
		case <-stop:
			return
		}
	}
}

// mappedAddress reads XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from old servers.
func mappedAddress(m *stun.Message) (netip.AddrPort, error) {
	var ip net.IP
	var port int
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(m); err == nil {
		ip, port = xor.IP, xor.Port
	} else {
		var plain stun.MappedAddress
		if err2 := plain.GetFrom(m); err2 != nil {
			return netip.AddrPort{}, fmt.Errorf("no mapped address in answer: %w", err)
		}
		ip, port = plain.IP, plain.Port
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok || port <= 0 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("bad mapped address %v:%d", ip, port)
	}
	addr = addr.Unmap()
	if addr.IsUnspecified() || addr.IsMulticast() {
		return netip.AddrPort{}, fmt.Errorf("mapped address %v is not a usable address", addr)
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
