package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/ipc"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
	"github.com/wgpunch/wgpunch/tunnel/stunbind"
)

// DefaultMTU is the interface MTU when the config sets none (wg-quick's
// default for an IPv4/IPv6 path of 1500).
const DefaultMTU = 1420

// socketDir is where wireguard-go's ipc package puts UAPI sockets; `wg` and
// wgctrl look there.
const socketDir = "/var/run/wireguard"

// resolveTimeout bounds one DNS lookup of a peer's endpoint host.
const resolveTimeout = 5 * time.Second

// New returns the Linux engine: an embedded wireguard-go device per tunnel,
// a UAPI socket in /var/run/wireguard so `wg show` and wgctrl see it, and
// addresses and routes set with netlink. It needs CAP_NET_ADMIN and
// /dev/net/tun.
//
// The kernel WireGuard module is not used even when present: one code path
// for every machine, and wgctrl reads the userspace device the same way.
//
// DNS = lines are not applied: WG Punch links machines and does not change
// the system resolver (wg-quick would call resolvconf). Default routes
// (AllowedIPs 0.0.0.0/0, ::/0), and AllowedIPs that contain a peer's
// endpoint, are configured on the peer but not routed.
//
// Up never removes a UAPI socket it did not create: the socket directory is
// shared with tunnels of the same name in other network namespaces.
//
// LAN subnets this side shares (cfg.Interface.Meta.LANs) are forwarded from
// the tunnel and masqueraded; nothing else is forwarded (lanshare_linux.go).
func New(opts Options) (Engine, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w (load the tun module: modprobe tun)", err)
	}
	forget := opts.RouterForget
	if forget <= 0 {
		forget = DefaultRouterForget
	}
	retry := opts.PathRetry
	if retry <= 0 {
		retry = DefaultPathRetry
	}
	return &linuxEngine{logf: logf, tune: tuning(opts), tunnels: make(map[string]*tunnel), unstick: unstick{forget: forget}, paths: pathPolicy{retry: retry}}, nil
}

// timings are an engine's Options timings and paths, defaults filled in.
type timings struct {
	resolveRetry       time.Duration
	reresolveHandshake time.Duration
	reresolveSilence   time.Duration
	guardInterval      time.Duration
	sysctl             string // the sysctl tree, /proc/sys
}

func tuning(opts Options) timings {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	t := timings{
		resolveRetry:       or(opts.ResolveRetry, defaultResolveRetry),
		reresolveHandshake: or(opts.ReresolveHandshake, defaultReresolveHandshake),
		reresolveSilence:   or(opts.ReresolveSilence, defaultReresolveSilence),
		guardInterval:      or(opts.GuardInterval, defaultGuardInterval),
		sysctl:             opts.SysctlDir,
	}
	if t.sysctl == "" {
		t.sysctl = defaultSysctlDir
	}
	return t
}

type linuxEngine struct {
	logf func(string, ...any)
	tune timings

	op sync.Mutex // serializes Up, Down and Close

	mu      sync.Mutex // guards tunnels; never held across slow work
	tunnels map[string]*tunnel

	lan lanShare // forwarding rules of shared LANs (lanshare_linux.go); under op

	unstick unstick // the stuck-mapping recovery schedule (unstick.go)

	paths pathPolicy // trying every candidate (paths.go)
}

