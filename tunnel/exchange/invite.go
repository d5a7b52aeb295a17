package exchange

import (
	"fmt"
	"net/netip"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// Request is an invite or accept request, parsed. Zero fields mean
// "choose for me".
type Request struct {
	Name        string
	DisplayName string
	Port        uint16
	Endpoint    string // HOST:PORT the user gave; only its port is used here
	LANs        []netip.Prefix
	// Subnet is the tunnel subnet the user chose for a new invite
	// (invite --subnet; checkSubnet); invalid: pick a free one.
	Subnet netip.Prefix
	// AllowPublicRoutes is the user's explicit opt-in (this side only;
	// nothing in a token can set it) to route and share prefixes outside
	// private space (see NotPrivate).
	AllowPublicRoutes bool
	// NewKey is the private key for a new tunnel and NewID the ID for a
	// new invite; the caller makes them (randomness stays outside).
	NewKey wgtypes.Key
	NewID  string
}

// InvitePlan is the first half of an invite: the tunnel config to save
// and the invite's ID and promised peer address. The announced addresses
// (Finish) come from a NAT check on Config's ListenPort.
type InvitePlan struct {
	// Saved is the stored config Config changes; nil for a new tunnel.
	Saved    *conf.Config
	Config   *conf.Config
	ID       string
	PeerAddr netip.Prefix
	// Pool is the alias pool the invite offers (invite.Invite.AliasPool):
	// a /16 free here, invalid when none is.
	Pool  netip.Prefix
	Notes []string
}

// PortChanged says whether the invite moves an existing tunnel to another
// port (a running tunnel must then be re-applied).
func (p *InvitePlan) PortChanged() bool {
	return p.Saved != nil && p.Saved.Interface.ListenPort != p.Config.Interface.ListenPort
}

// PlanInvite plans an invite on tunnel in.Name: a new tunnel (port, subnet,
// addresses), or on an existing one the same pending invite again (same ID
// and peer address) or a new invite for one more peer.
func (f *Facts) PlanInvite(in Request) (*InvitePlan, error) {
	if e, ok := f.Broken[in.Name]; ok {
		return nil, e
	}
	if saved := f.config(in.Name); saved != nil {
		return f.reinvite(in, saved)
	}
	if err := f.checkOwnLANs(in); err != nil {
		return nil, err
	}
	p := &InvitePlan{ID: in.NewID}
	port, n, err := f.ChoosePort(in.Port, in.Endpoint, in.Name)
	if err != nil {
		return nil, err
	}
	if n != "" {
		p.Notes = append(p.Notes, n)
	}
	subnet := in.Subnet
	if subnet.IsValid() {
		if err := f.checkSubnet(subnet, in.AllowPublicRoutes); err != nil {
			return nil, err
		}
		if q, ok := OverlapsAny(subnet, in.LANs); ok {
			return nil, invalidf("the tunnel subnet %s overlaps %s, which you share; pick another subnet%s. Nothing was saved", subnet, q, f.suggestion())
		}
	} else {
		var err error
		if subnet, err = f.PickSubnet(append(f.UsedPrefixes(), in.LANs...)); err != nil {
			return nil, err
		}
	}
	p.Config = &conf.Config{
		Name: in.Name,
		Interface: conf.Interface{
			PrivateKey: in.NewKey,
			ListenPort: port,
			Addresses:  []netip.Prefix{HostAddr(subnet, 1)},
			Meta: conf.InterfaceMeta{
				DisplayName: f.displayName(in.DisplayName),
				Subnet:      subnet,
				LANs:        in.LANs,
			},
		},
	}
	p.PeerAddr = HostAddr(subnet, 2)
	p.Pool = f.pickPool(netip.Prefix{}, f.aliasAvoid(in.LANs, []netip.Prefix{subnet}))
	return p, nil
}

func (f *Facts) reinvite(in Request, saved *conf.Config) (*InvitePlan, error) {
	if err := f.checkOwnLANs(in); err != nil {
		return nil, err
	}
	if in.Subnet.IsValid() && in.Subnet.Masked() != saved.Interface.Meta.Subnet.Masked() {
		return nil, existsf("tunnel %q already uses the subnet %s, and a tunnel's subnet cannot change; invite into a new tunnel name to use %s, or remove %s first (wgpunch remove %s)", in.Name, saved.Interface.Meta.Subnet, in.Subnet, in.Name, in.Name)
	}
	p := &InvitePlan{Saved: saved, Config: saved.Clone()}
	cfg := p.Config
	oldPort := cfg.Interface.ListenPort
	if in.Port != 0 && in.Port != oldPort {
		n, err := f.CheckPort(in.Port, in.Name)
		if err != nil {
			return nil, err
		}
		if n != "" {
			p.Notes = append(p.Notes, n)
		}
		if len(cfg.Peers) > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("tunnel %s moves from port %d to %d: its existing peers must be told (send them a new invite or change their endpoint)", in.Name, oldPort, in.Port))
		}
		cfg.Interface.ListenPort = in.Port
	}
	m := &cfg.Interface.Meta
	if in.LANs != nil {
		m.LANs = in.LANs
	}
	if in.DisplayName != "" {
		m.DisplayName = in.DisplayName
	}
	if m.DisplayName == "" {
		m.DisplayName = f.displayName("")
	}
	if len(cfg.Interface.Addresses) == 0 {
		return nil, invalidf("tunnel %q has no Address; add one to its config or remove it and invite again", in.Name)
	}
	if !m.Subnet.IsValid() {
		m.Subnet = cfg.Interface.Addresses[0].Masked()
	}
	if pid := m.PendingInviteID; pid != "" {
		p.ID = pid
		p.PeerAddr = m.PendingPeerAddress
		p.Notes = append(p.Notes, fmt.Sprintf("tunnel %s already had invite %s waiting for a reply; this is the same invite with fresh addresses (a reply to either copy works)", in.Name, p.ID))
	} else {
		p.ID = in.NewID
		p.Notes = append(p.Notes, fmt.Sprintf("tunnel %s already has %d peer(s); this invite adds one more", in.Name, len(cfg.Peers)))
	}
	if !p.PeerAddr.IsValid() {
		var err error
		if p.PeerAddr, err = FreeHost(cfg); err != nil {
			return nil, invalidf("tunnel %q: %v", in.Name, err)
		}
	}
	// The same pending invite keeps its pool while it is free, so a reply
	// to any copy fits.
	keep := netip.Prefix{}
	if n := len(m.SentInvites); n > 0 && p.ID == m.PendingInviteID {
		if old, err := invite.Decode(m.SentInvites[n-1]); err == nil && old.Invite != nil {
			keep = old.Invite.AliasPool
		}
	}
	p.Pool = f.pickPool(keep, f.aliasAvoid(m.LANs, []netip.Prefix{m.Subnet}))
	return p, nil
}

