package exchange

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

// AcceptPlan is the first half of accepting an invite: the new tunnel's
// port and subnet, checked against this machine. Finish adds the
// addresses a NAT check on Port found.
type AcceptPlan struct {
	in     Request
	inv    *invite.Invite
	Port   uint16
	Subnet netip.Prefix
	// Routing is what the link routes, for the user to see.
	Routing  Routing
	Notes    []string
	Warnings []Warning
	// Code is the link's exchange safety code, set by Finish (which also
	// stores it in the new peer's SafetyCode).
	Code invite.Code
	// reach are the inviter's LANs reached here through an alias, offers
	// the aliases offered for our LANs inside the invite's pool.
	reach, offers []conf.LANAlias
}

// PlanAcceptInvite checks that inv can become tunnel in.Name here (not our
// own invite, not accepted before, the name free, private space only, its
// subnet and LANs taking over no route here) and chooses the port.
func (f *Facts) PlanAcceptInvite(in Request, inv *invite.Invite) (*AcceptPlan, error) {
	if !inv.InviteeAddress.IsValid() || !inv.InviterAddress.IsValid() {
		return nil, invalidf("the invite carries no tunnel addresses; ask the other side for a new invite")
	}
	if inv.Endpoint.IsZero() && inv.LANEndpoint.IsZero() {
		return nil, invalidf("the invite carries no address to reach %s at; ask them for a new invite made with --endpoint HOST:PORT", inv.Name)
	}
	if _, ok := f.Broken[in.Name]; ok {
		return nil, existsf("a tunnel named %q already exists (its file is broken); pick another name or remove it first (wgpunch remove %s)", in.Name, in.Name)
	}
	invPub := inv.PublicKey.String()
	if owner, ok := f.ourPublicKeys()[invPub]; ok {
		return nil, invalidf("this invite was made on this machine (tunnel %q); send it to the other computer, and paste here the reply it prints: wgpunch accept %s REPLY", owner, owner)
	}
	for _, c := range f.Configs {
		if c.Name == in.Name {
			return nil, existsf("a tunnel named %q already exists; accept into a new name (wgpunch accept OTHERNAME ...) or remove the old one first (wgpunch remove %s)", in.Name, in.Name)
		}
		for _, p := range c.Peers {
			if p.PublicKey.String() == invPub && p.Meta.InviteID == inv.ID {
				return nil, existsf("this invite was already accepted into tunnel %q; to accept it again, remove that tunnel first (wgpunch remove %s)", c.Name, c.Name)
			}
		}
	}
	if err := f.checkOwnLANs(in); err != nil {
		return nil, err
	}
	subnet := inv.Subnet
	if !subnet.IsValid() {
		subnet = inv.InviterAddress.Masked()
	}
	// The invite's subnet and LANs become routes here: private space only.
	ask := fmt.Sprintf("Ask %s to share only its office LAN.", inv.Name)
	if err := f.checkPrivate([]netip.Prefix{subnet, inv.InviteeAddress.Masked(), inv.InviterAddress.Masked()}, in.AllowPublicRoutes, "the invite asks to route", fmt.Sprintf("Ask %s for a new invite.", inv.Name)); err != nil {
		return nil, err
	}
	if err := f.checkPrivate(inv.LANs, in.AllowPublicRoutes, "the invite asks to route", ask); err != nil {
		return nil, err
	}
	in.DisplayName = f.displayName(in.DisplayName)
	p := &AcceptPlan{in: in, inv: inv}
	port, n, err := f.ChoosePort(in.Port, in.Endpoint, in.Name)
	if err != nil {
		return nil, err
	}
	p.Port = port
	if n != "" {
		p.Notes = append(p.Notes, n)
	}
	// The tunnel subnet and the inviter's LANs become routes here: none may
	// take over a route this machine has (RouteClash).
	p.Subnet = subnet
	p.Routing = Routing{Peer: inv.Name, Subnet: subnet, PeerLANs: inv.LANs, Self: inv.InviteeAddress.Addr(), Shared: in.LANs}
	if what, bad := f.RouteClash(p.Subnet, ""); bad {
		fix := fmt.Sprintf("Ask %s to make a new invite with another tunnel subnet", inv.Name)
		if s := f.SuggestSubnet(); s.IsValid() {
			fix += fmt.Sprintf(", for example %s, which is free here (in WG Punch: Options, Tunnel subnet; or wgpunch invite NAME --subnet %s)", s, s)
		}
		return nil, invalidf("the invite's tunnel subnet %s overlaps %s. Taking it would cut this machine off from that network, so nothing was saved. %s", p.Subnet, what, fix)
	}
	inTunnel := &conf.Config{Name: in.Name, Interface: conf.Interface{
		Addresses: []netip.Prefix{inv.InviteeAddress, inv.InviterAddress},
		Meta:      conf.InterfaceMeta{Subnet: p.Subnet},
	}}
	// The inviter's LANs that overlap a network here are reached through
	// an alias free here; the others are routed as they are.
	avoid := f.aliasAvoid(in.LANs, inv.LANs, []netip.Prefix{p.Subnet, inv.InviteeAddress.Masked(), inv.InviterAddress.Masked()})
	for _, l := range inv.LANs {
		what, bad := f.lanClash(l, inTunnel, "", in.LANs)
		if !bad {
			continue
		}
		fix := fmt.Sprintf("Ask %s for a new invite that does not share %s", inv.Name, l)
		if !inv.AliasPool.IsValid() {
			return nil, noAlias(inv.Name, l, what, fmt.Sprintf("%s runs a WG Punch without LAN aliases", inv.Name), fmt.Sprintf("Ask %s to update WG Punch and send a new invite (both sides then agree on an alias), or to send an invite that does not share %s", inv.Name, l))
		}
		if why := aliasable(l); why != "" {
			return nil, noAlias(inv.Name, l, what, why, fix+"; if both offices use the same LAN, one must renumber it")
		}
		a, ok := f.pickAlias(l, avoid, "")
		if !ok {
			return nil, noAlias(inv.Name, l, what, "no subnet of its size is free on this machine", fix)
		}
		p.reach = append(p.reach, conf.LANAlias{LAN: l, As: a})
		avoid = append(avoid, a)
	}
	// For each LAN we share, an alias inside the inviter's pool: the
	// inviter uses it when that LAN overlaps one of its networks, and
	// this side serves every alias it offered.
	if pool := inv.AliasPool; pool.IsValid() {
		taken := slices.Clone(in.LANs)
		for _, l := range in.LANs {
			if aliasable(l) != "" {
				continue
			}
			if a, ok := offerIn(l, pool, taken); ok {
				p.offers = append(p.offers, conf.LANAlias{LAN: l, As: a})
				taken = append(taken, a)
			}
		}
	}
	p.Routing.PeerLANs = reachedPrefixes(inv.LANs, p.reach)
	p.Routing.Aliases = p.reach
	p.Routing.Via = f.LANAddress
	for _, o := range p.offers {
		if _, ok := OverlapsAny(o.LAN, inv.LANs); ok {
			p.Routing.Served = append(p.Routing.Served, o)
		}
	}
	return p, nil
}

