package natcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// DefaultServers are well-known public STUN servers on different
// addresses. They are used when Options.Servers is empty. Tests never
// contact them.
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
	// listen on. Check binds 0.0.0.0:LocalPort itself unless Conn is set,
	// so it must run before the tunnel binds the port. 0 picks any port.
	LocalPort uint16
	// Servers are STUN servers as host:port (port 3478 if left out).
	// Empty means DefaultServers.
	Servers []string
	// Timeout bounds the whole check; 0 means DefaultTimeout (1.5 s).
	Timeout time.Duration
	// Conn, if set, is used for probing instead of a socket of our own.
	// Check reads from it until it returns, then clears its read
	// deadline; it does not close it.
	Conn net.PacketConn
	// Progress, if set, is called once per server, from the goroutine
	// that called Check, as soon as that server answered or finally failed.
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
	targets := resolveAll(ctx, servers, results)
	report := &Report{LocalPort: localPort, Mapping: MappingUnknown}
	p := &prober{conn: conn, logf: logf, progress: opts.Progress, retransmits: opts.Retransmits}
	if len(p.retransmits) == 0 {
		p.retransmits = defaultRetransmits()
	}
	answers := p.run(ctx, targets, results)
	report.Servers = results

	listLocal := opts.LocalAddrs
	if listLocal == nil {
		listLocal = localAddrs
	}
	locals, err := listLocal()
	if err != nil {
		logf("natcheck: list local addresses: %v", err)
	}
	judge(report, answers, locals)
	return report, nil
}

// target is one server we could resolve.
type target struct {
	index int // into the results
	addr  netip.AddrPort
}

// resolveAll resolves every server to an IPv4 address, in parallel, within
// resolveTimeout. Servers that fail get their Error set in results.
func resolveAll(ctx context.Context, servers []string, results []ServerResult) []target {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	type res struct {
		i    int
		addr netip.AddrPort
		err  error
	}
	ch := make(chan res, len(servers))
	for i, s := range servers {
		results[i].Server = s
		go func() {
			a, err := resolve(ctx, s)
			ch <- res{i, a, err}
		}()
	}
	var targets []target
	for range servers {
		r := <-ch
		if r.err != nil {
			results[r.i].Error = r.err.Error()
			continue
		}
		results[r.i].Address = r.addr.String()
		targets = append(targets, target{r.i, r.addr})
	}
	return targets
}

// resolve turns "host[:port]" into an IPv4 address and port.
func resolve(ctx context.Context, server string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(server)
	if err != nil {
		// No port given (or an unbracketed IPv6 literal).
		host, portStr = server, "3478"
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("bad STUN server %q: port must be 1-65535", server)
	}
	if host == "" {
		return netip.AddrPort{}, fmt.Errorf("bad STUN server %q: no host name", server)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if !ip.Is4() {
			return netip.AddrPort{}, fmt.Errorf("STUN server %q is IPv6; the tunnel port is IPv4, use an IPv4 server", server)
		}
		return netip.AddrPortFrom(ip, uint16(port)), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && (dnsErr.IsTimeout || errors.Is(err, context.DeadlineExceeded)) {
			return netip.AddrPort{}, fmt.Errorf("look up %q: no answer in time (check DNS or the internet connection)", host)
		}
		return netip.AddrPort{}, fmt.Errorf("look up %q: %w", host, err)
	}
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Is4() {
			return netip.AddrPortFrom(ip, uint16(port)), nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("look up %q: no IPv4 address", host)
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