// tunnel is one running interface.
type tunnel struct {
	name string
	tun  tun.Device
	dev  *device.Device
	uapi net.Listener
	sock os.FileInfo // the UAPI socket file this tunnel created, nil if none

	port   uint16               // listen port that worked
	peers  map[wgtypes.Key]bool // peers on the device
	routes []netip.Prefix       // routes this engine added

	// endpoints are the peers' endpoint addresses at the last apply;
	// under op. No tunnel routes them (routePrefixes).
	endpoints []endpointAddr

	stop chan struct{} // closed on Down; ends the helper goroutines

	stun *stunbind.Bind // the device's socket, answering STUN queries
	mute *muteBind      // wraps stun; drops sends to peers in a quiet phase
	pub  wgtypes.Key    // our public key (for the recovery's turns)
	upAt time.Time      // when the device came up

	recMu       sync.Mutex
	recovering  map[wgtypes.Key]time.Duration    // per peer: until the next try (Recovering)
	sessionless bool                             // a peer with an endpoint has no session; under recMu
	socketProbe time.Time                        // the last STUN query from the tunnel's socket while sessionless; under recMu
	cands       map[wgtypes.Key][]conf.Candidate // per peer, best first (conf.Candidates); under recMu

	names   map[wgtypes.Key]*dnsPeer // hostname peers (dyndns_linux.go); under op
	dnsMu   sync.Mutex               // guards dnsStop; held while watchNames sets an endpoint
	dnsStop chan struct{}            // closed to stop the current watchNames

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func (e *linuxEngine) Up(cfg *conf.Config) (string, error) {
	if cfg == nil {
		return "", errors.New("bring tunnel up: no config")
	}
	if err := checkConfig(cfg); err != nil {
		return "", fmt.Errorf("bring tunnel %q up: %w", cfg.Name, err)
	}
	// DNS lookups may take seconds: do them before taking any lock.
	endpoints := resolveEndpoints(cfg, e.logf, e.tune.resolveRetry)

	e.op.Lock()
	defer e.op.Unlock()
	if t := e.lookup(cfg.Name); t != nil {
		if err := e.apply(t, cfg, false, endpoints); err != nil {
			return "", fmt.Errorf("reconfigure tunnel %q: %w", cfg.Name, err)
		}
		return t.name, nil
	}
	t, err := e.create(cfg, endpoints)
	if err != nil {
		return "", fmt.Errorf("bring tunnel %q up: %w", cfg.Name, err)
	}
	e.mu.Lock()
	e.tunnels[cfg.Name] = t
	e.mu.Unlock()
	go e.watch(cfg.Name, t)
	return t.name, nil
}

func (e *linuxEngine) lookup(name string) *tunnel {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tunnels[name]
}

// forget drops name from the running set if it still maps to t.
func (e *linuxEngine) forget(name string, t *tunnel) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tunnels[name] == t {
		delete(e.tunnels, name)
	}
}

// watch notices a device that stopped on its own (its interface was
// deleted, say) and cleans up after it, so Running stays true.
func (e *linuxEngine) watch(name string, t *tunnel) {
	select {
	case <-t.stop:
		return
	case <-t.dev.Wait():
	}
	e.op.Lock()
	defer e.op.Unlock()
	select {
	case <-t.stop:
		return // Down closed it
	default:
	}
	e.logf("tunnel %s: interface %s went away; tunnel is down", name, t.name)
	e.forget(name, t)
	t.close()
	e.unshareLANs(t.name)
}

func (e *linuxEngine) Down(name string) error {
	e.op.Lock()
	defer e.op.Unlock()
	t := e.lookup(name)
	if t == nil {
		return fmt.Errorf("take tunnel %q down: %w", name, ErrNotUp)
	}
	e.forget(name, t)
	err := t.close()
	e.unshareLANs(t.name)
	if err != nil {
		return fmt.Errorf("take tunnel %q down: %w", name, err)
	}
	return nil
}

func (e *linuxEngine) Running() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.tunnels))
	for n := range e.tunnels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (e *linuxEngine) Close() error {
	e.op.Lock()
	defer e.op.Unlock()
	e.mu.Lock()
	ts := e.tunnels
	e.tunnels = make(map[string]*tunnel)
	e.mu.Unlock()
	var errs []error
	for _, t := range ts {
		errs = append(errs, t.close())
		e.unshareLANs(t.name)
	}
	e.dropShareTable()
	return errors.Join(errs...)
}

