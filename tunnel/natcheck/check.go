package natcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// DefaultServers are well-known public STUN servers on different
// addresses. They are used when Options.Servers is empty. Tests never
// contact them. All three have IPv6 (AAAA) addresses as well, so they
// serve the IPv6 half of the check too.
var DefaultServers = []string{
	"stun.l.google.com:19302",
	"stun.cloudflare.com:3478",
	"stun1.l.google.com:19302",
}

// DefaultTimeout bounds a whole check: name lookups, retransmits and
// waiting for answers.
const DefaultTimeout = 1500 * time.Millisecond

// resolveTimeout bounds the name lookups of all servers together.
const resolveTimeout = 500 * time.Millisecond

// defaultRetransmits are the times, from the first send, at which a
// binding request is (re)sent to every server that has not answered yet.
func defaultRetransmits() []time.Duration {
	return []time.Duration{0, 250 * time.Millisecond, 750 * time.Millisecond}
}

// Options configures Check.
type Options struct {
	// LocalPort is the UDP port to probe from: the port the tunnel will
	// listen on. Check binds 0.0.0.0:LocalPort (and [::]:LocalPort when a
	// server has an IPv6 address) itself unless Conn is set, so it must
	// run before the tunnel binds the port. 0 picks any port.
	LocalPort uint16
	// Servers are STUN servers as host:port (port 3478 if left out).
	// Empty means DefaultServers.
	Servers []string
	// Timeout bounds the whole check; 0 means DefaultTimeout (1.5 s).
	Timeout time.Duration
	// Conn, if set, is used for probing over IPv4 instead of a socket of
	// our own. Check reads from it until it returns, then clears its read
	// deadline; it does not close it.
	Conn net.PacketConn
	// Conn6 is the same for IPv6. When Conn is set and Conn6 is not, the
	// IPv6 half is not checked.
	Conn6 net.PacketConn
	// Progress, if set, is called once per server, from the goroutine
	// that called Check, as soon as that server answered or finally failed
	// over IPv4. (The IPv6 probes are in Report.IPv6.Servers.)
	Progress func(ServerResult)
	// Logf, if set, receives debug lines.
	Logf func(string, ...any)

	// Retransmits are the times, from the first send, at which a binding
	// request is (re)sent to every server that has not answered yet; the
	// first should be 0. nil: 0, 250 ms and 750 ms.
	Retransmits []time.Duration
	// LocalAddrs lists this machine's addresses, to tell a NAT from none
	// (tests pretend to be behind one). nil: the interfaces' addresses.
	LocalAddrs func() ([]netip.Addr, error)
	// Gateways lists this machine's default gateways, to explain a
	// carrier-grade NAT. nil: read from the system (Linux only).
	Gateways func() ([]netip.Addr, error)
	// GOOS picks the firewall advice; "": runtime.GOOS.
	GOOS string
}

// Check finds the public endpoint of LocalPort by asking every server in
// parallel and judges the NAT from the answers. It returns an error only
// when it cannot probe at all (bad options, port in use); network
// failures such as no answers are described in the Report. It never takes
// much longer than the timeout.
func Check(ctx context.Context, opts Options) (*Report, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	servers := opts.Servers
	if len(servers) == 0 {
		servers = DefaultServers
	}

	conn := opts.Conn
	if conn == nil {
		c, err := net.ListenPacket("udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(int(opts.LocalPort))))
		if err != nil {
			return nil, fmt.Errorf("open UDP port %d for the NAT check: %w (is a tunnel or another program already using this port? stop it or choose another port)", opts.LocalPort, err)
		}
		defer c.Close()
		conn = c
	}
	localPort := opts.LocalPort
	if ua, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		localPort = uint16(ua.Port)
	}

	results := make([]ServerResult, len(servers))
	results6 := make([]ServerResult, len(servers))
	targets, targets6 := resolveAll(ctx, servers, results, results6)
	report := &Report{LocalPort: localPort, Mapping: MappingUnknown}

	// The IPv6 socket, on the same port: the tunnel listens on both.
	var conn6Err error
	conn6 := opts.Conn6
	switch {
	case conn6 != nil:
	case opts.Conn != nil:
		conn6Err = errNot6
	case len(targets6) > 0:
		c, err := net.ListenPacket("udp6", net.JoinHostPort("::", strconv.Itoa(int(localPort))))
		if err != nil {
			conn6Err = fmt.Errorf("open UDP port %d over IPv6: %w", localPort, err)
			logf("natcheck: %v", conn6Err)
		} else {
			defer c.Close()
			conn6 = c
		}
	}
	if conn6 == nil {
		for _, t := range targets6 {
			if conn6Err == errNot6 {
				results6[t.index].Error = "not asked: the IPv6 half was not checked"
			} else {
				results6[t.index].Error = conn6Err.Error()
			}
		}
		targets6 = nil
	}

	p := &prober{conn: conn, conn6: conn6, logf: logf, progress: opts.Progress, retransmits: opts.Retransmits}
	if len(p.retransmits) == 0 {
		p.retransmits = defaultRetransmits()
	}
	// One result slice for both families: IPv6 results come after IPv4's.
	all := append(results, results6...)
	for _, t := range targets6 {
		t.index += len(servers)
		targets = append(targets, t)
	}
	answers := p.run(ctx, targets, all, len(servers))
	report.Servers = all[:len(servers):len(servers)] // capped: an append must not overwrite the IPv6 results
	report.IPv6.Servers = all[len(servers):]
	var answers4, answers6 []answer
	for _, a := range answers {
		if a.index >= len(servers) {
			a.index -= len(servers)
			answers6 = append(answers6, a)
		} else {
			answers4 = append(answers4, a)
		}
	}

	listLocal := opts.LocalAddrs
	if listLocal == nil {
		listLocal = localAddrs
	}
	locals, err := listLocal()
	if err != nil {
		logf("natcheck: list local addresses: %v", err)
	}
	listGateways := opts.Gateways
	if listGateways == nil {
		listGateways = defaultGateways
	}
	gws, err := listGateways()
	if err != nil {
		logf("natcheck: list gateways: %v", err)
	}
	goos := opts.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	judge(report, answers4, locals)
	localPort6 := localPort
	if conn6 != nil {
		if ua, ok := conn6.LocalAddr().(*net.UDPAddr); ok {
			localPort6 = uint16(ua.Port)
		}
	}
	judge6(report, answers6, locals, localPort6, len(targets6) > 0, conn6Err, goos)
	explainCarrier(report, answers4, locals, gws)
	combine(report)
	return report, nil
}

