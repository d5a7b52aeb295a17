package control

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

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/netinfo"
	"github.com/wgpunch/wgpunch/tunnel/store"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// fakeEngine records Up/Down; mock for unit tests only.
type fakeEngine struct {
	mu     sync.Mutex
	up     map[string]*conf.Config
	failUp error
	// failDown, if set, is what Down returns (the tunnel stays running
	// unless the test removed it from up itself).
	failDown error
	calls    []string
}

func newFakeEngine() *fakeEngine { return &fakeEngine{up: map[string]*conf.Config{}} }

func (e *fakeEngine) Up(cfg *conf.Config) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "up "+cfg.Name)
	if e.failUp != nil {
		return "", e.failUp
	}
	e.up[cfg.Name] = cfg.Clone()
	return cfg.Name, nil
}

func (e *fakeEngine) Down(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, "down "+name)
	if e.failDown != nil {
		return e.failDown
	}
	delete(e.up, name)
	return nil
}

func (e *fakeEngine) Running() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for n := range e.up {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (e *fakeEngine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.up = map[string]*conf.Config{}
	return nil
}

func (e *fakeEngine) config(name string) *conf.Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.up[name]
}

type fakeNet struct {
	routes  []netinfo.Route
	lans    []netinfo.LAN
	primary netip.Addr
}

func (f fakeNet) Routes() []netinfo.Route                { return f.routes }
func (f fakeNet) LANs([]string) []netinfo.LAN            { return f.lans }
func (f fakeNet) PrimaryIPv4(map[string]bool) netip.Addr { return f.primary }

// env is a Service on a temp store with fakes around it.
type env struct {
	t      testing.TB
	dir    string
	st     *store.Store
	svc    *Service
	eng    *fakeEngine
	busy   map[uint16]bool
	natRep *natcheck.Report
	natErr error
	natReq []natcheck.Options
	mu     sync.Mutex
}

type envOpt func(*ServiceOptions)

func newEnv(t testing.TB, withEngine bool, opts ...envOpt) *env {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, st: st, busy: map[uint16]bool{}}
	so := ServiceOptions{
		Store: st,
		NATCheck: func(ctx context.Context, o natcheck.Options) (*natcheck.Report, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.natReq = append(e.natReq, o)
			if e.natErr != nil {
				return nil, e.natErr
			}
			if e.natRep == nil {
				return nil, errors.New("no STUN server answered")
			}
			r := *e.natRep
			r.LocalPort = o.LocalPort
			return &r, nil
		},
		PortFree: func(p uint16) bool {
			e.mu.Lock()
			defer e.mu.Unlock()
			return !e.busy[p]
		},
		NetInfo: fakeNet{
			routes:  []netinfo.Route{{Prefix: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}},
			primary: netip.MustParseAddr("192.168.1.10"),
		},
		Hostname:      "host-" + t.Name()[:4],
		WatchInterval: 20 * time.Millisecond,
	}
	if withEngine {
		e.eng = newFakeEngine()
		so.Engine = e.eng
		so.Reader = e.eng
	}
	for _, o := range opts {
		o(&so)
	}
	svc, err := NewService(so)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// snapshot returns every file in the state dir with its bytes.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	return readDir(e.t, e.dir)
}

func readDir(t testing.TB, dir string) map[string]string {
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

func (e *env) load(name string) *conf.Config {
	e.t.Helper()
	c, err := e.st.Load(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) upSet() []string {
	e.t.Helper()
	s, err := e.st.LoadUpSet()
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(s)
	return s
}

func writeFileForTest(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }

// Device makes the fake engine a monitor.DeviceReader too.
func (e *fakeEngine) Device(name string) (*wgtypes.Device, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.up[name]
	if !ok {
		return nil, fmt.Errorf("device %q: %w", name, os.ErrNotExist)
	}
	d := &wgtypes.Device{Name: name, PrivateKey: c.Interface.PrivateKey, PublicKey: c.Interface.PrivateKey.PublicKey(), ListenPort: int(c.Interface.ListenPort)}
	for _, p := range c.Peers {
		d.Peers = append(d.Peers, wgtypes.Peer{PublicKey: p.PublicKey})
	}
	return d, nil
}