// create makes the TUN device, the wireguard-go device and its UAPI socket,
// then applies cfg. On failure everything made so far is removed.
func (e *linuxEngine) create(cfg *conf.Config, endpoints map[wgtypes.Key]netip.AddrPort) (_ *tunnel, err error) {
	mtu := int(cfg.Interface.MTU)
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if l, err := netlink.LinkByName(cfg.Name); err == nil {
		return nil, fmt.Errorf("an interface named %q already exists (type %s; wg-quick or another program may have it up): take it down first, e.g. wg-quick down %s", cfg.Name, l.Type(), cfg.Name)
	}
	// The socket directory is not per network namespace: a daemon in
	// another namespace may have a tunnel of the same name. Its socket is
	// not ours to replace or remove.
	if socketInUse(cfg.Name) {
		return nil, errSocketInUse(cfg.Name)
	}
	tdev, err := tun.CreateTUN(cfg.Name, mtu)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("create interface %q: %w (the wgpunch daemon must run as root or with CAP_NET_ADMIN)", cfg.Name, err)
		}
		return nil, fmt.Errorf("create interface %q: %w", cfg.Name, err)
	}
	name, err := tdev.Name()
	if err != nil {
		tdev.Close()
		return nil, fmt.Errorf("create interface %q: %w", cfg.Name, err)
	}
	t := &tunnel{
		name:  name,
		tun:   tdev,
		peers: make(map[wgtypes.Key]bool),
		stop:  make(chan struct{}),
	}
	logger := &device.Logger{
		// Verbose lines are per-packet chatter; errors go to the daemon
		// log. wireguard-go never prints key material (peers appear as
		// "peer(AbCd…wXyZ)" abbreviations of the public key).
		Verbosef: device.DiscardLogf,
		Errorf: func(format string, args ...any) {
			e.logf("wireguard %s: "+format, append([]any{name}, args...)...)
		},
	}
	// The tunnel's own socket answers STUN queries (stunbind: the public
	// address watch) and can go quiet toward a peer (recover_linux.go).
	t.stun = stunbind.New(conn.NewDefaultBind(), stunbind.Options{})
	t.mute = &muteBind{Bind: t.stun}
	t.dev = device.NewDevice(tdev, t.mute, logger)
	defer func() {
		if err != nil {
			t.close()
			e.unshareLANs(name)
		}
	}()

	f, err := ipc.UAPIOpen(name)
	if err != nil {
		if socketInUse(name) {
			return nil, errSocketInUse(name) // someone else's since the check above
		}
		return nil, fmt.Errorf("open control socket %s: %w", socketPath(name), err)
	}
	// The socket at the path is ours now: remember which file it is, so
	// that close removes it only while it is still this one.
	t.sock, _ = os.Lstat(socketPath(name))
	t.uapi, err = ipc.UAPIListen(name, f)
	f.Close() // UAPIListen holds its own copy of the descriptor
	if err != nil {
		return nil, fmt.Errorf("listen on control socket %s: %w", socketPath(name), err)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			c, err := t.uapi.Accept()
			if err != nil {
				return
			}
			go t.dev.IpcHandle(c)
		}
	}()

	if err := e.apply(t, cfg, true, endpoints); err != nil {
		return nil, err
	}
	t.pub, t.upAt = cfg.Interface.PrivateKey.PublicKey(), time.Now()
	t.sessionless = true // no peer has a session yet; watchStuck looks every second
	t.wg.Add(1)
	go e.watchStuck(t)
	return t, nil
}

