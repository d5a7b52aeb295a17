// Package fakectl is an in-memory control.Controller for UI unit tests and
// the screenshot tool. It makes real invite and reply tokens (tunnel/invite)
// but touches no network and no WireGuard device; a peer "connects"
// HandshakeAfter after Up.
package fakectl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/exchange"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// Fake is a control.Controller held in memory.
type Fake struct {
	mu      sync.Mutex
	tunnels map[string]*tunnel
	// NAT is what NATCheck returns (default: an OK verdict).
	NAT *natcheck.Report
	// NATDelay makes NATCheck take a while.
	NATDelay time.Duration
	// HandshakeAfter is how long after Up a peer reports a handshake;
	// negative: never.
	HandshakeAfter time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Interval is Watch's period; default 1 s.
	Interval time.Duration
	// Silent makes Watch send nothing (tests that apply reports themselves).
	Silent bool
	// Calls records method calls ("Up office"), for tests.
	Calls []string
	// STUN is the saved STUN server list (Settings / SetSettings).
	STUN []string
	// SettingsErr, if set, is what SetSettings returns (e.g.
	// control.ErrPermission), without saving.
	SettingsErr error
	// LANs is what LocalLANs returns.
	LANs []control.LAN
	port uint16
}

type tunnel struct {
	status  control.TunnelStatus
	key     wgtypes.Key
	invite  *invite.Invite
	upAt    time.Time
	ownName string
}

// New returns an empty fake.
func New() *Fake {
	return &Fake{tunnels: map[string]*tunnel{}, port: 51820,
		NAT: &natcheck.Report{PublicEndpoint: "198.51.100.7:51820", LocalPort: 51820, Mapping: natcheck.MappingEndpointIndependent,
			PortPreserved: true, Verdict: natcheck.VerdictOK}}
}

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fake) record(format string, args ...any) {
	f.Calls = append(f.Calls, fmt.Sprintf(format, args...))
}

// CallLog returns a copy of the calls so far.
func (f *Fake) CallLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Calls...)
}

// AddTunnel puts a ready-made tunnel status in (for tests and screenshots).
func (f *Fake) AddTunnel(t control.TunnelStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, _ := wgtypes.GeneratePrivateKey()
	f.tunnels[t.Name] = &tunnel{status: t, key: k}
}

// SetTunnel replaces a tunnel's status.
func (f *Fake) SetTunnel(t control.TunnelStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if x := f.tunnels[t.Name]; x != nil {
		x.status = t
	}
}

