package natcheck

import (
	"context"
	"net"
	"testing"

	"github.com/pion/stun/v3"
)

// BenchmarkCheck measures a whole check against two fake servers on
// loopback: socket, two requests, two answers, verdict.
func BenchmarkCheck(b *testing.B) {
	nat := func(s *fakeServer) { s.mapped = ap(natIP + ":40000") }
	opts := Options{Servers: []string{startFake(b, "127.0.0.2", nat).addr(), startFake(b, "127.0.0.3", nat).addr()}}
	for b.Loop() {
		r, err := Check(context.Background(), opts)
		if err != nil || r.Mapping != MappingEndpointIndependent {
			b.Fatalf("Check: %v %+v", err, r)
		}
	}
}

// FuzzMappedAddress feeds arbitrary answers to the decoder the reader uses.
func FuzzMappedAddress(f *testing.F) {
	m := stun.MustBuild(stun.TransactionID, stun.BindingSuccess, &stun.XORMappedAddress{IP: net.IPv4(203, 0, 113, 7), Port: 40000})
	f.Add(m.Raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		msg := &stun.Message{Raw: append([]byte(nil), b...)}
		if msg.Decode() != nil {
			return
		}
		if a, err := mappedAddress(msg); err == nil && (!a.Addr().Is4() || a.Port() == 0) {
			t.Errorf("accepted unusable address %v", a)
		}
	})
}