// apply configures t for cfg: keys, port and peers through UAPI, MTU,
// addresses and routes through netlink, then kicks a handshake to every
// peer with an endpoint. fresh is true for a device that was just created.
func (e *linuxEngine) apply(t *tunnel, cfg *conf.Config, fresh bool, endpoints map[wgtypes.Key]netip.AddrPort) error {
	link, err := netlink.LinkByName(t.name)
	if err != nil {
		return fmt.Errorf("find interface %q: %w", t.name, err)
	}

	// The hostname watcher of the previous config must not set an endpoint
	// over the one this apply sets; a new one starts below (or the old one
	// again if the device refuses the new config).
	t.stopNames()
	cands := candidatesOf(cfg)
	endpoints = startEndpoints(t, fresh, cands, endpoints)
	uapi := uapiConfig(cfg, t, fresh, endpoints)
	if err := t.dev.IpcSet(uapi); err != nil {
		e.startNames(t)
		if !fresh && cfg.Interface.ListenPort != t.port {
			// A failed rebind leaves the device without a socket:
			// go back to the port that worked.
			if rerr := t.dev.IpcSet(fmt.Sprintf("listen_port=%d\n", t.port)); rerr != nil {
				e.logf("tunnel %s: restore listen port %d: %v", t.name, t.port, rerr)
			}
		}
		return fmt.Errorf("configure WireGuard on %q: %w", t.name, uapiError(err, cfg.Interface.ListenPort))
	}
	t.port = cfg.Interface.ListenPort
	t.recMu.Lock()
	t.cands = cands
	t.recMu.Unlock()
	t.peers = make(map[wgtypes.Key]bool, len(cfg.Peers))
	for _, p := range cfg.Peers {
		t.peers[p.PublicKey] = true
	}
	t.names = namePeers(cfg, endpoints, time.Now())
	e.startNames(t)

	mtu := int(cfg.Interface.MTU)
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if mtu != link.Attrs().MTU {
		if err := netlink.LinkSetMTU(link, mtu); err != nil {
			return fmt.Errorf("set MTU %d on %q: %w", mtu, t.name, err)
		}
	}

	if err := setAddresses(link, t, cfg.Interface.Addresses); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set interface %q up: %w", t.name, err)
	}
	if err := t.dev.Up(); err != nil {
		return fmt.Errorf("start WireGuard on %q: %w", t.name, uapiError(err, cfg.Interface.ListenPort))
	}
	// wireguard-go falls back to a random port after a failed bind (the
	// link-up event races with the Up above), so check what it got.
	if want := cfg.Interface.ListenPort; want != 0 {
		got, err := listenPort(t.dev)
		if err != nil {
			return fmt.Errorf("read listen port of %q: %w", t.name, err)
		}
		if got != want {
			return fmt.Errorf("start WireGuard on %q: %w", t.name, uapiError(unix.EADDRINUSE, want))
		}
	}
	t.endpoints = peerEndpoints(cfg, endpoints)
	for _, p := range cfg.Peers {
		for _, c := range cands[p.PublicKey] {
			if !slices.ContainsFunc(t.endpoints, func(a endpointAddr) bool { return a.addr == c.Addr.Addr() }) {
				t.endpoints = append(t.endpoints, endpointAddr{c.Addr.Addr(), "peer " + peerLabel(p)})
			}
		}
	}
	avoid := append(slices.Clip(t.endpoints), e.otherEndpoints(t)...)
	if err := e.setRoutes(link, t, cfg, avoid); err != nil {
		return err
	}
	if err := e.shareLANs(t.name, cfg); err != nil {
		return err
	}

	// Hole punching needs both sides to send at once: do not wait for the
	// first keepalive or for traffic. SendKeepalive stages a keepalive; with
	// no session yet that starts a handshake initiation right away.
	for _, p := range cfg.Peers {
		if _, ok := endpoints[p.PublicKey]; ok {
			if peer := t.dev.LookupPeer(device.NoisePublicKey(p.PublicKey)); peer != nil {
				peer.SendKeepalive()
			}
		}
	}
	return nil
}

// candidatesOf lists, per peer with more than one, its candidates
// (conf.Candidates): the peers whose endpoint watchStuck moves.
func candidatesOf(cfg *conf.Config) map[wgtypes.Key][]conf.Candidate {
	out := map[wgtypes.Key][]conf.Candidate{}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		if cs := conf.Candidates(cfg, p); len(cs) > 1 && p.PersistentKeepalive > 0 {
			out[p.PublicKey] = cs
		}
	}
	return out
}

// startEndpoints is where a peer with candidates is sent to by this apply:
// the best candidate on a fresh device; on a running one, the endpoint in
// use while it is still one of the candidates (a working path is kept).
func startEndpoints(t *tunnel, fresh bool, cands map[wgtypes.Key][]conf.Candidate, endpoints map[wgtypes.Key]netip.AddrPort) map[wgtypes.Key]netip.AddrPort {
	if len(cands) == 0 {
		return endpoints
	}
	var samples map[wgtypes.Key]peerSample
	if !fresh {
		samples, _ = peerSamples(t.dev)
	}
	out := make(map[wgtypes.Key]netip.AddrPort, len(endpoints))
	for k, ap := range endpoints {
		out[k] = ap
	}
	for k, cs := range cands {
		out[k] = cs[0].Addr
		if cur := samples[k].endpoint; cur.IsValid() && slices.ContainsFunc(cs, func(c conf.Candidate) bool { return c.Kind == conf.PathOf(cs, cur) }) {
			out[k] = cur
		}
	}
	return out
}

