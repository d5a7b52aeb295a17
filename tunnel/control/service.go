package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/exchange"
	"github.com/wgpunch/wgpunch/tunnel/lanpeers"
	"github.com/wgpunch/wgpunch/tunnel/monitor"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
	"github.com/wgpunch/wgpunch/tunnel/ports"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// LANPeers is what the Service needs from LAN discovery; *lanpeers.Discovery
// satisfies it.
type LANPeers interface {
	Peers() []lanpeers.Announcement
}

// LANRefresher is implemented by a LANPeers that can announce our ports at
// once instead of at its next periodic check; *lanpeers.Discovery does. The
// Service calls Refresh after every change to a tunnel's existence or
// port, so another machine on the LAN choosing a port right then sees ours.
// Refresh must not block.
type LANRefresher interface {
	Refresh()
}

// ServiceOptions configure a Service. Store is required; everything else
// has a default.
type ServiceOptions struct {
	Store *store.Store
	// Engine brings tunnels up. nil: Up and Down fail with ErrNeedDaemon
	// (the CLI without a daemon edits configs only).
	Engine engine.Engine
	// NeedDaemon is what Up and Down return when Engine is nil; it must
	// wrap ErrNeedDaemon and say how to start the daemon (ipc.Connect
	// names the socket and state directory). nil: a generic message.
	NeedDaemon error
	// Reader reads live WireGuard devices for Status. nil: tunnels read as down.
	Reader monitor.DeviceReader
	// LAN lists other WG Punch machines on the LAN (may be nil; see SetLAN).
	// If it is also a LANRefresher, it is told at once when our tunnels or
	// their ports change.
	LAN LANPeers
	// Logf receives diagnostics; never keys. nil: discard.
	Logf func(format string, args ...any)
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	// Hooks, for tests. nil: the real thing.
	NATCheck func(ctx context.Context, opts natcheck.Options) (*natcheck.Report, error)
	PortFree func(port uint16) bool
	// PortCheck says why a port is not free (ports.Check); used when
	// PortFree is nil.
	PortCheck func(port uint16) error
	NetInfo   netinfo.Info
	// BeforeSave runs before every config save that may be applied to a
	// running tunnel (saveThenApply); an error fails the save. nil: none.
	BeforeSave func(cfg *conf.Config) error
	Hostname   string // default os.Hostname()
	// InstallID is this installation's ID (store.InstallID), which our LAN
	// announcements carry: announcements with it are ours, whatever their
	// host name. "": only the host name tells (as before installation IDs).
	InstallID string
	// WatchInterval is how often Watch subscribers get a report; 0: 1 s.
	WatchInterval time.Duration
	// The address watch (selfaddr.go): how often it looks (AddrTick, 5 s)
	// and how often it asks STUN while every peer is connected
	// (AddrCheckIdle, 10 min) or while one is not (AddrCheckSilent, 60 s).
	AddrTick, AddrCheckIdle, AddrCheckSilent time.Duration
	// HasIPv6 says whether this machine has an IPv6 internet connection
	// (a global IPv6 address), for the diagnosis; nil: look.
	HasIPv6 func() bool
}

// Service is the in-process Controller: it owns the state directory and,
// in the daemon, the engine. Mutations are serialized; Status runs
// alongside them.
type Service struct {
	opts ServiceOptions
	st   *store.Store
	eng  engine.Engine
	mon  *monitor.Monitor
	net  netinfo.Info

	mu sync.Mutex // serializes changes to configs and to the running set

	upMu  sync.RWMutex
	up    map[string]string    // tunnel -> interface, tunnels we brought up
	upErr map[string]string    // tunnel -> why the last Up failed
	since map[string]time.Time // tunnel -> when it came up (not re-applied)

	aw addrWatch // the address watch (selfaddr.go)

	lanMu sync.RWMutex
	lan   LANPeers

	monMu sync.Mutex // monitor.Snapshot is stateful

	watchMu   sync.Mutex
	watchers  map[chan *Report]struct{}
	watchStop chan struct{}
}

var _ Controller = (*Service)(nil)

