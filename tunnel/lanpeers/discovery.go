package lanpeers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// DefaultInterval is how often we announce and browse.
const DefaultInterval = 30 * time.Second

// checkEvery is how often Ports is polled for changes (at most; never more
// often than Interval). Refresh announces a change at once. A variable so
// tests can turn the polling off.
var checkEvery = 2 * time.Second

// maxPeers bounds the announcements kept, against a flood on the LAN.
const maxPeers = 1024

var (
	mdnsGroup = netip.MustParseAddr("224.0.0.251")
	mdnsPort  = 5353
	// mdnsAddr is where queries and announcements go. A variable so
	// tests could move it; they run in their own network namespaces.
	mdnsAddr = &net.UDPAddr{IP: mdnsGroup.AsSlice(), Port: mdnsPort}
)

// Options configures Start.
type Options struct {
	// Host is the name others see; empty means os.Hostname(). It is only
	// for display: two machines may have the same name.
	Host string
	// Install is this installation's ID (store.InstallID), announced so
	// that others tell machines apart by it rather than by Host. Empty
	// announces none, as older versions did.
	Install string
	// Ports lists our tunnels and their listen ports; it is called on
	// every check (every 2 s, and at once after Refresh), announcing
	// changes at once. Tunnels with port 0 are not announced. nil
	// announces nothing and only browses.
	Ports func() []LocalTunnel
	// Interval between announcements and browse queries; 0 means 30 s.
	// Announcements live for three intervals unless renewed.
	Interval time.Duration
	// Logf, if set, receives debug lines.
	Logf func(string, ...any)
}

// Discovery announces our tunnels' ports with mDNS/DNS-SD on every
// multicast-capable LAN interface (not loopback, not point-to-point
// tunnels) and keeps a list of the ports other machines announce.
// It shares UDP 5353 with other mDNS responders.
type Discovery struct {
	opts Options
	id   string
	ttl  time.Duration
	raw  net.PacketConn
	conn *ipv4.PacketConn

	writeMu sync.Mutex // SetMulticastInterface + WriteTo pairs

	mu        sync.Mutex
	peers     map[string]Announcement // by id + "/" + tunnel
	expiry    map[string]time.Time
	joined    map[int]bool // interface indexes we joined the group on
	announced []LocalTunnel
	lastMcast time.Time // when we last multicast our records
	pending   bool      // a delayed answer to a query is scheduled
	queryID   uint16    // the ID our queries carry, to ignore them

	refresh chan struct{} // Refresh: check Ports now (buffered, 1)

	cancel    context.CancelFunc
	stopCtx   func() bool   // unregisters the caller's context
	loopDone  chan struct{} // closed when loop returns
	readDone  chan struct{} // closed when readLoop returns
	closeOnce sync.Once
}

// Start binds UDP 5353 (shared), joins the mDNS group, announces our
// tunnels and starts browsing. It returns an error only if it cannot
// listen at all. Close stops it and sends goodbyes.
func Start(ctx context.Context, opts Options) (*Discovery, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "unknown"
		}
		opts.Host = h
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	var idb [6]byte
	rand.Read(idb[:])

	lc := net.ListenConfig{Control: reuse}
	raw, err := lc.ListenPacket(ctx, "udp4", fmt.Sprintf("0.0.0.0:%d", mdnsPort))
	if err != nil {
		return nil, fmt.Errorf("listen for LAN announcements on UDP %d: %w (another program holds the port without sharing it)", mdnsPort, err)
	}
	conn := ipv4.NewPacketConn(raw)
	// Errors here only cost features: TTL 255 is what receivers expect,
	// loopback lets two instances on one machine see each other.
	conn.SetMulticastTTL(255)
	conn.SetMulticastLoopback(true)

	ttl := 3 * opts.Interval
	if ttl < time.Second {
		ttl = time.Second
	}
	d := &Discovery{
		opts:    opts,
		id:      hex.EncodeToString(idb[:4]),
		queryID: uint16(idb[4])<<8 | uint16(idb[5]) | 1,
		ttl:     ttl.Truncate(time.Second),
		raw:     raw,
		conn:    conn,
		peers:   map[string]Announcement{},
		expiry:  map[string]time.Time{},
		joined:  map[int]bool{},
		refresh: make(chan struct{}, 1),
	}
	d.joinAll()

	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.loopDone = make(chan struct{})
	d.readDone = make(chan struct{})
	go func() {
		defer close(d.readDone)
		d.readLoop()
	}()
	go func() {
		defer close(d.loopDone)
		d.loop(runCtx)
	}()
	// Stop with the caller's context too.
	d.stopCtx = context.AfterFunc(ctx, func() { d.Close() })
	return d, nil
}