// Finish builds the new tunnel and the reply for the addresses a found:
// the inviter is reached at its endpoint, or at its LAN endpoint when both
// sides' NAT checks found the same public address.
func (p *AcceptPlan) Finish(a *Addresses) (cfg *conf.Config, reply *invite.Reply, err error) {
	in, inv := p.in, p.inv
	p.Notes = append(p.Notes, a.Notes...)
	mapping, verdict := a.natFields()
	peerEP := inv.Endpoint
	if peerEP.IsZero() {
		peerEP = inv.LANEndpoint
	} else if a.NAT != nil && !inv.LANEndpoint.IsZero() && a.Endpoint.Host == inv.Endpoint.Host && a.Endpoint != a.LAN && !isLoopback(a.Endpoint.Host) {
		peerEP = inv.LANEndpoint
		p.Notes = append(p.Notes, fmt.Sprintf("%s is behind the same public address %s as this machine; using its LAN address %s", inv.Name, a.Endpoint.Host, inv.LANEndpoint))
	} else if ep, note := prefer6(inv.Name, peerEP, ipv6Of(inv.Endpoint, inv.Endpoint6), a.IPv6(), a.ipv4Doubtful() || symmetric(inv.NATMapping)); note != "" {
		peerEP = ep
		p.Notes = append(p.Notes, note)
	}
	if h, err := netip.ParseAddr(a.LAN.Host); err == nil && !p.Routing.Via.IsValid() {
		p.Routing.Via = h
	}
	display := in.DisplayName
	cfg = &conf.Config{
		Name: in.Name,
		Interface: conf.Interface{
			PrivateKey: in.NewKey,
			ListenPort: p.Port,
			Addresses:  []netip.Prefix{inv.InviteeAddress},
			Meta: conf.InterfaceMeta{
				DisplayName:    display,
				Subnet:         p.Subnet,
				LANs:           in.LANs,
				NATMapping:     mapping,
				NATVerdict:     verdict,
				PublicEndpoint: a.watched(),
			},
		},
		Peers: []conf.Peer{newPeer(inviteSide(inv), inv.InviterAddress, peerEP, p.reach, p.offers)},
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, invalidf("the invite leads to an invalid tunnel (%v); ask the other side for a new invite", err)
	}
	reply = &invite.Reply{
		Name:        display,
		PublicKey:   in.NewKey.PublicKey(),
		Endpoint:    a.Endpoint,
		Endpoint6:   a.Endpoint6,
		LANEndpoint: a.LAN,
		LANs:        in.LANs,
		NATMapping:  mapping,
		NATVerdict:  verdict,
		Offers:      p.offers,
		ReachAs:     p.reach,
	}
	reply.Answer(inv)
	code, err := invite.ExchangeCode(inv, reply)
	if err != nil {
		return nil, nil, invalidf("cannot make the safety code: %v; ask the other side for a new invite", err)
	}
	p.Code = code
	cfg.Peers[0].Meta.SafetyCode = code.Text
	if w := NATFailWarning(inv.Name, inv.NATVerdict, inv.NATMapping); w != nil {
		p.Warnings = append(p.Warnings, *w)
	}
	if verdict == string(natcheck.VerdictFail) {
		p.Warnings = append(p.Warnings, Warning{Code: "nat-fail", Message: "this machine's network cannot be punched: " + a.natMessage()})
	}
	return cfg, reply, nil
}

