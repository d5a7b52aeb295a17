package stunbind

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun/tuntest"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// Lines wireguard-go logs when a packet it does not know reaches it, and
// when a receive function fails.
const (
	logUnknownType   = "Received message with unknown type"
	logFailedReceive = "Failed to receive"
)

// logLines keeps what a device logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// node is a real wireguard-go device on a channel TUN (no kernel
// interface) whose wrapped default bind talks UDP on loopback.
type node struct {
	dev  *device.Device
	tun  *tuntest.ChannelTUN
	bind *Bind
	key  wgtypes.Key
	ip   netip.Addr // tunnel address
	log  *logLines
}

func newNode(t *testing.T, ip string, opts Options) *node {
	t.Helper()
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{
		tun:  tuntest.NewChannelTUN(),
		bind: New(conn.NewDefaultBind(), opts),
		key:  key,
		ip:   netip.MustParseAddr(ip),
		log:  &logLines{},
	}
	n.dev = device.NewDevice(n.tun.TUN(), n.bind, &device.Logger{Verbosef: n.log.add, Errorf: n.log.add})
	t.Cleanup(n.dev.Close)
	n.set(t, "private_key=%s\nlisten_port=0\n", hex.EncodeToString(key[:]))
	if err := n.dev.Up(); err != nil {
		t.Fatalf("device up: %v", err)
	}
	return n
}

func (n *node) set(t *testing.T, format string, args ...any) {
	t.Helper()
	if err := n.dev.IpcSet(fmt.Sprintf(format, args...)); err != nil {
		t.Fatalf("uapi set: %v", err)
	}
}

// uapi returns the device's UAPI get as key=value pairs: the interface's,
// then the (one) peer's with a "peer." prefix.
func (n *node) uapi(t *testing.T) map[string]string {
	t.Helper()
	out, err := n.dev.IpcGet()
	if err != nil {
		t.Fatalf("uapi get: %v", err)
	}
	kv := make(map[string]string)
	prefix := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		if k == "public_key" {
			prefix = "peer."
		}
		kv[prefix+k] = v
	}
	return kv
}

// listenPort is the port the device reports over UAPI.
func (n *node) listenPort(t *testing.T) uint16 {
	t.Helper()
	p, err := strconv.ParseUint(n.uapi(t)["listen_port"], 10, 16)
	if err != nil || p == 0 {
		t.Fatalf("device has no listen port: %q", n.uapi(t)["listen_port"])
	}
	return uint16(p)
}

// loopback is where n's socket is seen from another loopback socket.
func (n *node) loopback(t *testing.T) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), n.listenPort(t))
}

// link makes a and b peers of each other over loopback.
func link(t *testing.T, a, b *node) {
	t.Helper()
	for _, p := range [][2]*node{{a, b}, {b, a}} {
		self, peer := p[0], p[1]
		pub := peer.key.PublicKey()
		self.set(t, "public_key=%s\nendpoint=%s\nallowed_ip=%s/32\n",
			hex.EncodeToString(pub[:]), peer.loopback(t), peer.ip)
	}
}

// ping sends one ICMP echo from a's TUN and waits for it on b's.
func ping(t *testing.T, a, b *node) {
	t.Helper()
	msg := tuntest.Ping(b.ip, a.ip)
	select {
	case a.tun.Outbound <- msg:
	case <-time.After(5 * time.Second):
		t.Fatal("device did not take the packet from its TUN")
	}
	select {
	case got := <-b.tun.Inbound:
		if string(got) != string(msg) {
			t.Fatalf("%v received a different packet", b.ip)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("ping %v -> %v did not arrive through the tunnel", a.ip, b.ip)
	}
}

// noReceiveErrors fails t if wireguard-go saw a receive function fail.
func noReceiveErrors(t *testing.T, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		if c := n.log.count(logFailedReceive); c > 0 {
			t.Errorf("device %v logged %d receive errors", n.ip, c)
		}
	}
}

func query(t *testing.T, n *node, server netip.AddrPort) netip.AddrPort {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := n.bind.Query(ctx, server)
	if err != nil {
		t.Fatalf("query %v: %v", server, err)
	}
	return got
}

// TestDeviceQuerySeesListenPort: a query through a running device's bind
// returns what the STUN server saw, which is the device's own listen port.
func TestDeviceQuerySeesListenPort(t *testing.T) {
	srv := startSTUN(t, nil)
	n := newNode(t, "10.9.0.1", Options{})
	got := query(t, n, srv.addr())
	if want := n.loopback(t); got != want {
		t.Errorf("query = %v, want the device's listen port %v", got, want)
	}
	if seen := srv.lastSeen(); got != seen {
		t.Errorf("query = %v, but the server saw %v", got, seen)
	}
	if n.log.count("receive incoming v4 - started") == 0 {
		t.Errorf("wireguard-go does not name the wrapped IPv4 receive function v4")
	}
	noReceiveErrors(t, n)
}