// Peers returns the fresh announcements of other machines (and other
// Discovery instances), sorted by host, tunnel and port.
func (d *Discovery) Peers() []Announcement {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	var out []Announcement
	for k, a := range d.peers {
		if now.After(d.expiry[k]) {
			delete(d.peers, k)
			delete(d.expiry, k)
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Announcement) int {
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		if c := strings.Compare(a.Tunnel, b.Tunnel); c != 0 {
			return c
		}
		return int(a.Port) - int(b.Port)
	})
	return out
}

// Refresh makes Discovery check Ports now and announce what changed (a new
// tunnel, a new port, a removed tunnel) without waiting for the next
// periodic check, so another machine picking a port sees ours at once.
// It does not block; calls while a check is pending are merged. It is a
// no-op after Close.
func (d *Discovery) Refresh() {
	select {
	case d.refresh <- struct{}{}:
	default:
	}
}

// Close sends goodbyes for our announcements, stops and releases the
// socket. It is safe to call more than once.
func (d *Discovery) Close() error {
	var err error
	d.closeOnce.Do(func() {
		d.stopCtx()
		d.cancel()
		<-d.loopDone
		d.mu.Lock()
		gone := d.announced
		d.announced = nil
		d.mu.Unlock()
		if len(gone) > 0 {
			d.send(func(addrs []netip.Addr) *dns.Msg {
				return announceMsg(d.id, d.opts.Install, d.opts.Host, gone, addrs, 0)
			})
		}
		err = d.conn.Close()
		<-d.readDone
	})
	return err
}

// loop announces and browses on schedule: at once, again after a second
// (as mDNS does, in case the first was lost), then every Interval; and
// announces as soon as Ports changes (polled, or at once on Refresh).
func (d *Discovery) loop(ctx context.Context) {
	d.announce(true)
	d.query()
	check := min(d.opts.Interval, checkEvery)
	checkT := time.NewTicker(check)
	defer checkT.Stop()
	periodic := time.NewTimer(time.Second)
	defer periodic.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-periodic.C:
			periodic.Reset(d.opts.Interval)
			d.joinAll()
			d.announce(true)
			d.query()
		case <-checkT.C:
			d.announce(false)
		case <-d.refresh:
			d.announce(false)
		}
	}
}

// current returns what Ports reports, without port 0 and duplicates.
func (d *Discovery) current() []LocalTunnel {
	if d.opts.Ports == nil {
		return nil
	}
	var out []LocalTunnel
	for _, t := range d.opts.Ports() {
		if t.Port != 0 && t.Name != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b LocalTunnel) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// announce sends our tunnels if always or if they changed, and goodbyes
// for tunnels that went away or changed port.
func (d *Discovery) announce(always bool) {
	now := d.current()
	d.mu.Lock()
	prev := d.announced
	d.announced = now
	d.mu.Unlock()
	var gone []LocalTunnel
	for _, t := range prev {
		if !slices.Contains(now, t) {
			gone = append(gone, t)
		}
	}
	if len(gone) > 0 {
		d.send(func(addrs []netip.Addr) *dns.Msg {
			return announceMsg(d.id, d.opts.Install, d.opts.Host, gone, addrs, 0)
		})
	}
	if len(now) > 0 && (always || !slices.Equal(prev, now)) {
		d.multicast(now)
	}
}

// multicast sends our records for tunnels and notes when.
func (d *Discovery) multicast(tunnels []LocalTunnel) {
	d.mu.Lock()
	d.lastMcast = time.Now()
	d.mu.Unlock()
	d.send(func(addrs []netip.Addr) *dns.Msg {
		return announceMsg(d.id, d.opts.Install, d.opts.Host, tunnels, addrs, d.ttl)
	})
}

func (d *Discovery) query() {
	d.send(func([]netip.Addr) *dns.Msg {
		m := queryMsg()
		m.Id = d.queryID // not 0 as RFC 6762 suggests: it lets us skip our own queries
		return m
	})
}

// lanInterfaces are the interfaces we talk on, with their IPv4 addresses.
func lanInterfaces() map[*net.Interface][]netip.Addr {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	out := map[*net.Interface][]netip.Addr{}
	for i := range ifs {
		ifi := &ifs[i]
		const want = net.FlagUp | net.FlagMulticast
		if ifi.Flags&want != want || ifi.Flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		var v4 []netip.Addr
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() {
					v4 = append(v4, ip.Unmap())
				}
			}
		}
		if len(v4) > 0 {
			out[ifi] = v4
		}
	}
	return out
}

