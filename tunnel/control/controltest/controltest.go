// Package controltest runs a control.Service on a temporary store with
// fakes around it (engine, NAT check, port checks, network facts), for the
// tests of package control and of the socket layer (tunnel/ipc). It is
// imported by tests only.
package controltest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/engine"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// FakeEngine records Up/Down; mock for unit tests only. It is a
// monitor.DeviceReader too. Tests that reach into Cfgs hold Mu.
type FakeEngine struct {
	Mu     sync.Mutex
	Cfgs   map[string]*conf.Config // the running tunnels
	FailUp error
	// FailDown, if set, is what Down returns (the tunnel stays running
	// unless the test removed it from Cfgs itself).
	FailDown error
	Calls    []string
	// Handshakes are the last handshake times Device reports, by peer.
	Handshakes map[wgtypes.Key]time.Time
	// RxBytes are the received byte counters Device reports, by peer.
	RxBytes map[wgtypes.Key]int64
	// Public is what PublicAddress (engine.Prober) answers for every
	// tunnel, PublicErr its error; Probes counts the calls.
	Public    netip.AddrPort
	PublicErr error
	Probes    int
}

// PublicAddress makes the fake engine an engine.Prober.
func (e *FakeEngine) PublicAddress(ctx context.Context, name string, server netip.AddrPort) (netip.AddrPort, error) {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.Probes++
	if _, up := e.Cfgs[name]; !up {
		return netip.AddrPort{}, fmt.Errorf("tunnel %q: %w", name, engine.ErrNotUp)
	}
	return e.Public, e.PublicErr
}

// NewFakeEngine returns a FakeEngine running nothing.
func NewFakeEngine() *FakeEngine { return &FakeEngine{Cfgs: map[string]*conf.Config{}} }

func (e *FakeEngine) Up(cfg *conf.Config) (string, error) {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.Calls = append(e.Calls, "up "+cfg.Name)
	if e.FailUp != nil {
		return "", e.FailUp
	}
	e.Cfgs[cfg.Name] = cfg.Clone()
	return cfg.Name, nil
}

func (e *FakeEngine) Down(name string) error {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.Calls = append(e.Calls, "down "+name)
	if e.FailDown != nil {
		return e.FailDown
	}
	if _, up := e.Cfgs[name]; !up {
		return fmt.Errorf("take tunnel %q down: %w", name, engine.ErrNotUp)
	}
	delete(e.Cfgs, name)
	return nil
}

func (e *FakeEngine) Running() []string {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	var out []string
	for n := range e.Cfgs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (e *FakeEngine) Close() error {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	e.Cfgs = map[string]*conf.Config{}
	return nil
}

// Config is the config tunnel name runs with, nil if it is down.
func (e *FakeEngine) Config(name string) *conf.Config {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	return e.Cfgs[name]
}

// FakeNet is a netinfo.Info with fixed answers.
type FakeNet struct {
	RouteList []netinfo.Route
	LANList   []netinfo.LAN
	Primary   netip.Addr
	// Skipped records the skip lists LANs was called with.
	Skipped *[][]string
}

func (f FakeNet) Routes() []netinfo.Route                { return f.RouteList }
func (f FakeNet) PrimaryIPv4(map[string]bool) netip.Addr { return f.Primary }
func (f FakeNet) LANs(skip []string) []netinfo.LAN {
	if f.Skipped != nil {
		*f.Skipped = append(*f.Skipped, skip)
	}
	return f.LANList
}

// Env is a Service on a temp store with fakes around it. Tests change
// Busy, NATRep, NATErr and SaveHook while holding Mu when the Service may
// run concurrently.
type Env struct {
	T      testing.TB
	Dir    string
	St     *store.Store
	Svc    *control.Service
	Eng    *FakeEngine // nil without engine
	Busy   map[uint16]bool
	NATRep *natcheck.Report
	NATErr error
	NATReq []natcheck.Options
	// SaveHook, if set, runs before every config save of saveThenApply
	// (ServiceOptions.BeforeSave); an error fails the save.
	SaveHook func(cfg *conf.Config) error
	Mu       sync.Mutex
}

// EnvOpt changes the ServiceOptions NewEnv uses.
type EnvOpt func(*control.ServiceOptions)

// NewEnv returns a Service on a fresh temp store: NAT checks answer
// NATRep (none: "no STUN server answered"), ports in Busy are taken, the
// machine sits on 192.168.1.0/24 (eth0) as 192.168.1.10. With withEngine a
// FakeEngine runs the tunnels.
func NewEnv(t testing.TB, withEngine bool, opts ...EnvOpt) *Env {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{T: t, Dir: dir, St: st, Busy: map[uint16]bool{}}
	so := control.ServiceOptions{
		Store: st,
		NATCheck: func(ctx context.Context, o natcheck.Options) (*natcheck.Report, error) {
			e.Mu.Lock()
			defer e.Mu.Unlock()
			e.NATReq = append(e.NATReq, o)
			if e.NATErr != nil {
				return nil, e.NATErr
			}
			if e.NATRep == nil {
				return nil, errors.New("no STUN server answered")
			}
			r := *e.NATRep
			r.LocalPort = o.LocalPort
			return &r, nil
		},
		PortFree: func(p uint16) bool {
			e.Mu.Lock()
			defer e.Mu.Unlock()
			return !e.Busy[p]
		},
		BeforeSave: func(cfg *conf.Config) error {
			e.Mu.Lock()
			h := e.SaveHook
			e.Mu.Unlock()
			if h == nil {
				return nil
			}
			return h(cfg)
		},
		NetInfo: FakeNet{
			RouteList: []netinfo.Route{{Prefix: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}},
			Primary:   netip.MustParseAddr("192.168.1.10"),
		},
		Hostname:      "host-" + t.Name()[:4],
		WatchInterval: 20 * time.Millisecond,
	}
	if withEngine {
		e.Eng = NewFakeEngine()
		so.Engine = e.Eng
		so.Reader = e.Eng
	}
	for _, o := range opts {
		o(&so)
	}
	svc, err := control.NewService(so)
	if err != nil {
		t.Fatal(err)
	}
	e.Svc = svc
	return e
}

// Snapshot returns every file in the state dir with its bytes.
func (e *Env) Snapshot() map[string]string {
	e.T.Helper()
	return ReadDir(e.T, e.Dir)
}

// ReadDir returns every file in dir with its bytes.
func ReadDir(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[ent.Name()] = string(b)
	}
	return out
}