// NewService returns a Service on opts.Store.
func NewService(opts ServiceOptions) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("control: NewService needs a Store")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NATCheck == nil {
		opts.NATCheck = natcheck.Check
	}
	if opts.HasIPv6 == nil {
		opts.HasIPv6 = hasGlobalIPv6
	}
	if opts.PortFree == nil && opts.PortCheck == nil {
		opts.PortCheck = ports.Check
	}
	if opts.NetInfo == nil {
		opts.NetInfo = netinfo.OS()
	}
	if opts.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "wgpunch"
		}
		opts.Hostname = h
	}
	if opts.WatchInterval <= 0 {
		opts.WatchInterval = time.Second
	}
	if opts.AddrTick <= 0 {
		opts.AddrTick = defaultAddrTick
	}
	if opts.AddrCheckIdle <= 0 {
		opts.AddrCheckIdle = DefaultAddrCheckIdle
	}
	if opts.AddrCheckSilent <= 0 {
		opts.AddrCheckSilent = DefaultAddrCheckSilent
	}
	reader := opts.Reader
	if reader == nil {
		reader = noReader{}
	}
	s := &Service{
		opts:     opts,
		st:       opts.Store,
		eng:      opts.Engine,
		net:      opts.NetInfo,
		mon:      monitor.New(monitor.Options{Reader: reader, Now: opts.Now}),
		up:       map[string]string{},
		upErr:    map[string]string{},
		since:    map[string]time.Time{},
		lan:      opts.LAN,
		watchers: map[chan *Report]struct{}{},
	}
	if s.eng != nil {
		// Tunnels that outlive this process (Windows services) are up.
		for _, n := range s.eng.Running() {
			s.up[n] = n
		}
	}
	return s, nil
}

type noReader struct{}

func (noReader) Device(name string) (*wgtypes.Device, error) {
	return nil, fmt.Errorf("device %q: %w", name, os.ErrNotExist)
}

// SetLAN sets (or clears, with nil) the LAN discovery once it has started.
func (s *Service) SetLAN(l LANPeers) {
	s.lanMu.Lock()
	s.lan = l
	s.lanMu.Unlock()
}

func (s *Service) lanPeers() []lanpeers.Announcement {
	s.lanMu.RLock()
	l := s.lan
	s.lanMu.RUnlock()
	if l == nil {
		return nil
	}
	return l.Peers()
}

// lanChanged tells LAN discovery that our tunnels or ports changed.
func (s *Service) lanChanged() {
	s.lanMu.RLock()
	l := s.lan
	s.lanMu.RUnlock()
	if r, ok := l.(LANRefresher); ok {
		r.Refresh()
	}
}

// Hostname is the name announced on the LAN and the default display name
// in invites.
func (s *Service) Hostname() string { return s.opts.Hostname }

// InstallID is the installation ID our LAN announcements carry ("": none).
func (s *Service) InstallID() string { return s.opts.InstallID }

// StateDir is the directory the Service keeps tunnels in.
func (s *Service) StateDir() string { return s.st.Dir() }

// HasEngine says whether Up and Down can work.
func (s *Service) HasEngine() bool { return s.eng != nil }

// LocalTunnels lists every stored tunnel and its ListenPort (for LAN
// announcements and port-sharing warnings).
func (s *Service) LocalTunnels() []ports.LocalTunnel {
	cfgs, _ := s.loadAll()
	out := make([]ports.LocalTunnel, 0, len(cfgs))
	for _, c := range cfgs {
		out = append(out, ports.LocalTunnel{Name: c.Name, Port: c.Interface.ListenPort})
	}
	return out
}

// ---- errors --------------------------------------------------------------

// codedError is one of the error values (is) whose text is only the
// explanation (the generic "a tunnel with that name already exists" is
// wrong for, say, a reply accepted twice).
type codedError struct {
	msg   string
	is    error
	cause error // also matched by errors.Is (e.g. invite.ErrInviteChanged); may be nil
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.is}
	}
	return []error{e.is, e.cause}
}

func existsf(format string, args ...any) error {
	return &codedError{msg: fmt.Sprintf(format, args...), is: ErrExists}
}

// badName is the ErrInvalidInput for a name conf.ValidateName refused; its
// message already quotes the name and says which characters are allowed.
func badName(err error) error {
	return invalidf("%v", err)
}

func invalidf(format string, args ...any) error {
	return &codedError{msg: fmt.Sprintf(format, args...), is: ErrInvalidInput}
}

func notFound(name string) error {
	return fmt.Errorf("%w %q (the tunnels are listed by: wgpunch list)", ErrNotFound, name)
}

func (s *Service) needDaemon() error {
	if s.opts.NeedDaemon != nil {
		return s.opts.NeedDaemon
	}
	return fmt.Errorf("%w; start it with: sudo systemctl start wgpunch  (or: sudo wgpunch daemon)", ErrNeedDaemon)
}

// load reads one tunnel, turning store errors into Controller errors.
func (s *Service) load(name string) (*conf.Config, error) {
	if err := conf.ValidateName(name); err != nil {
		return nil, badName(err)
	}
	cfg, err := s.st.Load(name)
	if err != nil {
		return nil, s.loadErr(name, err)
	}
	return cfg, nil
}