// checkConfig rejects what would make the device half-configured. The full
// validation is conf's; this guards the engine on its own.
func checkConfig(cfg *conf.Config) error {
	// A valid tunnel name is also a valid Linux interface name.
	if err := conf.ValidateName(cfg.Name); err != nil {
		return fmt.Errorf("a tunnel name must be 1 to 15 characters and may only use letters, digits and _=+.- (it names the network interface): %w", err)
	}
	if cfg.Interface.PrivateKey == (wgtypes.Key{}) {
		return errors.New("the interface has no private key: generate one or restore the config file")
	}
	if m := cfg.Interface.MTU; m != 0 && (m < 576 || m > 9000) {
		return fmt.Errorf("MTU %d is out of range: use a value from 576 to 9000 (or leave it empty for %d)", m, DefaultMTU)
	}
	seen := make(map[wgtypes.Key]bool)
	for i, p := range cfg.Peers {
		if p.PublicKey == (wgtypes.Key{}) {
			return fmt.Errorf("peer %d has no public key: paste the peer's key or remove the peer", i+1)
		}
		if seen[p.PublicKey] {
			return fmt.Errorf("peer %d repeats the public key of an earlier peer: remove one of them", i+1)
		}
		seen[p.PublicKey] = true
		if !p.Endpoint.IsZero() && p.Endpoint.Port == 0 {
			return fmt.Errorf("peer %d endpoint %q has no port: write it as host:port", i+1, p.Endpoint.Host)
		}
	}
	return nil
}

// uapiConfig renders cfg as a UAPI "set" operation. For a fresh device it
// replaces all peers; on a running one it removes peers no longer present and
// updates the rest in place, so live sessions survive a re-apply.
func uapiConfig(cfg *conf.Config, t *tunnel, fresh bool, endpoints map[wgtypes.Key]netip.AddrPort) string {
	var b strings.Builder
	fmt.Fprintf(&b, "private_key=%x\n", cfg.Interface.PrivateKey[:])
	if fresh || cfg.Interface.ListenPort != t.port {
		// Setting listen_port rebinds the socket; skip it when unchanged.
		fmt.Fprintf(&b, "listen_port=%d\n", cfg.Interface.ListenPort)
	}
	if fresh {
		b.WriteString("replace_peers=true\n")
	} else {
		want := make(map[wgtypes.Key]bool, len(cfg.Peers))
		for _, p := range cfg.Peers {
			want[p.PublicKey] = true
		}
		old := make([]wgtypes.Key, 0, len(t.peers))
		for k := range t.peers {
			if !want[k] {
				old = append(old, k)
			}
		}
		slices.SortFunc(old, func(a, b wgtypes.Key) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range old {
			fmt.Fprintf(&b, "public_key=%x\nremove=true\n", k[:])
		}
	}
	for _, p := range cfg.Peers {
		fmt.Fprintf(&b, "public_key=%x\n", p.PublicKey[:])
		if p.PresharedKey != nil {
			fmt.Fprintf(&b, "preshared_key=%x\n", p.PresharedKey[:])
		} else {
			fmt.Fprintf(&b, "preshared_key=%x\n", make([]byte, wgtypes.KeyLen))
		}
		ap, resolved := endpoints[p.PublicKey]
		if resolved {
			fmt.Fprintf(&b, "endpoint=%s\n", ap)
		}
		if !resolved && !p.Endpoint.IsZero() {
			// Keepalives to a name not resolved yet would fail and
			// hold off the next handshake for 5 s; watchNames turns
			// them on with the endpoint, which starts one at once.
			b.WriteString("persistent_keepalive_interval=0\n")
		} else {
			fmt.Fprintf(&b, "persistent_keepalive_interval=%d\n", p.PersistentKeepalive)
		}
		b.WriteString("replace_allowed_ips=true\n")
		for _, ip := range p.AllowedIPs {
			fmt.Fprintf(&b, "allowed_ip=%s\n", ip.Masked())
		}
	}
	return b.String()
}

// listenPort reads the UDP port dev is bound to.
func listenPort(dev *device.Device) (uint16, error) {
	get, err := dev.IpcGet()
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(get) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "listen_port="); ok {
			p, err := strconv.ParseUint(v, 10, 16)
			return uint16(p), err
		}
		if strings.HasPrefix(line, "public_key=") {
			break // peers follow; the device has no port
		}
	}
	return 0, nil
}

