package stunbind

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"golang.zx2c4.com/wireguard/conn/bindtest"
)

// TestWithBindtest wraps one of wireguard-go's in-memory channel binds
// (bindtest), whose endpoints are not StdNetEndpoints, with the other
// channel bind acting as STUN server and WireGuard peer: WireGuard
// packets go through both receive functions, and the query is answered.
func TestWithBindtest(t *testing.T) {
	binds := bindtest.NewChannelBinds()
	b := New(binds[0], Options{})
	fns, _, err := b.Open(0)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer b.Close()
	peerFns, _, err := binds[1].Open(0)
	if err != nil {
		t.Fatalf("open peer: %v", err)
	}
	defer binds[1].Close()

	// What reaches "WireGuard" on the wrapped side.
	got := make(chan []byte, 16)
	for _, fn := range fns {
		go func() {
			r := newDeviceReader(b.BatchSize())
			for {
				pkts, err := r.read(fn)
				if errors.Is(err, net.ErrClosed) {
					return
				}
				for _, p := range pkts {
					got <- p.data
				}
			}
		}()
	}

	// The peer answers binding requests on its second channel (its
	// endpoint there is 127.0.0.1:3 as seen from the wrapped side) and
	// sends a WireGuard packet first.
	wg := wgPacket(4, 64, 0x2112A442)
	peerEp, err := binds[1].ParseEndpoint("127.0.0.1:4")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		r := newDeviceReader(1)
		for {
			reqs, err := r.read(peerFns[1])
			if errors.Is(err, net.ErrClosed) {
				return
			}
			for _, p := range reqs {
				m := &stun.Message{Raw: p.data}
				if m.Decode() != nil || m.Type != stun.BindingRequest {
					continue
				}
				binds[1].Send([][]byte{wg, answerTo(t, m.TransactionID, fakeMapped)}, peerEp)
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mapped, err := b.Query(ctx, netip.MustParseAddrPort("127.0.0.1:3"))
	if err != nil || mapped != fakeMapped {
		t.Fatalf("query = %v, %v; want %v", mapped, err, fakeMapped)
	}
	select {
	case p := <-got:
		if !bytes.Equal(p, wg) {
			t.Errorf("WireGuard got %x, want the peer's packet", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the peer's WireGuard packet did not come through")
	}
	if s := b.Stats(); s != (Stats{STUN: 1, Answers: 1}) {
		t.Errorf("stats = %+v, want the one answer", s)
	}
}