func (s *Service) loadErr(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return notFound(name)
	}
	var pe *conf.ParseError
	if errors.As(err, &pe) {
		file := filepath.Join(s.st.Dir(), name+".conf")
		if p, err := s.st.Path(name); err == nil {
			file = p
		}
		return invalidf("the config file of tunnel %q (%s) is broken: %v; fix it in a text editor, or delete it with: wgpunch remove %s",
			name, file, pe, name)
	}
	return fmt.Errorf("load tunnel %q: %w", name, err)
}

// loadAll reads every tunnel that parses; broken ones are reported by name.
func (s *Service) loadAll() ([]*conf.Config, map[string]error) {
	names, err := s.st.List()
	if err != nil {
		return nil, map[string]error{"": err}
	}
	var cfgs []*conf.Config
	var bad map[string]error
	for _, n := range names {
		c, err := s.st.Load(n)
		if err != nil {
			if bad == nil {
				bad = map[string]error{}
			}
			bad[n] = s.loadErr(n, err)
			continue
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, bad
}

// ---- running set -----------------------------------------------------------

func (s *Service) ifaceOf(name string) (string, bool) {
	s.upMu.RLock()
	defer s.upMu.RUnlock()
	i, ok := s.up[name]
	return i, ok
}

func (s *Service) upSnapshot() map[string]string {
	s.upMu.RLock()
	defer s.upMu.RUnlock()
	m := make(map[string]string, len(s.up))
	for k, v := range s.up {
		m[k] = v
	}
	return m
}

func (s *Service) runningIfaces() map[string]bool {
	m := map[string]bool{}
	for _, i := range s.upSnapshot() {
		m[i] = true
	}
	return m
}

func (s *Service) setUp(name, iface string) {
	s.upMu.Lock()
	if _, ok := s.up[name]; !ok {
		s.since[name] = s.opts.Now()
	}
	s.up[name] = iface
	delete(s.upErr, name)
	s.upMu.Unlock()
}

func (s *Service) setDown(name string) {
	s.upMu.Lock()
	delete(s.up, name)
	delete(s.since, name)
	delete(s.upErr, name)
	s.upMu.Unlock()
}

func (s *Service) setUpErr(name string, err error) {
	s.upMu.Lock()
	s.upErr[name] = err.Error()
	s.upMu.Unlock()
}

// saveUpSetLocking is saveUpSet under the state directory's lock, for
// callers that do not hold it.
func (s *Service) saveUpSetLocking(ctx context.Context) {
	unlock, err := s.st.Lock(ctx)
	if err != nil {
		s.opts.Logf("save up-set: %v", err)
		return
	}
	defer unlock()
	s.saveUpSet()
}

// saveUpSet records which tunnels are up so a restarted daemon restores
// them. The caller holds the state directory's lock.
func (s *Service) saveUpSet() {
	up := s.upSnapshot()
	names := make([]string, 0, len(up))
	for n := range up {
		names = append(names, n)
	}
	slices.Sort(names)
	if err := s.st.SaveUpSet(names); err != nil {
		s.opts.Logf("save up-set: %v", err)
	}
}

// engDown takes a tunnel down in the engine. A failure while the engine no
// longer runs the tunnel (its device vanished, a half-failed earlier Down)
// counts as down: otherwise the Service would believe it up forever and
// refuse Down, Remove and Rename.
func (s *Service) engDown(name string) error {
	err := s.eng.Down(name)
	if errors.Is(err, engine.ErrNotUp) {
		return nil // the engine's contract: not up is already down
	}
	if err != nil && !slices.Contains(s.eng.Running(), name) {
		// Down half-failed but the tunnel is gone all the same.
		s.opts.Logf("tunnel %s: %v (it is not running any more; taken as down)", name, err)
		return nil
	}
	return err
}

// wrapf prefixes err with what was being done, unless the error already
// starts with that (the engine's messages often do).
func wrapf(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if strings.HasPrefix(err.Error(), what) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ---- simple calls ------------------------------------------------------------

// List returns the tunnel names, sorted.
func (s *Service) List(ctx context.Context) ([]string, error) {
	names, err := s.st.List()
	if err != nil {
		return nil, fmt.Errorf("list tunnels in %s: %w", s.st.Dir(), err)
	}
	slices.Sort(names)
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// Show returns the config without its private key.
func (s *Service) Show(ctx context.Context, name string) (*conf.Config, error) {
	cfg, err := s.load(name)
	if err != nil {
		return nil, err
	}
	return cfg.Redacted(), nil
}

// Export returns a wg-quick file.
func (s *Service) Export(ctx context.Context, name string, withPrivateKey bool) ([]byte, error) {
	cfg, err := s.load(name)
	if err != nil {
		return nil, err
	}
	return cfg.MarshalExport(withPrivateKey), nil
}

// Remove takes the tunnel down if it is up and deletes it.
func (s *Service) Remove(ctx context.Context, name string) error {
	if err := conf.ValidateName(name); err != nil {
		return badName(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlockSt, err := s.st.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlockSt()
	if _, ok := s.ifaceOf(name); ok {
		if err := s.engDown(name); err != nil {
			return fmt.Errorf("take tunnel %q down before removing it: %w", name, err)
		}
		s.setDown(name)
		s.saveUpSet()
	}
	if err := s.st.Remove(name); err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return notFound(name)
		}
		return fmt.Errorf("remove tunnel %q: %w", name, err)
	}
	s.lanChanged()
	s.upMu.Lock()
	delete(s.upErr, name)
	s.upMu.Unlock()
	return nil
}

// Rename renames a tunnel. A running tunnel is taken down, renamed and
// brought up again under its new name (the interface is named after it).
func (s *Service) Rename(ctx context.Context, oldName, newName string) error {
	if err := conf.ValidateName(newName); err != nil {
		return invalidf("new name: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlockSt, err := s.st.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlockSt()
	if _, err := s.load(oldName); err != nil {
		return err
	}
	if oldName == newName {
		return nil
	}
	if _, err := s.st.Load(newName); err == nil {
		return existsf("a tunnel named %q already exists; pick another name or remove that one first (wgpunch remove %s)", newName, newName)
	}
	_, wasUp := s.ifaceOf(oldName)
	if wasUp {
		if err := s.engDown(oldName); err != nil {
			return fmt.Errorf("take tunnel %q down to rename it: %w", oldName, err)
		}
		s.setDown(oldName)
	}
	if err := s.st.Rename(oldName, newName); err != nil {
		if wasUp {
			s.upLocked(oldName)
			s.saveUpSet()
		}
		if errors.Is(err, store.ErrExists) {
			return existsf("a tunnel named %q already exists; pick another name", newName)
		}
		return fmt.Errorf("rename tunnel %q to %q: %w", oldName, newName, err)
	}
	s.lanChanged()
	if wasUp {
		err := s.upLocked(newName)
		s.saveUpSet()
		if err != nil {
			return fmt.Errorf("renamed %q to %q, but bringing it up again failed: %w", oldName, newName, err)
		}
	}
	return nil
}

// SetListenPort changes a tunnel's port; a running tunnel gets it at once.
func (s *Service) SetListenPort(ctx context.Context, name string, port uint16) error {
	if err := exchange.CheckPortNumber(port); err != nil {
		return planErr(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlockSt, err := s.st.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlockSt()
	cfg, err := s.load(name)
	if err != nil {
		return err
	}
	if cfg.Interface.ListenPort == port {
		return nil
	}
	if _, err := s.facts().CheckPort(port, name); err != nil {
		return planErr(err)
	}
	old := cfg.Clone()
	cfg.Interface.ListenPort = port
	if err := cfg.Validate(); err != nil {
		return invalidf("%v", err)
	}
	if _, err := s.saveThenApply(old, cfg, true, fmt.Sprintf("apply port %d to running tunnel %q", port, name)); err != nil {
		return err
	}
	s.lanChanged()
	return nil
}

// FreePort picks a port free here, unused by our tunnels and not announced
// on the LAN.
func (s *Service) FreePort(ctx context.Context) (uint16, error) {
	p, err := s.facts().PickPort()
	return p, planErr(err)
}

// LocalLANs lists this machine's shareable subnets, skipping the
// interfaces of our tunnels (by tunnel name and by running interface).
func (s *Service) LocalLANs(ctx context.Context) ([]LAN, error) {
	names, _ := s.st.List()
	for _, i := range s.upSnapshot() {
		names = append(names, i)
	}
	lans := s.net.LANs(names)
	if lans == nil {
		lans = []LAN{}
	}
	return lans, nil
}

// NATCheck runs a STUN check.
func (s *Service) NATCheck(ctx context.Context, req NATCheckRequest) (*natcheck.Report, error) {
	port := req.Port
	f := s.facts()
	if port == 0 {
		p, err := f.PickPort()
		if err != nil {
			return nil, planErr(err)
		}
		port = p
	} else if err := f.CheckCheckPort(port); err != nil {
		return nil, planErr(err)
	}
	servers, err := s.stunServers(req.STUN)
	if err != nil {
		return nil, err
	}
	rep, err := s.opts.NATCheck(ctx, natcheck.Options{LocalPort: port, Servers: servers, Logf: s.opts.Logf})
	if err != nil {
		return nil, fmt.Errorf("NAT check from port %d: %w", port, err)
	}
	return rep, nil
}

// stunServers are the STUN servers a NAT check uses: those the request
// names, else the saved ones, else natcheck.DefaultServers.
func (s *Service) stunServers(req []string) ([]string, error) {
	if len(req) > 0 {
		// The same forms as the settings accept (HOST alone: port 3478).
		servers, err := NormalizeSTUNServers(req)
		if err != nil || len(servers) > 0 {
			return servers, err
		}
	}
	set, err := s.st.LoadSettings()
	if err != nil {
		s.opts.Logf("load settings: %v (using default STUN servers)", err)
	}
	if len(set.STUNServers) > 0 {
		return set.STUNServers, nil
	}
	return natcheck.DefaultServers, nil
}

// ---- up / down -------------------------------------------------------------

// Up brings a tunnel up (or re-applies its config) and remembers it.
func (s *Service) Up(ctx context.Context, name string) error {
	if s.eng == nil {
		return s.needDaemon()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.upLocked(name)
	s.saveUpSetLocking(ctx)
	return err
}

func (s *Service) upLocked(name string) error {
	cfg, err := s.load(name)
	if err != nil {
		return err
	}
	if _, running := s.ifaceOf(name); !running {
		if err := s.facts().CheckUpPort(name, cfg.Interface.ListenPort); err != nil {
			err = planErr(err)
			s.setUpErr(name, err)
			return err
		}
	}
	iface, err := s.eng.Up(cfg)
	if err != nil {
		err = wrapf(err, "bring tunnel %q up", name)
		s.setUpErr(name, err)
		return err
	}
	s.setUp(name, iface)
	s.opts.Logf("tunnel %s up on %s, port %d, %d peer(s)", name, iface, cfg.Interface.ListenPort, len(cfg.Peers))
	return nil
}

// Down takes a tunnel down and forgets it should be up.
func (s *Service) Down(ctx context.Context, name string) error {
	if s.eng == nil {
		return s.needDaemon()
	}
	if err := conf.ValidateName(name); err != nil {
		return badName(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ifaceOf(name); !ok {
		if _, err := s.load(name); err != nil {
			return err
		}
	}
	if err := s.engDown(name); err != nil {
		return wrapf(err, "take tunnel %q down", name)
	}
	s.setDown(name)
	s.saveUpSetLocking(ctx)
	s.opts.Logf("tunnel %s down", name)
	return nil
}

// RestoreUp brings up the tunnels that were up when the daemon last ran.
// Failures are logged and shown in Status; the up-set keeps them.
func (s *Service) RestoreUp(ctx context.Context) error {
	if s.eng == nil {
		return s.needDaemon()
	}
	names, err := s.st.LoadUpSet()
	if err != nil {
		return fmt.Errorf("load the list of tunnels to restore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, n := range names {
		if err := s.upLocked(n); err != nil {
			s.opts.Logf("restore tunnel %s: %v", n, err)
			if errors.Is(err, ErrNotFound) {
				continue // removed meanwhile; dropped from the set below
			}
			errs = append(errs, err) // stays in the up-set: a later restart tries again
		}
	}
	// The up-set is rewritten only with tunnels that exist; failed ones stay.
	keep := map[string]bool{}
	for n := range s.upSnapshot() {
		keep[n] = true
	}
	for _, n := range names {
		if _, err := s.st.Load(n); err == nil {
			keep[n] = true
		}
	}
	list := make([]string, 0, len(keep))
	for n := range keep {
		list = append(list, n)
	}
	slices.Sort(list)
	if unlockSt, err := s.st.Lock(ctx); err != nil {
		s.opts.Logf("save up-set: %v", err)
	} else {
		if err := s.st.SaveUpSet(list); err != nil {
			s.opts.Logf("save up-set: %v", err)
		}
		unlockSt()
	}
	return errors.Join(errs...)
}

// Shutdown takes every tunnel down without forgetting that it was up, so
// the next daemon start restores it.
func (s *Service) Shutdown() error {
	s.stopWatchers()
	if s.eng == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name := range s.upSnapshot() {
		if err := s.engDown(name); err != nil {
			errs = append(errs, wrapf(err, "take tunnel %q down", name))
		}
		s.setDown(name)
	}
	return errors.Join(errs...)
}

var (
	_ LANPeers     = (*lanpeers.Discovery)(nil)
	_ LANRefresher = (*lanpeers.Discovery)(nil)
)