// uapiError turns wireguard-go's errors into advice.
func uapiError(err error, port uint16) error {
	var ie *device.IPCError
	if errors.As(err, &ie) && ie.ErrorCode() == ipc.IpcErrorPortInUse || errors.Is(err, unix.EADDRINUSE) {
		return &portInUseError{port: port, err: err}
	}
	return err
}

// portInUseError is ErrPortInUse with advice and wireguard-go's cause.
type portInUseError struct {
	port uint16
	err  error
}

func (e *portInUseError) Error() string {
	return fmt.Sprintf("UDP port %d is already in use by another program or tunnel: pick another listen port: %v", e.port, e.err)
}

func (e *portInUseError) Unwrap() []error { return []error{ErrPortInUse, e.err} }

// resolveEndpoints looks up every peer endpoint. IP literals never fail;
// hostnames that do not resolve now are left out, and watchNames retries
// them while the tunnel is up (a dynamic DNS name may not resolve at boot).
func resolveEndpoints(cfg *conf.Config, logf func(string, ...any), retry time.Duration) map[wgtypes.Key]netip.AddrPort {
	res := make(map[wgtypes.Key]netip.AddrPort)
	for _, p := range cfg.Peers {
		if p.Endpoint.IsZero() {
			continue
		}
		ap, err := resolve(p.Endpoint)
		if err != nil {
			logf("tunnel %s: peer %s: %v (will retry every %s)", cfg.Name, peerLabel(p), err, retry)
			continue
		}
		res[p.PublicKey] = ap
	}
	return res
}

func resolve(ep conf.Endpoint) (netip.AddrPort, error) {
	host := strings.TrimSuffix(strings.TrimPrefix(ep.Host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), ep.Port), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("resolve endpoint host %q: %w", host, err)
	}
	if len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("resolve endpoint host %q: no addresses", host)
	}
	// Prefer IPv4: that is what NATs punch and what invites carry.
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return netip.AddrPortFrom(a.Unmap(), ep.Port), nil
		}
	}
	return netip.AddrPortFrom(addrs[0], ep.Port), nil
}

func peerLabel(p conf.Peer) string {
	if p.Meta.Name != "" {
		return fmt.Sprintf("%q", p.Meta.Name)
	}
	return p.PublicKey.String()
}

// setAddresses makes the interface carry exactly want.
func setAddresses(link netlink.Link, t *tunnel, want []netip.Prefix) error {
	have, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("list addresses of %q: %w", t.name, err)
	}
	haveSet := make(map[netip.Prefix]netlink.Addr)
	for _, a := range have {
		if p, ok := toPrefix(a.IPNet); ok && !p.Addr().IsLinkLocalUnicast() {
			haveSet[p] = a
		}
	}
	for _, p := range want {
		if _, ok := haveSet[p]; ok {
			delete(haveSet, p)
			continue
		}
		// No prefix route: the kernel's would take over a LAN route of the
		// same prefix (metric 0 beats DHCP's 100), so setRoutes adds it
		// explicitly, after checking for clashes.
		a := &netlink.Addr{IPNet: toIPNet(p), Flags: unix.IFA_F_NOPREFIXROUTE}
		if p.Addr().Is6() {
			a.Flags |= unix.IFA_F_NODAD // a tunnel has no neighbours to collide with
		}
		if err := netlink.AddrAdd(link, a); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address %s to %q: %w", p, t.name, err)
		}
	}
	for p, a := range haveSet {
		if err := netlink.AddrDel(link, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove address %s from %q: %w", p, t.name, err)
		}
	}
	return nil
}

// endpointAddr is a peer endpoint address that must not be routed into a
// tunnel, with words naming the peer for the log.
type endpointAddr struct {
	addr netip.Addr
	who  string
}

// routeWant is a route cfg needs; under is the tunnel's subnet route that
// already covers it (a peer's address inside the subnet), if any.
type routeWant struct {
	p, under netip.Prefix
	what     string // for the log: "the tunnel subnet", "peer bob"
}