// TestDeviceHandshakeWhileQuerying: two devices handshake and pass traffic
// through wrapped binds while both keep querying, and no STUN packet
// reaches WireGuard.
func TestDeviceHandshakeWhileQuerying(t *testing.T) {
	srv := startSTUN(t, nil)
	a := newNode(t, "10.9.0.1", Options{})
	b := newNode(t, "10.9.0.2", Options{})
	link(t, a, b)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, n := range []*node{a, b} {
		want := n.loopback(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := n.bind.Query(context.Background(), srv.addr())
				if err == nil && got != want {
					err = fmt.Errorf("query from %v returned %v, want %v", n.ip, got, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}

	for range 20 {
		ping(t, a, b)
		ping(t, b, a)
	}
	testutil.Eventually(t, 10*time.Second, "10 answered queries on each device", func() bool {
		return a.bind.Stats().Answers >= 10 && b.bind.Stats().Answers >= 10
	})
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for _, n := range []*node{a, b} {
		if _, err := testutil.WaitFor(5*time.Second, 0, func() (bool, string) {
			kv := n.uapi(t)
			hs, _ := strconv.ParseInt(kv["peer.last_handshake_time_sec"], 10, 64)
			rx, _ := strconv.ParseInt(kv["peer.rx_bytes"], 10, 64)
			return hs > 0 && rx > 0, fmt.Sprintf("%v: last_handshake_time_sec=%s rx_bytes=%s", n.ip, kv["peer.last_handshake_time_sec"], kv["peer.rx_bytes"])
		}); err != nil {
			t.Error(err)
		}
		s := n.bind.Stats()
		if s.STUN != s.Answers || s.Unmatched != 0 || s.Malformed != 0 {
			t.Errorf("%v: stats %+v: every STUN packet should have been an answer", n.ip, s)
		}
		if c := n.log.count(logUnknownType); c > 0 {
			t.Errorf("%v: %d STUN packets reached WireGuard", n.ip, c)
		}
	}
	noReceiveErrors(t, a, b)
}

// TestDeviceImpostors: on a real socket, an answer with another
// transaction ID, the right answer from the wrong port and a truncated
// answer never satisfy a query and never reach WireGuard; a packet that
// only looks like STUN goes to WireGuard, which drops it without a receive
// error. The real answer after them still does.
func TestDeviceImpostors(t *testing.T) {
	srv := startSTUN(t, func(s *stunServer) { s.impostors = true })
	n := newNode(t, "10.9.0.1", Options{})
	got := query(t, n, srv.addr())
	if want := n.loopback(t); got != want {
		t.Errorf("query = %v, want %v (an impostor answered?)", got, want)
	}
	reqs := uint64(srv.requests.Load())
	testutil.Eventually(t, 5*time.Second, "every STUN packet the server sent to be taken out", func() bool {
		return n.bind.Stats().STUN == reqs*(impostorSTUN+1)
	})
	s := n.bind.Stats()
	if s.Answers != 1 || s.Answers+s.Unmatched+s.Malformed != s.STUN || s.Unmatched < 2 || s.Malformed < 1 {
		t.Errorf("stats %+v: want 1 answer, the wrong transaction and wrong port unmatched, the truncated one malformed", s)
	}
	testutil.Eventually(t, 5*time.Second, "WireGuard to drop the look-alike", func() bool {
		return n.log.count(logUnknownType) == int(reqs)*impostorLookalike
	})
	noReceiveErrors(t, n)

	// Impostors alone never answer.
	srv2 := startSTUN(t, func(s *stunServer) { s.noAnswer = true })
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if got, err := n.bind.Query(ctx, srv2.addr()); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("query to a server sending only impostors = %v, %v; want ErrNoAnswer", got, err)
	}
	if s := n.bind.Stats(); s.Answers != 1 {
		t.Errorf("stats %+v: an impostor was taken for an answer", s)
	}
	noReceiveErrors(t, n)

	// The device still works with all that.
	peer := newNode(t, "10.9.0.2", Options{})
	link(t, n, peer)
	ping(t, n, peer)
	ping(t, peer, n)
}

// TestDeviceCloseAndReopen follows the device's own Close and Open of the
// bind: Down, Up, and a new listen_port (wireguard-go's BindUpdate).
func TestDeviceCloseAndReopen(t *testing.T) {
	srv := startSTUN(t, nil)
	silent := startSTUN(t, func(s *stunServer) { s.silent = true })
	n := newNode(t, "10.9.0.1", Options{})
	first := query(t, n, srv.addr())

	// A query waiting when the device goes down fails at once.
	res := startQuery(context.Background(), n.bind, silent.addr())
	testutil.Eventually(t, 5*time.Second, "the silent server to get the request", func() bool {
		return silent.requests.Load() > 0
	})
	start := time.Now()
	if err := n.dev.Down(); err != nil {
		t.Fatalf("device down: %v", err)
	}
	if r := waitQuery(t, res); !errors.Is(r.err, ErrClosed) {
		t.Errorf("query waiting during Down: %v, want ErrClosed", r.err)
	} else if took := time.Since(start); took > time.Second {
		t.Errorf("waiting query took %v to fail after Down", took)
	}

	if got, err := n.bind.Query(context.Background(), srv.addr()); !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("query while down = %v, %v; want ErrClosed", got, err)
	}

	if err := n.dev.Up(); err != nil {
		t.Fatalf("device up: %v", err)
	}
	if got := query(t, n, srv.addr()); got != first {
		t.Errorf("query after Up = %v, want %v (same port)", got, first)
	}

	// A new port: wireguard-go closes the bind and opens it again.
	n.set(t, "listen_port=0\n")
	got := query(t, n, srv.addr())
	if want := n.loopback(t); got != want {
		t.Errorf("query after rebinding = %v, want the new listen port %v", got, want)
	}
	if got == first {
		t.Logf("the kernel gave the same port again (%v); rebinding still worked", got)
	}

	peer := newNode(t, "10.9.0.2", Options{})
	link(t, n, peer)
	ping(t, n, peer)
	ping(t, peer, n)
	noReceiveErrors(t, n, peer)
}