func (f *Fake) List(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.tunnels {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (f *Fake) Show(ctx context.Context, name string) (*conf.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tunnels[name]
	if t == nil {
		return nil, control.ErrNotFound
	}
	return &conf.Config{Name: name, Interface: conf.Interface{ListenPort: t.status.ListenPort}}, nil
}

func (f *Fake) Export(ctx context.Context, name string, withPrivateKey bool) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Export %s %v", name, withPrivateKey)
	t := f.tunnels[name]
	if t == nil {
		return nil, control.ErrNotFound
	}
	return []byte(fmt.Sprintf("[Interface]\n# PrivateKey = (not exported)\nListenPort = %d\n", t.status.ListenPort)), nil
}

func (f *Fake) Invite(ctx context.Context, req control.InviteRequest) (*control.InviteResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Invite %s %d %v", req.Name, req.Port, req.LANs)
	if f.tunnels[req.Name] != nil {
		return nil, control.ErrExists
	}
	k, _ := wgtypes.GeneratePrivateKey()
	port := req.Port
	if port == 0 {
		port = f.nextPort()
	}
	ep, _ := conf.ParseEndpoint(fmt.Sprintf("198.51.100.7:%d", port))
	inv := &invite.Invite{ID: invite.NewID(), Name: "this-pc", PublicKey: k.PublicKey(), Endpoint: ep,
		Subnet: netip.MustParsePrefix("10.77.12.0/24"), InviterAddress: netip.MustParsePrefix("10.77.12.1/24"),
		InviteeAddress: netip.MustParsePrefix("10.77.12.2/24"), NATMapping: string(f.NAT.Mapping), NATVerdict: string(f.NAT.Verdict)}
	for _, l := range req.LANs {
		if p, err := netip.ParsePrefix(l); err == nil {
			inv.LANs = append(inv.LANs, p)
		}
	}
	tok, err := inv.Encode()
	if err != nil {
		return nil, err
	}
	png, err := invite.QRPNG(tok, 512)
	if err != nil {
		return nil, err
	}
	f.tunnels[req.Name] = &tunnel{key: k, invite: inv, status: control.TunnelStatus{Name: req.Name, ListenPort: port,
		Interface: req.Name, Address: "10.77.12.1/24", PublicKey: k.PublicKey().String()}}
	return &control.InviteResult{Token: tok, QRPNG: png, Tunnel: req.Name, ListenPort: port, Endpoint: ep.String(), NAT: f.NAT}, nil
}

func (f *Fake) Accept(ctx context.Context, req control.AcceptRequest) (*control.AcceptResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Accept %s", req.Name)
	return f.accept(req, false)
}

// PreviewAccept is Accept's checks and result, saving nothing; like the
// Service's, an invite's preview has no safety code and no reply.
func (f *Fake) PreviewAccept(ctx context.Context, req control.AcceptRequest) (*control.AcceptResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("PreviewAccept %s", req.Name)
	return f.accept(req, true)
}

func (f *Fake) accept(req control.AcceptRequest, preview bool) (*control.AcceptResult, error) {
	m, err := invite.Decode(req.Token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", control.ErrInvalidInput, err)
	}
	if m.Invite != nil {
		if f.tunnels[req.Name] != nil {
			return nil, control.ErrExists
		}
		sub := m.Invite.Subnet
		if !sub.IsValid() {
			sub = m.Invite.InviterAddress.Masked()
		}
		shared, _ := exchange.ParseLANs(req.LANs)
		rt := exchange.Routing{Peer: m.Invite.Name, Subnet: sub, PeerLANs: m.Invite.LANs, Self: m.Invite.InviteeAddress.Addr(), Shared: shared}
		res := &control.AcceptResult{Kind: "invite", Tunnel: req.Name, PeerName: m.Invite.Name,
			Routes: rt.Routes(), Shared: rt.SharedLANs(), RouteSummary: rt.Summary(), Aliases: rt.AliasLines()}
		if preview {
			return res, nil
		}
		k, _ := wgtypes.GeneratePrivateKey()
		port := req.Port
		if port == 0 {
			port = f.nextPort()
		}
		ep, _ := conf.ParseEndpoint(fmt.Sprintf("203.0.113.5:%d", port))
		r := &invite.Reply{Name: "this-pc", PublicKey: k.PublicKey(), Endpoint: ep}
		r.Answer(m.Invite)
		tok, err := r.Encode()
		if err != nil {
			return nil, err
		}
		png, err := invite.QRPNG(tok, 512)
		if err != nil {
			return nil, err
		}
		t := &tunnel{key: k, status: control.TunnelStatus{Name: req.Name, ListenPort: port, Interface: req.Name,
			Address: m.Invite.InviteeAddress.String(), PublicKey: k.PublicKey().String()}}
		code, err := invite.ExchangeCode(m.Invite, r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", control.ErrInvalidInput, err)
		}
		t.status.Peers = []control.PeerStatus{{Name: m.Invite.Name, PublicKey: m.Invite.PublicKey.String(),
			Address: m.Invite.InviterAddress.Addr().String() + "/32", Endpoint: m.Invite.Endpoint.String(), State: "down", SafetyCode: code.Text, SafetyCodeKeysOnly: code.KeysOnly}}
		f.tunnels[req.Name] = t
		res.SafetyCode, res.Reply, res.ReplyQRPNG = code.Text, tok, png
		return res, nil
	}
	t := f.tunnels[req.Name]
	if t == nil || t.invite == nil || t.invite.ID != m.Reply.InviteID {
		return nil, fmt.Errorf("%w: this reply does not answer a pending invite of %q", control.ErrInvalidInput, req.Name)
	}
	code, err := invite.ExchangeCode(t.invite, m.Reply) // key-only for a reply without digest
	if err != nil {
		return nil, fmt.Errorf("%w: %v", control.ErrInvalidInput, err)
	}
	sub := t.invite.Subnet
	if !sub.IsValid() {
		sub = t.invite.InviterAddress.Masked()
	}
	rt := exchange.Routing{Peer: m.Reply.Name, Subnet: sub, PeerLANs: m.Reply.LANs, Self: t.invite.InviterAddress.Addr(), Shared: t.invite.LANs}
	res := &control.AcceptResult{Kind: "reply", Tunnel: req.Name, PeerName: m.Reply.Name, SafetyCode: code.Text, SafetyCodeKeysOnly: code.KeysOnly,
		Routes: rt.Routes(), Shared: rt.SharedLANs(), RouteSummary: rt.Summary(), Aliases: rt.AliasLines()}
	if preview {
		return res, nil
	}
	t.status.Peers = append(t.status.Peers, control.PeerStatus{Name: m.Reply.Name, PublicKey: m.Reply.PublicKey.String(),
		Address: t.invite.InviteeAddress.Addr().String() + "/32", Endpoint: m.Reply.Endpoint.String(), State: "down", SafetyCode: code.Text, SafetyCodeKeysOnly: code.KeysOnly})
	return res, nil
}

func (f *Fake) nextPort() uint16 {
	p := f.port
	f.port++
	return p
}

func (f *Fake) Remove(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Remove %s", name)
	if f.tunnels[name] == nil {
		return control.ErrNotFound
	}
	delete(f.tunnels, name)
	return nil
}

func (f *Fake) Rename(ctx context.Context, oldName, newName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Rename %s %s", oldName, newName)
	t := f.tunnels[oldName]
	if t == nil {
		return control.ErrNotFound
	}
	if f.tunnels[newName] != nil {
		return control.ErrExists
	}
	delete(f.tunnels, oldName)
	t.status.Name = newName
	f.tunnels[newName] = t
	return nil
}

func (f *Fake) SetListenPort(ctx context.Context, name string, port uint16) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("SetListenPort %s %d", name, port)
	t := f.tunnels[name]
	if t == nil {
		return control.ErrNotFound
	}
	t.status.ListenPort = port
	t.status.Warnings = nil
	return nil
}