// joinAll joins the mDNS group on interfaces that appeared since last time.
func (d *Discovery) joinAll() {
	for ifi := range lanInterfaces() {
		d.mu.Lock()
		done := d.joined[ifi.Index]
		d.mu.Unlock()
		if done {
			continue
		}
		if err := d.conn.JoinGroup(ifi, &net.UDPAddr{IP: mdnsGroup.AsSlice()}); err != nil {
			d.opts.Logf("lanpeers: join mDNS group on %s: %v", ifi.Name, err)
			continue
		}
		d.opts.Logf("lanpeers: listening on %s", ifi.Name)
		d.mu.Lock()
		d.joined[ifi.Index] = true
		d.mu.Unlock()
	}
}

// send multicasts the message build makes for each LAN interface.
func (d *Discovery) send(build func(addrs []netip.Addr) *dns.Msg) {
	for ifi, addrs := range lanInterfaces() {
		b, err := build(addrs).Pack()
		if err != nil {
			d.opts.Logf("lanpeers: pack message: %v", err)
			return
		}
		d.writeMu.Lock()
		err = d.conn.SetMulticastInterface(ifi)
		if err == nil {
			_, err = d.conn.WriteTo(b, nil, mdnsAddr)
		}
		d.writeMu.Unlock()
		if err != nil && !errors.Is(err, net.ErrClosed) {
			d.opts.Logf("lanpeers: send on %s: %v", ifi.Name, err)
		}
	}
}

// readLoop handles packets until the socket is closed.
func (d *Discovery) readLoop() {
	buf := make([]byte, 9000)
	for {
		n, _, src, err := d.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.opts.Logf("lanpeers: read: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		from, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			continue // not DNS; someone else's business
		}
		d.handle(m, from.AddrPort(), time.Now())
	}
}

// handle processes one mDNS message from src.
func (d *Discovery) handle(m *dns.Msg, src netip.AddrPort, now time.Time) {
	if asksForUs(m) {
		d.answer(m, src, now)
		return
	}
	for _, r := range parseResponse(m) {
		if r.ID == d.id {
			continue // ourselves
		}
		k := r.ID + "/" + r.Tunnel
		d.mu.Lock()
		if r.TTL == 0 {
			delete(d.peers, k)
			delete(d.expiry, k)
			d.mu.Unlock()
			d.opts.Logf("lanpeers: %s (%s) withdrew tunnel %q", r.Host, src.Addr(), r.Tunnel)
			continue
		}
		if _, known := d.peers[k]; !known {
			if len(d.peers) >= maxPeers {
				d.mu.Unlock()
				continue // a flood; the real ones will be heard again
			}
			d.opts.Logf("lanpeers: %s (%s) announces tunnel %q on port %d", r.Host, src.Addr(), r.Tunnel, r.Port)
		}
		d.peers[k] = Announcement{Host: r.Host, Install: r.Install, Addr: src.Addr().Unmap(), Tunnel: r.Tunnel, Port: r.Port, Seen: now}
		d.expiry[k] = now.Add(r.TTL)
		d.mu.Unlock()
	}
}

// answer replies to a query for our service: a legacy one-shot querier
// (source port not 5353) gets a unicast reply, everyone else our
// multicast announcement, but not sooner than a second after the last
// one (RFC 6762 section 6).
func (d *Discovery) answer(q *dns.Msg, src netip.AddrPort, now time.Time) {
	if q.Id == d.queryID && q.Id != 0 {
		return // our own query, looped back
	}
	d.mu.Lock()
	tunnels := d.announced
	d.mu.Unlock()
	if len(tunnels) == 0 {
		return
	}
	if src.Port() != uint16(mdnsPort) {
		m := announceMsg(d.id, d.opts.Install, d.opts.Host, tunnels, nil, d.ttl)
		m.Id = q.Id
		m.Question = q.Question
		b, err := m.Pack()
		if err == nil {
			d.writeMu.Lock()
			_, err = d.conn.WriteTo(b, nil, net.UDPAddrFromAddrPort(src))
			d.writeMu.Unlock()
		}
		if err != nil {
			d.opts.Logf("lanpeers: reply to %s: %v", src, err)
		}
		return
	}
	d.mu.Lock()
	if d.pending {
		d.mu.Unlock()
		return
	}
	d.pending = true
	wait := d.lastMcast.Add(time.Second).Sub(now)
	d.mu.Unlock()
	reply := func() {
		d.mu.Lock()
		d.pending = false
		tunnels := d.announced // nil once closed
		d.mu.Unlock()
		if len(tunnels) > 0 {
			d.multicast(tunnels)
		}
	}
	if wait <= 0 {
		reply()
		return
	}
	time.AfterFunc(wait, reply)
}
