package stunbind

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"golang.org/x/net/ipv4"
	"golang.zx2c4.com/wireguard/conn"
)

// BenchmarkReceive measures the receive path WireGuard calls, bare and
// wrapped, side by side. It reports ns/pkt:
//
//   - memory: a receive function that hands over a full batch of 128
//     transport-sized packets without a syscall, so only the filter's own
//     cost shows; "wrapped+stun" has one STUN packet at the front of every
//     batch, the worst case, where the other 127 are moved down (once per
//     answered query in real life).
//   - loopback: conn.NewDefaultBind on 127.0.0.1 fed by another socket
//     with sendmmsg; syscalls and the sender's pace dominate, pkts/call
//     says how full the batches were.
func BenchmarkReceive(b *testing.B) {
	const batch = conn.IdealBatchSize
	pkt := wgPacket(4, 1280, 7)
	from := &conn.StdNetEndpoint{AddrPort: netip.MustParseAddrPort("198.51.100.9:51820")}
	var txid [stun.TransactionIDSize]byte
	stunPkt := answerTo(b, txid, fakeMapped)

	memory := func(withSTUN bool) conn.ReceiveFunc {
		return func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
			for i := range batch {
				sizes[i] = len(pkt)
				eps[i] = from
			}
			if withSTUN {
				sizes[0] = copy(bufs[0], stunPkt)
			}
			return batch, nil
		}
	}
	run := func(b *testing.B, fn conn.ReceiveFunc) {
		r := newDeviceReader(batch)
		for i := range r.arrs {
			copy(r.arrs[i], pkt)
		}
		for i := range r.bufs {
			r.bufs[i] = r.arrs[i][:]
		}
		b.ReportAllocs()
		b.ResetTimer()
		pkts := 0
		for b.Loop() {
			n, err := fn(r.bufs, r.sizes, r.eps)
			if err != nil {
				b.Fatal(err)
			}
			pkts += n
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/pkt")
	}
	wrap := func(fn conn.ReceiveFunc) conn.ReceiveFunc {
		w := New(newFakeBind(), Options{})
		return w.filter(fn)
	}
	b.Run("memory/bare", func(b *testing.B) { run(b, memory(false)) })
	// bare+read also reads the first byte of every packet, as wireguard-go
	// does next for the message type: most of what "wrapped" adds over
	// "bare" is that first touch of the packet, which moves, not adds.
	var sink byte
	b.Run("memory/bare+read", func(b *testing.B) {
		fn := memory(false)
		run(b, func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
			n, err := fn(bufs, sizes, eps)
			for i := 0; i < n; i++ {
				sink += bufs[i][0]
			}
			return n, err
		})
	})
	b.Run("memory/wrapped", func(b *testing.B) { run(b, wrap(memory(false))) })
	b.Run("memory/wrapped+stun", func(b *testing.B) { run(b, wrap(memory(true))) })

	loopback := func(b *testing.B, wrapped bool) {
		var bind conn.Bind = conn.NewDefaultBind()
		if wrapped {
			bind = New(bind, Options{})
		}
		fns, port, err := bind.Open(0)
		if err != nil {
			b.Fatal(err)
		}
		defer bind.Close()
		var recv4 conn.ReceiveFunc
		for _, fn := range fns {
			if fn.PrettyName() == "v4" {
				recv4 = fn
			}
		}
		if recv4 == nil {
			b.Fatal("no IPv4 receive function")
		}
		stop := sendFlood(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), pkt)
		defer stop()
		r := newDeviceReader(bind.BatchSize())
		b.ResetTimer()
		pkts, calls := 0, 0
		start := time.Now()
		for ; pkts < b.N; calls++ {
			for i := range r.bufs {
				r.bufs[i] = r.arrs[i][:]
			}
			n, err := recv4(r.bufs, r.sizes, r.eps)
			if err != nil {
				b.Fatal(err)
			}
			pkts += n
		}
		took := time.Since(start)
		b.ReportMetric(float64(took.Nanoseconds())/float64(pkts), "ns/pkt")
		b.ReportMetric(float64(pkts)/float64(calls), "pkts/call")
	}
	b.Run("loopback/bare", func(b *testing.B) { loopback(b, false) })
	b.Run("loopback/wrapped", func(b *testing.B) { loopback(b, true) })
}

// sendFlood sends pkt to dst from another loopback socket, 64 per
// sendmmsg, until the returned function is called.
func sendFlood(b *testing.B, dst netip.AddrPort, pkt []byte) (stop func()) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	pc := ipv4.NewPacketConn(c)
	msgs := make([]ipv4.Message, 64)
	to := net.UDPAddrFromAddrPort(dst)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{pkt}, Addr: to}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := pc.WriteBatch(msgs, 0); err != nil {
				// ENOBUFS and the like: the receiver is behind; go on.
				continue
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		c.Close()
	}
}
