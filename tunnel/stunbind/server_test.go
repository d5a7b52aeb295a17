package stunbind

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/stun/v3"
)

// stunServer is a STUN server on 127.0.0.1 started by the test. It answers
// binding requests with the source it saw, and can surround the answer with
// packets that must not answer the query.
type stunServer struct {
	conn  *net.UDPConn
	other *net.UDPConn // a second socket, for answers from the wrong port

	impostors bool // before each answer: wrong-transaction answer, answer from the other port, truncated answer, STUN look-alike
	noAnswer  bool // impostors only, never the real answer
	silent    bool // count requests, answer nothing

	requests atomic.Int32
	mu       sync.Mutex
	seen     netip.AddrPort // source of the last request
}

// Packets the server sends per request in impostors mode: how many are
// STUN (taken out by the bind) and how many only look like it (go on to
// WireGuard, which drops them).
const (
	impostorSTUN      = 3
	impostorLookalike = 1
)

func startSTUN(t testing.TB, configure func(*stunServer)) *stunServer {
	t.Helper()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatalf("listen STUN server: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	s := &stunServer{conn: listen(), other: listen()}
	if configure != nil {
		configure(s)
	}
	go s.serve(t)
	return s
}

func (s *stunServer) addr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (s *stunServer) lastSeen() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

func (s *stunServer) serve(t testing.TB) {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := req.Decode(); err != nil || req.Type != stun.BindingRequest {
			t.Errorf("STUN server got something that is not a binding request (%d bytes): %v", n, err)
			continue
		}
		s.mu.Lock()
		s.seen = from
		s.mu.Unlock()
		s.requests.Add(1)
		if s.silent {
			continue
		}
		good := stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())}, stun.Fingerprint)
		if s.impostors || s.noAnswer {
			// A well-formed answer to a request never made, pointing elsewhere.
			wrong := stun.MustBuild(stun.TransactionID, stun.BindingSuccess,
				&stun.XORMappedAddress{IP: net.IPv4(198, 51, 100, 1), Port: 1}, stun.Fingerprint)
			s.conn.WriteToUDPAddrPort(wrong.Raw, from)
			// The right answer from the wrong port.
			s.other.WriteToUDPAddrPort(good.Raw, from)
			// The right answer cut short: header and part of an attribute.
			s.conn.WriteToUDPAddrPort(good.Raw[:stunHeaderSize+6], from)
			// Cookie and transaction ID, but the top bits of a non-STUN
			// protocol: this one is WireGuard's to drop.
			lookalike := append([]byte(nil), good.Raw...)
			lookalike[0] |= 0xC0
			s.conn.WriteToUDPAddrPort(lookalike, from)
		}
		if s.noAnswer {
			continue
		}
		s.conn.WriteToUDPAddrPort(good.Raw, from)
	}
}