// Load reads tunnel name from the store, failing the test if it cannot.
func (e *Env) Load(name string) *conf.Config {
	e.T.Helper()
	c, err := e.St.Load(name)
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// UpSet is the saved list of tunnels to restore, sorted.
func (e *Env) UpSet() []string {
	e.T.Helper()
	s, err := e.St.LoadUpSet()
	if err != nil {
		e.T.Fatal(err)
	}
	slices.Sort(s)
	return s
}

// WriteFileForTest writes data to path (0600).
func WriteFileForTest(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }

// Device makes the fake engine a monitor.DeviceReader too.
func (e *FakeEngine) Device(name string) (*wgtypes.Device, error) {
	e.Mu.Lock()
	defer e.Mu.Unlock()
	c, ok := e.Cfgs[name]
	if !ok {
		return nil, fmt.Errorf("device %q: %w", name, os.ErrNotExist)
	}
	d := &wgtypes.Device{Name: name, PrivateKey: c.Interface.PrivateKey, PublicKey: c.Interface.PrivateKey.PublicKey(), ListenPort: int(c.Interface.ListenPort)}
	for _, p := range c.Peers {
		d.Peers = append(d.Peers, wgtypes.Peer{PublicKey: p.PublicKey, LastHandshakeTime: e.Handshakes[p.PublicKey], ReceiveBytes: e.RxBytes[p.PublicKey]})
	}
	return d, nil
}

// NewLinkedEnv is an Env with n tunnels (t0, t1, ...), each up with one
// peer (on another Env), as benchmarks want.
func NewLinkedEnv(b testing.TB, n int) *Env {
	b.Helper()
	ctx := context.Background()
	e := NewEnv(b, true)
	peer := NewEnv(b, false)
	for i := 0; i < n; i++ {
		inv, err := e.Svc.Invite(ctx, control.InviteRequest{Name: fmt.Sprintf("t%d", i), Endpoint: fmt.Sprintf("198.51.100.1:%d", 52000+i)})
		if err != nil {
			b.Fatal(err)
		}
		acc, err := peer.Svc.Accept(ctx, control.AcceptRequest{Name: fmt.Sprintf("p%d", i), Token: inv.Token, Endpoint: fmt.Sprintf("203.0.113.1:%d", 53000+i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Svc.Accept(ctx, control.AcceptRequest{Token: acc.Reply}); err != nil {
			b.Fatal(err)
		}
		if err := e.Svc.Up(ctx, fmt.Sprintf("t%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	return e
}