// symmetric reports whether a NAT mapping (natcheck.Mapping) gives a new
// public port per destination: IPv4 hole punching through it fails.
func symmetric(mapping string) bool { return mapping == string(natcheck.MappingEndpointDependent) }

func isLoopback(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// ReplyPlan adds the peer a reply describes to the tunnel whose invite it
// answers.
type ReplyPlan struct {
	Saved    *conf.Config // the stored tunnel
	Config   *conf.Config // the same with the new peer
	Warnings []Warning
	// Code is the link's safety code; KeysOnly when the reply (or the
	// invite it answers) predates the exchange code.
	Code  invite.Code
	Notes []string
	// Routing is what the link routes, for the user to see.
	Routing Routing
}

// PlanAcceptReply finds the tunnel (name, or "" for the one whose pending
// invite r answers) and adds r's side as a peer. Every way a reply can
// be wrong has its own error: made on this machine, already accepted, an
// invite this tunnel did not issue, a LAN that clashes inside the tunnel.
//
// The reply's LANs become routes here: outside private space they are
// refused unless allowPublic (the user's opt-in on this side).
func (f *Facts) PlanAcceptReply(name string, r *invite.Reply, allowPublic bool) (*ReplyPlan, error) {
	if e, ok := f.Broken[name]; ok && name != "" {
		return nil, e
	}
	// A reply made here (pasted back on the wrong side) is named as such
	// before anything else, whatever tunnel name came with it.
	if own, ok := f.ourPublicKeys()[r.PublicKey.String()]; ok {
		return nil, invalidf("this reply carries tunnel %s's own public key: it was made on this machine, not by the other side; send it to the computer that made the invite, which takes it with: wgpunch accept NAME REPLY", own)
	}
	var owner *conf.Config
	for _, c := range f.Configs {
		if c.Interface.Meta.PendingInviteID == r.InviteID {
			owner = c
		}
	}
	var cfg *conf.Config
	if name != "" {
		if c := f.config(name); c != nil {
			cfg = c.Clone()
		}
		if cfg == nil {
			if owner != nil {
				return nil, errorf(NotFound, "no such tunnel %q; this reply belongs to tunnel %q: wgpunch accept %s REPLY", name, owner.Name, owner.Name)
			}
			return nil, errorf(NotFound, "no such tunnel %q, and no tunnel here issued invite %s that this reply answers; a reply goes back to the computer that made the invite (there: wgpunch accept NAME REPLY)", name, r.InviteID)
		}
	} else if owner != nil {
		cfg = owner.Clone()
	}
	if cfg == nil || cfg.Interface.Meta.PendingInviteID != r.InviteID {
		return nil, f.notOurInvite(cfg, owner, r)
	}
	p := &ReplyPlan{Saved: cfg.Clone(), Config: cfg}
	for _, peer := range cfg.Peers {
		if peer.PublicKey == r.PublicKey {
			return nil, existsf("%s (same public key) is already a peer of tunnel %q; nothing to do", peer.Meta.Name, cfg.Name)
		}
	}
	if r.Endpoint.IsZero() && r.LANEndpoint.IsZero() {
		return nil, invalidf("the reply carries no address to reach %s at; they should accept again with --endpoint HOST:PORT", r.Name)
	}
	addr := cfg.Interface.Meta.PendingPeerAddress
	if !addr.IsValid() {
		return nil, invalidf("tunnel %q lost the address its invite promised; send a new invite", cfg.Name)
	}
	ep := r.Endpoint
	if ep.IsZero() {
		ep = r.LANEndpoint
	}
	if err := f.checkPrivate(r.LANs, allowPublic, "the reply asks to route", fmt.Sprintf("Invite %s still waits for a reply; %s should remove its tunnel and accept the invite again sharing only its office LAN.", r.InviteID, r.Name)); err != nil {
		return nil, err
	}
	// Behind one NAT, the invitee already aims at our LAN endpoint; its
	// first handshake teaches WireGuard its LAN source (roaming).
	code, sent, err := sentCode(cfg, r)
	if err != nil {
		return nil, err
	}
	reach, serve, err := f.replyAliases(cfg, r, sent)
	if err != nil {
		return nil, err
	}
	if sent != nil {
		var n string
		doubt := symmetric(r.NATMapping) || symmetric(sent.NATMapping) || !ipv6Of(sent.Endpoint, conf.Endpoint{}).IsZero()
		if ep, n = prefer6(r.Name, ep, ipv6Of(r.Endpoint, r.Endpoint6), ipv6Of(sent.Endpoint, sent.Endpoint6), doubt); n != "" {
			p.Notes = append(p.Notes, n)
		}
	}
	p.Code = code
	self := netip.Addr{}
	if len(cfg.Interface.Addresses) > 0 {
		self = cfg.Interface.Addresses[0].Addr()
	}
	sub := cfg.Interface.Meta.Subnet
	if !sub.IsValid() {
		sub = addr.Masked()
	}
	p.Routing = Routing{Peer: r.Name, Subnet: sub, PeerLANs: reachedPrefixes(r.LANs, reach), Self: self, Shared: cfg.Interface.Meta.LANs, Aliases: reach, Served: serve}
	p.Routing.Via = f.LANAddress
	if sent != nil && !p.Routing.Via.IsValid() {
		p.Routing.Via, _ = netip.ParseAddr(sent.LANEndpoint.Host)
	}
	peer := newPeer(replySide(r), addr, ep, reach, serve)
	if !code.KeysOnly {
		peer.Meta.SafetyCode = code.Text
	} else {
		p.Notes = append(p.Notes, fmt.Sprintf("the safety code covers only the two public keys: %s (or this machine, for an invite made before the update) runs an older WG Punch; update WG Punch on both computers and make a new invite to get the 16-digit code over the whole exchange", r.Name))
	}
	cfg.Peers = append(cfg.Peers, peer)
	cfg.Interface.Meta.PendingInviteID = ""
	cfg.Interface.Meta.PendingPeerAddress = netip.Prefix{}
	cfg.Interface.Meta.SentInvites = nil
	if err := cfg.Validate(); err != nil {
		return nil, invalidf("the reply leads to an invalid tunnel (%v); send a new invite", err)
	}
	if w := NATFailWarning(r.Name, r.NATVerdict, r.NATMapping); w != nil {
		p.Warnings = append(p.Warnings, *w)
	}
	return p, nil
}

// replyAliases decides the aliases of a reply r to sent (nil: no stored
// copy) on tunnel cfg: the reply's LANs that overlap a network here are
// reached through the alias r offers inside our pool (reach), and our LANs
// r reaches through an alias are served as such (serve). An offer outside
// the pool, an alias for a LAN we do not share, or an overlap without an
// offer is refused, with nothing saved.
func (f *Facts) replyAliases(cfg *conf.Config, r *invite.Reply, sent *invite.Invite) (reach, serve []conf.LANAlias, err error) {
	waits := fmt.Sprintf("Nothing was saved and invite %s still waits for a reply", r.InviteID)
	pool := netip.Prefix{}
	if sent != nil {
		pool = sent.AliasPool
	}
	for _, o := range r.Offers {
		if !pool.IsValid() || o.As.Bits() < pool.Bits() || !pool.Contains(o.As.Addr()) {
			where := "this machine's invite offered no alias pool"
			if pool.IsValid() {
				where = fmt.Sprintf("outside the alias pool %s this machine's invite offered", pool)
			}
			return nil, nil, invalidf("the reply offers to reach %s's LAN %s as %s, but %s: the reply was changed on its way, or made for another invite. %s; compare the safety codes by phone, and have %s accept the invite again", r.Name, o.LAN, o.As, where, waits, r.Name)
		}
	}
	ours := cfg.Interface.Meta.LANs
	for _, a := range r.ReachAs {
		if !slices.Contains(ours, a.LAN) {
			return nil, nil, invalidf("the reply says %s reaches this machine's LAN %s as %s, but tunnel %s does not share %s. %s; have %s accept the invite again", r.Name, a.LAN, a.As, cfg.Name, a.LAN, waits, r.Name)
		}
		if q, ok := OverlapsAny(a.As, ours); ok {
			return nil, nil, invalidf("the reply says %s reaches this machine's LAN %s as %s, which overlaps %s that this machine shares. %s; have %s accept the invite again", r.Name, a.LAN, a.As, q, waits, r.Name)
		}
	}
	probe := cfg.Clone()
	for _, l := range r.LANs {
		what, bad := f.lanClash(l, probe, cfg.Name, ours)
		if !bad {
			continue
		}
		fix := fmt.Sprintf("Invite %s still waits for a reply; %s should remove its tunnel and accept the invite again without that LAN (if both offices use the same LAN, one must renumber it)", r.InviteID, r.Name)
		i := slices.IndexFunc(r.Offers, func(o conf.LANAlias) bool { return o.LAN == l })
		switch {
		case i >= 0:
		case !pool.IsValid():
			return nil, nil, noAlias(r.Name, l, what, "this tunnel's invite was made without an alias pool (by an older WG Punch, or with no subnet free for one)", fmt.Sprintf("Invite %s still waits for a reply; send a new invite (wgpunch invite %s) and have %s accept that one, or have %s accept without sharing %s", r.InviteID, cfg.Name, r.Name, r.Name, l))
		case len(r.Offers) == 0 && len(r.ReachAs) == 0 && aliasable(l) == "":
			return nil, nil, noAlias(r.Name, l, what, fmt.Sprintf("%s runs a WG Punch without LAN aliases", r.Name), fmt.Sprintf("Invite %s still waits for a reply; %s should update WG Punch, remove its tunnel and accept the invite again, or accept it without sharing %s", r.InviteID, r.Name, l))
		case aliasable(l) != "":
			return nil, nil, noAlias(r.Name, l, what, aliasable(l), fix)
		default:
			return nil, nil, noAlias(r.Name, l, what, fmt.Sprintf("%s offered no alias for it", r.Name), fix)
		}
		o := r.Offers[i]
		if what2, bad := f.lanClash(o.As, probe, cfg.Name, ours); bad {
			return nil, nil, noAlias(r.Name, l, what, fmt.Sprintf("the alias %s offered for it overlaps %s here as well", o.As, what2), fix)
		}
		reach = append(reach, o)
		probe.Peers = append(probe.Peers, conf.Peer{PublicKey: r.PublicKey, AllowedIPs: []netip.Prefix{o.As}, Meta: conf.PeerMeta{Name: r.Name}})
	}
	return reach, slices.Clone(r.ReachAs), nil
}

// noAlias is the refusal of a LAN lan that peer shares, that overlaps what
// here and cannot be reached through an alias because why; fix ends it.
func noAlias(peer string, lan netip.Prefix, what, why, fix string) error {
	return invalidf("%s shares its LAN %s, which overlaps %s. WG Punch reaches such a LAN through an alias (a stand-in subnet of the same size), but %s; routing the LAN itself would take that network away from this machine. Nothing was saved. %s", peer, lan.Masked(), what, why, fix)
}

// notOurInvite explains why reply r does not fit tunnel cfg (nil: none
// named or found), whose pending invite differs; owner issued it, if any.
func (f *Facts) notOurInvite(cfg, owner *conf.Config, r *invite.Reply) error {
	for _, c := range f.Configs {
		for _, p := range c.Peers {
			if p.Meta.InviteID == r.InviteID && p.PublicKey == r.PublicKey {
				return existsf("this reply was already accepted: %s is a peer of tunnel %q; nothing to do — bring it up with: wgpunch up %s", r.Name, c.Name, c.Name)
			}
		}
	}
	switch {
	case cfg == nil:
		return invalidf("this reply answers invite %s, which no tunnel here issued (or it was answered already); send a new invite with: wgpunch invite NAME", r.InviteID)
	case owner != nil:
		return invalidf("this reply answers invite %s, which %s did not issue — tunnel %q did; run: wgpunch accept %s REPLY", r.InviteID, cfg.Name, owner.Name, owner.Name)
	case cfg.Interface.Meta.PendingInviteID == "":
		return invalidf("this reply answers invite %s, which %s did not issue (%s has no invite waiting); send a new invite with: wgpunch invite %s", r.InviteID, cfg.Name, cfg.Name, cfg.Name)
	default:
		return invalidf("this reply answers invite %s, which %s did not issue (its invite waiting for a reply is %s); have the other side accept that invite", r.InviteID, cfg.Name, cfg.Interface.Meta.PendingInviteID)
	}
}

// sentCode is the safety code of reply r to the pending invite of cfg: the
// exchange code over the copy of the invite r answers. A reply to a copy
// this machine never sent is refused (invite.ErrInviteChanged); a tunnel
// whose invite was made before copies were kept (no stored copy) falls
// back to the key-only code.
func sentCode(cfg *conf.Config, r *invite.Reply) (invite.Code, *invite.Invite, error) {
	own := cfg.Interface.PrivateKey.PublicKey()
	sent, err := invite.FindSent(cfg.Interface.Meta.SentInvites, r)
	switch {
	case errors.Is(err, invite.ErrInviteChanged):
		return invite.Code{}, nil, &Error{Kind: Invalid, Msg: err.Error(), Err: err}
	case errors.Is(err, invite.ErrNotAnswer):
		return invite.Code{Text: invite.SafetyCode(own, r.PublicKey), KeysOnly: true}, nil, nil
	case err != nil:
		return invite.Code{}, nil, invalidf("%v", err)
	}
	code, err := invite.ExchangeCode(sent, r)
	if errors.Is(err, invite.ErrInviteChanged) {
		return invite.Code{}, nil, &Error{Kind: Invalid, Msg: err.Error(), Err: err}
	}
	if err != nil {
		return invite.Code{}, nil, invalidf("cannot compute the safety code: %v; send a new invite", err)
	}
	return code, sent, nil
}

// prefer6 is where to reach the other side (who): over IPv6, which needs
// no NAT mapping, with a note, when both sides announced an IPv6 endpoint
// (theirs6, ours6) and IPv4 is doubtful (v4Doubt: a side's NAT maps per
// destination, fails its check, or has no public IPv4 address); otherwise
// ep, with no note. The choice is the peer's Endpoint, which Windows
// tunnel services keep for good; the Linux engine tries every candidate
// the peer keeps (conf.Candidates, docs/engine.md "Paths").
func prefer6(who string, ep, theirs6, ours6 conf.Endpoint, v4Doubt bool) (conf.Endpoint, string) {
	if theirs6.IsZero() || ours6.IsZero() || ep == theirs6 || !v4Doubt {
		return ep, ""
	}
	return theirs6, fmt.Sprintf("both sides have IPv6: reaching %s over IPv6 at %s rather than %s", who, theirs6, ep)
}