func (f *Fake) FreePort(ctx context.Context) (uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.port, nil
}

// LocalLANs returns f.LANs.
func (f *Fake) LocalLANs(ctx context.Context) ([]control.LAN, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]control.LAN{}, f.LANs...), nil
}

func (f *Fake) NATCheck(ctx context.Context, req control.NATCheckRequest) (*natcheck.Report, error) {
	f.mu.Lock()
	f.record("NATCheck %d", req.Port)
	r, d := *f.NAT, f.NATDelay
	f.mu.Unlock()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.LocalPort = req.Port
	return &r, nil
}

func (f *Fake) Up(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Up %s", name)
	t := f.tunnels[name]
	if t == nil {
		return control.ErrNotFound
	}
	if !t.status.Up {
		t.status.Up = true
		t.upAt = f.now()
	}
	return nil
}

func (f *Fake) Down(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Down %s", name)
	t := f.tunnels[name]
	if t == nil {
		return control.ErrNotFound
	}
	t.status.Up = false
	return nil
}

func (f *Fake) Status(ctx context.Context, name string) (*control.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	r := &control.Report{}
	var names []string
	for n := range f.tunnels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if name != "" && n != name {
			continue
		}
		t := f.tunnels[n]
		s := t.status
		s.Peers = append([]control.PeerStatus(nil), s.Peers...)
		for i := range s.Peers {
			p := &s.Peers[i]
			switch {
			case !s.Up:
				p.State = "down"
			case p.State == "down" || p.State == "":
				p.State = "connecting"
				if f.HandshakeAfter >= 0 && !t.upAt.IsZero() && now.Sub(t.upAt) >= f.HandshakeAfter {
					hs := t.upAt.Add(f.HandshakeAfter)
					p.State, p.LastHandshake, p.LastReceive = "connected", &hs, &now
				}
			}
		}
		r.Tunnels = append(r.Tunnels, s)
	}
	if name != "" && len(r.Tunnels) == 0 {
		return nil, control.ErrNotFound
	}
	return r, nil
}

func (f *Fake) Watch(ctx context.Context) (<-chan *control.Report, error) {
	iv := f.Interval
	if iv == 0 {
		iv = time.Second
	}
	ch := make(chan *control.Report, 1)
	if f.Silent {
		go func() { <-ctx.Done(); close(ch) }()
		return ch, nil
	}
	go func() {
		defer close(ch)
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			r, err := f.Status(ctx, "")
			if err != nil && !errors.Is(err, control.ErrNotFound) {
				return
			}
			select {
			case ch <- r:
			case <-ctx.Done():
				return
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (f *Fake) Settings(ctx context.Context) (*control.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &control.Settings{STUNServers: append([]string(nil), f.STUN...),
		DefaultSTUNServers: append([]string(nil), natcheck.DefaultServers...)}, nil
}

// SetSettings validates like the real Service (control.NormalizeSTUNServers).
func (f *Fake) SetSettings(ctx context.Context, set control.Settings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("SetSettings %v", set.STUNServers)
	if f.SettingsErr != nil {
		return f.SettingsErr
	}
	servers, err := control.NormalizeSTUNServers(set.STUNServers)
	if err != nil {
		return err
	}
	f.STUN = servers
	return nil
}

var _ control.Controller = (*Fake)(nil)
