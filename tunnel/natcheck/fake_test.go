package natcheck

import (
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// fakeServer is a STUN server on a loopback address. Its behaviour is set
// per test; it never talks to anything but the client that asked.
type fakeServer struct {
	conn     *net.UDPConn
	mapped   netip.AddrPort // reported address; zero: the real source
	silent   bool           // read and drop everything ("dead" server)
	garbage  int            // send this many garbage packets before answering
	wrongTx  bool           // answer with a wrong transaction ID first
	onlyBad  bool           // never send a good answer (with garbage/wrongTx)
	plain    bool           // MAPPED-ADDRESS instead of XOR-MAPPED-ADDRESS
	refuse   bool           // binding error response
	delay    time.Duration  // wait before answering
	requests atomic.Int32
}

// startFake listens on ip:0 (ip in 127/8, all routed to lo on Linux, or
// ::1).
func startFake(t testing.TB, ip string, configure func(*fakeServer)) *fakeServer {
	t.Helper()
	network := "udp4"
	if strings.Contains(ip, ":") {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatalf("listen fake STUN server on %s: %v", ip, err)
	}
	s := &fakeServer{conn: c}
	if configure != nil {
		configure(s)
	}
	t.Cleanup(func() { c.Close() })
	go s.serve(t)
	return s
}

func (s *fakeServer) addr() string { return s.conn.LocalAddr().String() }

func (s *fakeServer) serve(t testing.TB) {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		s.requests.Add(1)
		if s.silent {
			continue
		}
		req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := req.Decode(); err != nil || req.Type != stun.BindingRequest {
			t.Errorf("fake STUN server got a bad request: %v", err)
			continue
		}
		go s.answer(t, req, from)
	}
}

func (s *fakeServer) answer(t testing.TB, req *stun.Message, from netip.AddrPort) {
	time.Sleep(s.delay)
	send := func(b []byte) { s.conn.WriteToUDPAddrPort(b, from) }
	for i := 0; i < s.garbage; i++ {
		send([]byte("this is not a STUN message at all"))
		// STUN-looking header with a broken body.
		bad := append([]byte{0x01, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42}, req.TransactionID[:]...)
		send(append(bad, 0x00, 0x20, 0x00, 0x10))
	}
	mapped := s.mapped
	if !mapped.IsValid() {
		mapped = from
	}
	var addr stun.Setter = &stun.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}
	if s.plain {
		addr = &stun.MappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}
	}
	if s.wrongTx {
		// A well-formed answer to a request we never saw, pointing elsewhere.
		m := stun.MustBuild(stun.TransactionID, stun.BindingSuccess,
			&stun.XORMappedAddress{IP: net.IPv4(198, 51, 100, 1), Port: 1})
		send(m.Raw)
	}
	if s.onlyBad {
		return
	}
	var m *stun.Message
	var err error
	if s.refuse {
		m, err = stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingError,
			stun.ErrorCodeAttribute{Code: stun.CodeBadRequest, Reason: []byte("no thanks")})
	} else {
		m, err = stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess, addr, stun.Fingerprint)
	}
	if err != nil {
		t.Errorf("build answer: %v", err)
		return
	}
	send(m.Raw)
}
