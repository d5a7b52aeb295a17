package stunbind

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pion/stun/v3"
	"golang.zx2c4.com/wireguard/conn"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

var (
	fakeServer = netip.MustParseAddrPort("192.0.2.1:3478")
	fakePeer   = netip.MustParseAddrPort("198.51.100.9:51820")
	fakeMapped = netip.MustParseAddrPort("203.0.113.5:61000")
)

// answerTo builds a binding success for txid that reports mapped.
func answerTo(t testing.TB, txid [stun.TransactionIDSize]byte, mapped netip.AddrPort) []byte {
	t.Helper()
	m, err := stun.Build(stun.NewTransactionIDSetter(txid), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}, stun.Fingerprint)
	if err != nil {
		t.Fatalf("build answer: %v", err)
	}
	return m.Raw
}

// openFake wraps a fakeBind, opens it and returns its one receive function.
func openFake(t *testing.T, opts Options) (*fakeBind, *Bind, conn.ReceiveFunc) {
	t.Helper()
	f := newFakeBind()
	b := New(f, opts)
	fns, _, err := b.Open(0)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if len(fns) != 1 {
		t.Fatalf("open returned %d receive functions, want 1", len(fns))
	}
	t.Cleanup(func() { b.Close() })
	return f, b, fns[0]
}

// request waits for the binding request a Query sent and returns it decoded.
func request(t *testing.T, f *fakeBind) *stun.Message {
	t.Helper()
	select {
	case raw := <-f.sent:
		m := &stun.Message{Raw: raw}
		if err := m.Decode(); err != nil {
			t.Fatalf("query sent a bad STUN message: %v", err)
		}
		if m.Type != stun.BindingRequest {
			t.Fatalf("query sent %v, want a binding request", m.Type)
		}
		if err := stun.Fingerprint.Check(m); err != nil {
			t.Fatalf("query's request fingerprint: %v", err)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("query sent nothing")
		return nil
	}
}

type queryResult struct {
	addr netip.AddrPort
	err  error
}

func startQuery(ctx context.Context, b *Bind, server netip.AddrPort) <-chan queryResult {
	ch := make(chan queryResult, 1)
	go func() {
		a, err := b.Query(ctx, server)
		ch <- queryResult{a, err}
	}()
	return ch
}

func waitQuery(t *testing.T, ch <-chan queryResult) queryResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("query did not return")
		return queryResult{}
	}
}

func TestReceivePassesWireGuardUnchanged(t *testing.T) {
	f, b, fn := openFake(t, Options{})
	var batch []fakePacket
	for i := range 5 {
		batch = append(batch, fakePacket{
			data: wgPacket(byte(1+i%4), 148, 0x2112A442), // even with the cookie's bytes
			from: netip.AddrPortFrom(fakePeer.Addr(), uint16(1000+i)),
		})
	}
	f.rx <- batch
	got, err := newDeviceReader(conn.IdealBatchSize).read(fn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if diff := cmp.Diff(batch, got, cmp.AllowUnexported(fakePacket{}), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("packets WireGuard sees (-want +got):\n%s", diff)
	}
	if s := b.Stats(); s != (Stats{}) {
		t.Errorf("stats = %+v, want none", s)
	}
}

func TestReceiveCompactsBatch(t *testing.T) {
	f, b, fn := openFake(t, Options{})
	var txid [stun.TransactionIDSize]byte
	answer := answerTo(t, txid, fakeMapped)
	wg := func(i int) fakePacket {
		return fakePacket{data: wgPacket(4, 100+i, uint32(i)), from: netip.AddrPortFrom(fakePeer.Addr(), uint16(i))}
	}
	stunFrom := func(p []byte) fakePacket { return fakePacket{data: p, from: fakeServer} }
	f.rx <- []fakePacket{
		stunFrom(answer),
		wg(1),
		stunFrom(answer[:stunHeaderSize+4]),
		wg(2),
		wg(3),
		stunFrom(answer),
		wg(4),
	}
	got, err := newDeviceReader(conn.IdealBatchSize).read(fn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := []fakePacket{wg(1), wg(2), wg(3), wg(4)}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(fakePacket{}), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("packets WireGuard sees (-want +got):\n%s", diff)
	}
	if s := b.Stats(); s.STUN != 3 || s.Unmatched != 3 || s.Answers != 0 {
		t.Errorf("stats = %+v, want 3 STUN packets, all unmatched", s)
	}
}

func TestReceiveOnlySTUNReadsAgain(t *testing.T) {
	f, b, fn := openFake(t, Options{})
	var txid [stun.TransactionIDSize]byte
	answer := answerTo(t, txid, fakeMapped)
	f.rx <- []fakePacket{{answer, fakeServer}, {answer, fakeServer}}
	last := fakePacket{wgPacket(4, 64, 9), fakePeer}
	f.rx <- []fakePacket{last}
	got, err := newDeviceReader(conn.IdealBatchSize).read(fn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].data, last.data) {
		t.Errorf("read returned %d packets, want only the WireGuard one after the all-STUN batch", len(got))
	}
	if s := b.Stats(); s.STUN != 2 {
		t.Errorf("stats = %+v, want 2 STUN packets", s)
	}
}