// routePrefixes lists the routes cfg needs: the subnets of the interface's
// addresses (assigned without their kernel prefix route, setAddresses),
// then every peer AllowedIP, each inside a subnet marked as covered by it.
// Default routes are left out: WG Punch links machines, it does not carry
// all traffic, and a default route through the tunnel would also swallow
// the tunnel's own UDP. For the same reason a prefix that contains a peer
// endpoint in avoid (as the halves 0.0.0.0/1 and 128.0.0.0/1 that VPN
// providers ship do) is left out: the handshakes would loop into the
// tunnel and the machine would lose its connection. Both are logged,
// naming the prefix and the endpoint.
func routePrefixes(cfg *conf.Config, avoid []endpointAddr, logf func(string, ...any)) []routeWant {
	var out []routeWant
	seen := make(map[netip.Prefix]bool)
	keep := func(ip netip.Prefix) bool {
		if seen[ip] {
			return false
		}
		seen[ip] = true
		if ip.Bits() == 0 {
			logf("tunnel %s: not routing %s through the tunnel: full-tunnel (default route) is not supported", cfg.Name, ip)
			return false
		}
		if i := slices.IndexFunc(avoid, func(a endpointAddr) bool { return ip.Contains(a.addr) }); i >= 0 {
			a := avoid[i]
			logf("tunnel %s: not routing %s through the tunnel: it contains the endpoint %s of %s, so the tunnel's own packets would be routed into the tunnel and the connection would break; list narrower AllowedIPs that leave %s out", cfg.Name, ip, a.addr, a.who, a.addr)
			return false
		}
		return true
	}
	var subnets []netip.Prefix
	for _, a := range cfg.Interface.Addresses {
		ip := a.Masked()
		if ip.IsSingleIP() || !keep(ip) {
			continue
		}
		subnets = append(subnets, ip)
		out = append(out, routeWant{p: ip, what: "the tunnel subnet"})
	}
	for _, p := range cfg.Peers {
		for _, ip := range p.AllowedIPs {
			ip = ip.Masked()
			if !keep(ip) {
				continue
			}
			w := routeWant{p: ip, what: "peer " + peerLabel(p)}
			for _, s := range subnets {
				if s.Addr().Is4() == ip.Addr().Is4() && s.Bits() <= ip.Bits() && s.Contains(ip.Addr()) {
					w.under = s
					break
				}
			}
			out = append(out, w)
		}
	}
	return out
}

// peerEndpoints lists the endpoint addresses of cfg's peers, resolved as
// in endpoints.
func peerEndpoints(cfg *conf.Config, endpoints map[wgtypes.Key]netip.AddrPort) []endpointAddr {
	var out []endpointAddr
	for _, p := range cfg.Peers {
		if ap, ok := endpoints[p.PublicKey]; ok {
			out = append(out, endpointAddr{ap.Addr().Unmap(), "peer " + peerLabel(p)})
		}
	}
	return out
}

// otherEndpoints lists the peer endpoints of the running tunnels other
// than self: no tunnel may route them into itself either. Called under
// e.op, which guards tunnel.endpoints.
func (e *linuxEngine) otherEndpoints(self *tunnel) []endpointAddr {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.tunnels))
	for n, t := range e.tunnels {
		if t != self {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []endpointAddr
	for _, n := range names {
		for _, a := range e.tunnels[n].endpoints {
			out = append(out, endpointAddr{a.addr, a.who + " of tunnel " + n})
		}
	}
	return out
}

// setRoutes adds the routes cfg needs and removes ones a previous apply
// added that are no longer wanted. WG Punch never takes over a route: one
// that equals, contains or lies inside a route of another interface (a
// LAN, a docker bridge, another of our tunnels; netinfo.Clash, the rule
// the exchange applies at accept time) is skipped and logged, naming the
// clash; status shows it as a route-clash warning.
func (e *linuxEngine) setRoutes(link netlink.Link, t *tunnel, cfg *conf.Config, avoid []endpointAddr) error {
	want := routePrefixes(cfg, avoid, e.logf)
	others, err := mainRoutes()
	if err != nil {
		return fmt.Errorf("read the routing table: %w", err)
	}
	var added []netip.Prefix
	skipped := map[netip.Prefix]bool{}
	for _, w := range want {
		if w.under.IsValid() && !skipped[w.under] {
			continue // the subnet route covers it
		}
		if r, bad := netinfo.Clash(w.p, others, t.name); bad {
			skipped[w.p] = true
			e.logf("tunnel %s: not routing %s (%s) through the tunnel: this machine already routes %s through %s (%s), and WG Punch never takes a route over", t.name, w.p, w.what, r.Prefix, r.Iface, netinfo.Relation(w.p, r.Prefix))
			continue
		}
		if slices.Contains(t.routes, w.p) {
			added = append(added, w.p)
			continue
		}
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: toIPNet(w.p), Scope: netlink.SCOPE_LINK}
		if err := netlink.RouteAdd(r); err != nil {
			if errors.Is(err, unix.EEXIST) {
				// Raced with a route added since mainRoutes, or one of
				// ours left by an earlier apply: only ours is kept.
				e.logf("tunnel %s: route to %s already exists; not routing it through the tunnel", t.name, w.p)
				continue
			}
			return fmt.Errorf("add route %s via %q: %w", w.p, t.name, err)
		}
		added = append(added, w.p)
	}
	for _, p := range t.routes {
		if slices.Contains(added, p) {
			continue
		}
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: toIPNet(p), Scope: netlink.SCOPE_LINK}
		if err := netlink.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
			e.logf("tunnel %s: remove route %s: %v", t.name, p, err)
		}
	}
	t.routes = added
	return nil
}

