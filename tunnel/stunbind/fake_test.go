package stunbind

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/conn"
)

// fakePacket is one datagram a fakeBind "receives".
type fakePacket struct {
	data []byte
	from netip.AddrPort
}

// fakeBind is a conn.Bind without sockets: each receive returns the next
// batch pushed into rx, and Send hands what it sends to sent. It stands
// in for StdNetBind where a test must control whole batches.
type fakeBind struct {
	rx   chan []fakePacket
	sent chan []byte

	mu     sync.Mutex
	closed chan struct{}
	opens  int
}

func newFakeBind() *fakeBind {
	return &fakeBind{rx: make(chan []fakePacket, 16), sent: make(chan []byte, 16)}
}

func (f *fakeBind) Open(port uint16) ([]conn.ReceiveFunc, uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed != nil {
		return nil, 0, conn.ErrBindAlreadyOpen
	}
	closed := make(chan struct{})
	f.closed = closed
	f.opens++
	fn := func(bufs [][]byte, sizes []int, eps []conn.Endpoint) (int, error) {
		select {
		case <-closed:
			return 0, net.ErrClosed
		case batch := <-f.rx:
			for i, p := range batch {
				sizes[i] = copy(bufs[i], p.data)
				eps[i] = &conn.StdNetEndpoint{AddrPort: p.from}
			}
			return len(batch), nil
		}
	}
	if port == 0 {
		port = 40000
	}
	return []conn.ReceiveFunc{fn}, port, nil
}

func (f *fakeBind) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed != nil {
		close(f.closed)
		f.closed = nil
	}
	return nil
}

func (f *fakeBind) Send(bufs [][]byte, ep conn.Endpoint) error {
	f.mu.Lock()
	open := f.closed != nil
	f.mu.Unlock()
	if !open {
		return net.ErrClosed
	}
	for _, b := range bufs {
		f.sent <- append([]byte(nil), b...)
	}
	return nil
}

func (f *fakeBind) ParseEndpoint(s string) (conn.Endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil, err
	}
	return &conn.StdNetEndpoint{AddrPort: ap}, nil
}

func (f *fakeBind) SetMark(uint32) error { return nil }
func (f *fakeBind) BatchSize() int       { return conn.IdealBatchSize }

// deviceReader reads from a ReceiveFunc the way wireguard-go's
// RoutineReceiveIncoming does: it owns one backing array per slot and
// reads packet i from array i, whatever the function did to the slice
// headers it was given.
type deviceReader struct {
	arrs  [][]byte
	bufs  [][]byte
	sizes []int
	eps   []conn.Endpoint
}

func newDeviceReader(batch int) *deviceReader {
	r := &deviceReader{
		arrs:  make([][]byte, batch),
		bufs:  make([][]byte, batch),
		sizes: make([]int, batch),
		eps:   make([]conn.Endpoint, batch),
	}
	for i := range r.arrs {
		r.arrs[i] = make([]byte, 1500)
	}
	return r
}

// read calls fn once and returns the packets it reported, non-empty ones
// only, as the device would see them. A read that reports nothing within
// 5 s is an error.
func (r *deviceReader) read(fn conn.ReceiveFunc) ([]fakePacket, error) {
	for i := range r.bufs {
		r.bufs[i] = r.arrs[i][:]
	}
	type ret struct {
		n   int
		err error
	}
	done := make(chan ret, 1)
	go func() {
		n, err := fn(r.bufs, r.sizes, r.eps)
		done <- ret{n, err}
	}()
	var n int
	select {
	case rv := <-done:
		if rv.err != nil {
			return nil, rv.err
		}
		n = rv.n
	case <-time.After(5 * time.Second):
		// The receive function is still reading (the test's Close ends
		// it): it swallowed every packet it was given.
		return nil, errors.New("receive function reported nothing within 5 s")
	}
	var got []fakePacket
	for i := 0; i < n; i++ {
		if r.sizes[i] == 0 {
			continue
		}
		got = append(got, fakePacket{
			data: append([]byte(nil), r.arrs[i][:r.sizes[i]]...),
			from: endpointAddr(r.eps[i]),
		})
	}
	return got, nil
}