func TestReceiveReturnsClosed(t *testing.T) {
	_, b, fn := openFake(t, Options{})
	b.Close()
	if _, err := newDeviceReader(1).read(fn); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}
}

// TestQueryIgnoresImpostors feeds a query everything that must not answer
// it, mixed with WireGuard traffic, before the real answer.
func TestQueryIgnoresImpostors(t *testing.T) {
	f, b, fn := openFake(t, Options{})
	res := startQuery(context.Background(), b, fakeServer)
	req := request(t, f)

	var otherTx [stun.TransactionIDSize]byte
	copy(otherTx[:], "not-our-txid")
	good := answerTo(t, req.TransactionID, fakeMapped)
	badFingerprint := append([]byte(nil), good...)
	badFingerprint[len(badFingerprint)-1] ^= 0xff
	indication := stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassIndication})
	wg1 := fakePacket{wgPacket(4, 200, 1), fakePeer}
	wg2 := fakePacket{wgPacket(1, 148, 2), fakePeer}
	f.rx <- []fakePacket{
		wg1,
		{answerTo(t, otherTx, netip.MustParseAddrPort("198.51.100.1:1")), fakeServer}, // wrong transaction
		{good, netip.MustParseAddrPort("192.0.2.1:3479")},                             // wrong sender port
		{good, netip.MustParseAddrPort("192.0.2.2:3478")},                             // wrong sender address
		{good[:len(good)-12], fakeServer},                                             // truncated
		{badFingerprint, fakeServer},
		{indication.Raw, fakeServer}, // not a response
		wg2,
	}
	got, err := newDeviceReader(conn.IdealBatchSize).read(fn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 2 || !bytes.Equal(got[0].data, wg1.data) || !bytes.Equal(got[1].data, wg2.data) {
		t.Fatalf("WireGuard saw %d packets, want the 2 WireGuard ones", len(got))
	}
	select {
	case r := <-res:
		t.Fatalf("query answered by an impostor: %v, %v", r.addr, r.err)
	default:
	}
	if s := b.Stats(); s != (Stats{STUN: 6, Unmatched: 3, Malformed: 3}) {
		t.Errorf("stats = %+v, want 6 STUN, 3 unmatched, 3 malformed", s)
	}

	f.rx <- []fakePacket{{good, fakeServer}}
	f.rx <- []fakePacket{wg1}
	// The first batch is STUN only: the read returns the second.
	if got, err := newDeviceReader(conn.IdealBatchSize).read(fn); err != nil || len(got) != 1 {
		t.Fatalf("read: %d packets, %v; want the WireGuard one", len(got), err)
	}
	r := waitQuery(t, res)
	if r.err != nil || r.addr != fakeMapped {
		t.Fatalf("query = %v, %v; want %v", r.addr, r.err, fakeMapped)
	}
	if s := b.Stats(); s.Answers != 1 {
		t.Errorf("stats = %+v, want 1 answer", s)
	}
}

// TestQueryErrorResponse: a binding error from the server ends the query
// with the server's reason.
func TestQueryErrorResponse(t *testing.T) {
	f, b, fn := openFake(t, Options{})
	res := startQuery(context.Background(), b, fakeServer)
	req := request(t, f)
	m := stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingError,
		stun.ErrorCodeAttribute{Code: stun.CodeBadRequest, Reason: []byte("no thanks")})
	f.rx <- []fakePacket{{m.Raw, fakeServer}, {wgPacket(4, 64, 1), fakePeer}}
	if _, err := newDeviceReader(conn.IdealBatchSize).read(fn); err != nil {
		t.Fatalf("read: %v", err)
	}
	r := waitQuery(t, res)
	if r.err == nil || !strings.Contains(r.err.Error(), "400 no thanks") {
		t.Errorf("query error = %v, want the server's refusal", r.err)
	}
}