// mainRoutes lists the unicast routes of the main table, IPv4 and IPv6,
// with their interface names (default routes left out): what a tunnel's
// routes are checked against.
func mainRoutes() ([]netinfo.Route, error) {
	rs, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, err
	}
	names := map[int]string{}
	name := func(idx int) string {
		if n, ok := names[idx]; ok {
			return n
		}
		n := fmt.Sprintf("interface %d", idx)
		if l, err := netlink.LinkByIndex(idx); err == nil {
			n = l.Attrs().Name
		}
		names[idx] = n
		return n
	}
	var out []netinfo.Route
	for _, r := range rs {
		if r.Dst == nil || r.Type != unix.RTN_UNICAST {
			continue
		}
		p, ok := toPrefix(r.Dst)
		if !ok || p.Bits() == 0 {
			continue
		}
		iface := "a multipath route"
		if r.LinkIndex != 0 {
			iface = name(r.LinkIndex)
		}
		out = append(out, netinfo.Route{Prefix: p.Masked(), Iface: iface})
	}
	return out, nil
}

// close removes the device, its interface (and with it addresses and
// routes) and its UAPI socket.
func (t *tunnel) close() error {
	t.closeOnce.Do(func() { t.closeErr = t.doClose() })
	return t.closeErr
}

func (t *tunnel) doClose() error {
	close(t.stop)
	var errs []error
	if t.uapi != nil {
		// os.ErrClosed: wireguard-go's listener already stopped watching
		// its socket file (it does when the file changes or goes away);
		// Close still closed the listener itself.
		if err := t.uapi.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("close control socket of %q: %w", t.name, err))
		}
	}
	// Closing the device closes the TUN; a non-persistent TUN interface
	// vanishes with its last descriptor.
	t.dev.Close()
	if link, err := netlink.LinkByName(t.name); err == nil {
		if _, ok := link.(*netlink.Tuntap); ok {
			if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
				errs = append(errs, fmt.Errorf("delete interface %q: %w", t.name, err))
			}
		}
	}
	// Remove the socket only if it is the one this tunnel made: after a
	// failed Up the path may belong to a tunnel of the same name in
	// another network namespace, and removing it would cut that tunnel
	// off from `wg` and the status monitor. (Closing the listener
	// normally unlinks it already.)
	if cur, err := os.Lstat(socketPath(t.name)); err == nil && t.sock != nil && os.SameFile(cur, t.sock) {
		if err := os.Remove(socketPath(t.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove control socket: %w", err))
		}
	}
	t.wg.Wait()
	return errors.Join(errs...)
}

func socketPath(name string) string { return socketDir + "/" + name + ".sock" }

// socketInUse reports whether a live WireGuard device (in this network
// namespace or another one: the path is shared) answers on name's UAPI
// socket. A stale socket file is not in use; UAPIOpen replaces it.
func socketInUse(name string) bool {
	c, err := net.DialTimeout("unix", socketPath(name), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func errSocketInUse(name string) error {
	return fmt.Errorf("another WireGuard tunnel named %s already uses %s (perhaps in another network namespace): pick another name or take that one down", name, socketPath(name))
}

// toIPNet converts p as is: an interface address keeps its host bits.
func toIPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

func toPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}