// Finish completes the plan with the addresses to announce: Config gets
// the pending invite and the NAT result, and the invite is encoded.
func (p *InvitePlan) Finish(a *Addresses) (token string, err error) {
	p.Notes = append(p.Notes, a.Notes...)
	cfg := p.Config
	m := &cfg.Interface.Meta
	m.PendingInviteID = p.ID
	m.PendingPeerAddress = p.PeerAddr
	if mapping, verdict := a.natFields(); mapping != "" {
		m.NATMapping, m.NATVerdict = mapping, verdict
	}
	m.PublicEndpoint = a.watched()
	inv := &invite.Invite{
		ID:             p.ID,
		Name:           m.DisplayName,
		PublicKey:      cfg.Interface.PrivateKey.PublicKey(),
		Endpoint:       a.Endpoint,
		Endpoint6:      a.Endpoint6,
		LANEndpoint:    a.LAN,
		Subnet:         m.Subnet,
		InviterAddress: cfg.Interface.Addresses[0],
		InviteeAddress: p.PeerAddr,
		LANs:           m.LANs,
		NATMapping:     m.NATMapping,
		NATVerdict:     m.NATVerdict,
		AliasPool:      p.Pool,
	}
	token, err = inv.Encode()
	if err != nil {
		return "", invalidf("cannot make the invite: %v", err)
	}
	// The copies sent are kept, so the reply's digest can be checked and
	// the exchange code computed over the invite the invitee answered.
	m.SentInvites = invite.RememberSent(m.SentInvites, token)
	if err := cfg.Validate(); err != nil {
		return "", invalidf("tunnel %q: %v", cfg.Name, err)
	}
	return token, nil
}

// side is what an invite or a reply says about the machine that made it.
type side struct {
	Name        string
	InviteID    string
	PublicKey   wgtypes.Key
	Endpoint    conf.Endpoint
	LANEndpoint conf.Endpoint
	LANs        []netip.Prefix
	NATMapping  string
	NATVerdict  string
	Endpoint6   conf.Endpoint // the IPv6 endpoint beside Endpoint
}

func inviteSide(inv *invite.Invite) side {
	return side{inv.Name, inv.ID, inv.PublicKey, inv.Endpoint, inv.LANEndpoint, inv.LANs, inv.NATMapping, inv.NATVerdict, inv.Endpoint6}
}

func replySide(r *invite.Reply) side {
	return side{r.Name, r.InviteID, r.PublicKey, r.Endpoint, r.LANEndpoint, r.LANs, r.NATMapping, r.NATVerdict, r.Endpoint6}
}

// ipv4Of is the public IPv4 candidate among a side's endpoints: Endpoint
// when it is an IPv4 address (not a name).
func ipv4Of(ep conf.Endpoint) conf.Endpoint {
	if a, err := netip.ParseAddr(ep.Host); err == nil && a.Unmap().Is4() {
		return conf.Endpoint{Host: a.Unmap().String(), Port: ep.Port}
	}
	return conf.Endpoint{}
}

// newPeer is the peer for the other side s, at tunnel address addr,
// reached at ep: it routes addr and s's shared LANs, and keeps the NAT
// mapping open (conf.DefaultKeepalive).
//
// reach are s's LANs this side reaches through an alias (AllowedIPs carry
// the alias), serve this side's LANs s reaches through one.
func newPeer(s side, addr netip.Prefix, ep conf.Endpoint, reach, serve []conf.LANAlias) conf.Peer {
	allowed := []netip.Prefix{netip.PrefixFrom(addr.Addr(), addr.Addr().BitLen())}
	allowed = append(allowed, reachedPrefixes(s.LANs, reach)...)
	return conf.Peer{
		PublicKey:           s.PublicKey,
		Endpoint:            ep,
		AllowedIPs:          allowed,
		PersistentKeepalive: conf.DefaultKeepalive,
		Meta: conf.PeerMeta{
			Name:        s.Name,
			InviteID:    s.InviteID,
			LANEndpoint: s.LANEndpoint,
			LANs:        s.LANs,
			ReachAs:     reach,
			ServeAs:     serve,
			NATMapping:  s.NATMapping,
			NATVerdict:  s.NATVerdict,
			// Every public candidate is kept: the Linux engine tries
			// them in turn (conf.Candidates).
			Endpoint4: ipv4Of(s.Endpoint),
			Endpoint6: ipv6Of(s.Endpoint, s.Endpoint6),
		},
	}
}