// TestQueryRetransmitsAndTimesOut: an unanswered request is sent on the
// schedule and the query ends with ErrNoAnswer.
func TestQueryRetransmitsAndTimesOut(t *testing.T) {
	f, b, _ := openFake(t, Options{Timeout: 400 * time.Millisecond, Retransmits: []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond}})
	start := time.Now()
	_, err := b.Query(context.Background(), fakeServer)
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("query error = %v, want ErrNoAnswer", err)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("query gave up after %v, before its 400 ms timeout", took)
	}
	var ids [][stun.TransactionIDSize]byte
	for len(f.sent) > 0 {
		m := &stun.Message{Raw: <-f.sent}
		if err := m.Decode(); err != nil {
			t.Fatalf("decode request: %v", err)
		}
		ids = append(ids, m.TransactionID)
	}
	if len(ids) != 3 {
		t.Fatalf("query sent %d requests, want 3 (0, 50 and 100 ms)", len(ids))
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("retransmits changed the transaction ID")
	}
}

func TestQueryContextCancelled(t *testing.T) {
	f, b, _ := openFake(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	res := startQuery(ctx, b, fakeServer)
	request(t, f)
	cancel()
	if r := waitQuery(t, res); !errors.Is(r.err, context.Canceled) {
		t.Errorf("query error = %v, want context.Canceled", r.err)
	}
}

func TestQueryBadServer(t *testing.T) {
	_, b, _ := openFake(t, Options{})
	for _, s := range []netip.AddrPort{{}, netip.MustParseAddrPort("0.0.0.0:3478"), netip.MustParseAddrPort("192.0.2.1:0")} {
		if _, err := b.Query(context.Background(), s); err == nil {
			t.Errorf("Query(%v) succeeded", s)
		}
	}
}

// TestQueryClosedAndReopened: closed before Open, failed when Close comes
// during a query, closed after Close, working again after Open.
func TestQueryClosedAndReopened(t *testing.T) {
	f := newFakeBind()
	b := New(f, Options{})
	if _, err := b.Query(context.Background(), fakeServer); !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("query before Open: %v, want ErrClosed", err)
	}
	if _, ok := b.Port(); ok {
		t.Errorf("Port reports open before Open")
	}

	fns, port, err := b.Open(0)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if p, ok := b.Port(); !ok || p != port {
		t.Errorf("Port = %d, %v; want %d, true", p, ok, port)
	}
	res := startQuery(context.Background(), b, fakeServer)
	request(t, f)
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	r := waitQuery(t, res)
	if !errors.Is(r.err, ErrClosed) {
		t.Fatalf("query during Close: %v, want ErrClosed", r.err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("query took %v to notice Close", took)
	}
	if !strings.Contains(r.err.Error(), "not open") {
		t.Errorf("error %q does not say the socket is not open", r.err)
	}
	if _, err := newDeviceReader(1).read(fns[0]); !errors.Is(err, net.ErrClosed) {
		t.Errorf("old receive function after Close: %v, want net.ErrClosed", err)
	}
	if _, err := b.Query(context.Background(), fakeServer); !errors.Is(err, ErrClosed) {
		t.Fatalf("query after Close: %v, want ErrClosed", err)
	}

	fns, _, err = b.Open(0)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer b.Close()
	res = startQuery(context.Background(), b, fakeServer)
	req := request(t, f)
	f.rx <- []fakePacket{{answerTo(t, req.TransactionID, fakeMapped), fakeServer}, {wgPacket(4, 64, 1), fakePeer}}
	if _, err := newDeviceReader(conn.IdealBatchSize).read(fns[0]); err != nil {
		t.Fatalf("read: %v", err)
	}
	if r := waitQuery(t, res); r.err != nil || r.addr != fakeMapped {
		t.Fatalf("query after reopen = %v, %v; want %v", r.addr, r.err, fakeMapped)
	}
	testutil.Eventually(t, time.Second, "the finished query to be forgotten", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.waiting) == 0
	})
}