// errNot6 marks an IPv6 half that was not asked for (Conn without Conn6).
var errNot6 = errors.New("the IPv6 half was not checked")

// target is one server we could resolve.
type target struct {
	index int // into the results
	addr  netip.AddrPort
}

// resolveAll resolves every server to an IPv4 and an IPv6 address, in
// parallel, within resolveTimeout. Servers that fail get their Error set in
// results (IPv4) and results6 (IPv6).
func resolveAll(ctx context.Context, servers []string, results, results6 []ServerResult) (targets, targets6 []target) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	type res struct {
		i          int
		addr4      netip.AddrPort
		addr6      netip.AddrPort
		err4, err6 error
	}
	ch := make(chan res, len(servers))
	for i, s := range servers {
		results[i].Server = s
		results6[i].Server = s
		go func() {
			a4, a6, err4, err6 := resolve(ctx, s)
			ch <- res{i, a4, a6, err4, err6}
		}()
	}
	for range servers {
		r := <-ch
		if r.err4 != nil {
			results[r.i].Error = r.err4.Error()
		} else {
			results[r.i].Address = r.addr4.String()
			targets = append(targets, target{r.i, r.addr4})
		}
		if r.err6 != nil {
			results6[r.i].Error = r.err6.Error()
		} else {
			results6[r.i].Address = r.addr6.String()
			targets6 = append(targets6, target{r.i, r.addr6})
		}
	}
	slices.SortFunc(targets, func(a, b target) int { return a.index - b.index })
	slices.SortFunc(targets6, func(a, b target) int { return a.index - b.index })
	return targets, targets6
}

// resolve turns "host[:port]" into an IPv4 and an IPv6 address with the
// port; a family it has no address for gets an error.
func resolve(ctx context.Context, server string) (a4, a6 netip.AddrPort, err4, err6 error) {
	fail := func(err error) (netip.AddrPort, netip.AddrPort, error, error) {
		return netip.AddrPort{}, netip.AddrPort{}, err, err
	}
	host, portStr, err := net.SplitHostPort(server)
	if err != nil {
		// No port given (or an unbracketed IPv6 literal).
		host, portStr = server, "3478"
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return fail(fmt.Errorf("bad STUN server %q: port must be 1-65535", server))
	}
	if host == "" {
		return fail(fmt.Errorf("bad STUN server %q: no host name", server))
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip.Unmap().WithZone("")}
	} else {
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && (dnsErr.IsTimeout || errors.Is(err, context.DeadlineExceeded)) {
				return fail(fmt.Errorf("look up %q: no answer in time (check DNS or the internet connection)", host))
			}
			return fail(fmt.Errorf("look up %q: %w", host, err))
		}
	}
	err4 = fmt.Errorf("%q has no IPv4 address (it is asked over IPv6 only)", server)
	err6 = fmt.Errorf("%q has no IPv6 address (it is asked over IPv4 only)", server)
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip.Is4() && !a4.IsValid() {
			a4, err4 = netip.AddrPortFrom(ip, uint16(port)), nil
		}
		if ip.Is6() && !a6.IsValid() {
			a6, err6 = netip.AddrPortFrom(ip, uint16(port)), nil
		}
	}
	return a4, a6, err4, err6
}

// localAddrs lists this machine's interface addresses.
func localAddrs() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list interface addresses: %w", err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}
