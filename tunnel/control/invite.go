package control

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// QRSize is the side of the invite/reply QR PNGs, in pixels.
const QRSize = 512

// addrPlan is how the other side will reach us.
type addrPlan struct {
	ep, lan conf.Endpoint
	nat     *natcheck.Report
	notes   []string
}

// discover finds the endpoint to announce for a tunnel on port: the one
// the user gave, else the NAT check's public endpoint, else the LAN address.
func (s *Service) discover(ctx context.Context, reqEndpoint string, stun []string, port uint16, self string) (*addrPlan, error) {
	plan := &addrPlan{}
	skip := s.runningIfaces()
	if ip := s.net.PrimaryIPv4(skip); ip.IsValid() {
		plan.lan = conf.Endpoint{Host: ip.String(), Port: port}
	}
	if reqEndpoint != "" {
		ep, err := conf.ParseEndpoint(reqEndpoint)
		if err != nil {
			return nil, invalidf("endpoint %q: %v; give HOST:PORT, like 203.0.113.7:%d or myhome.dyndns.org:%d", reqEndpoint, err, port, port)
		}
		if ep.Port != port {
			plan.notes = append(plan.notes, fmt.Sprintf("the endpoint's port %d differs from the tunnel's port %d: fine only if your router forwards UDP %d to this machine's port %d", ep.Port, port, ep.Port, port))
		}
		plan.ep = ep
		return plan, nil
	}
	servers, err := s.stunServers(stun)
	if err != nil {
		return nil, err
	}
	checkPort := port
	if _, up := s.ifaceOf(self); up {
		checkPort = 0 // the running tunnel holds the port: check from another
		cfgs, _ := s.loadAll()
		if p, err := s.pickPort(cfgs); err == nil {
			checkPort = p
		}
	}
	rep, err := s.opts.NATCheck(ctx, natcheck.Options{LocalPort: checkPort, Servers: servers, Logf: s.opts.Logf})
	if err == nil && rep != nil {
		plan.nat = rep
	}
	var pub conf.Endpoint
	if err == nil && rep != nil && rep.PublicEndpoint != "" {
		pub, err = conf.ParseEndpoint(rep.PublicEndpoint)
	} else if err == nil {
		err = errors.New("no STUN server answered")
		if rep != nil && rep.Message != "" {
			err = errors.New(rep.Message)
		}
	}
	if err != nil {
		if plan.lan.IsZero() {
			return nil, fmt.Errorf("no public or LAN address found for this machine (%v); give the address the other side should use: --endpoint HOST:PORT", err)
		}
		plan.ep = plan.lan
		plan.notes = append(plan.notes, fmt.Sprintf("no public address found (%v); the invite carries the LAN address %s — fine on one LAN; otherwise pass --endpoint HOST:PORT", err, plan.lan))
		return plan, nil
	}
	if checkPort != port {
		if rep.PortPreserved || rep.Mapping == natcheck.MappingNone {
			pub.Port = port
			plan.notes = append(plan.notes, fmt.Sprintf("the tunnel is up, so the NAT check ran from port %d; your NAT keeps port numbers, so the invite announces %s", checkPort, pub))
		} else {
			plan.notes = append(plan.notes, fmt.Sprintf("the tunnel is up, so the NAT check ran from port %d and your NAT changes port numbers: the announced %s may be wrong; take the tunnel down (wgpunch down %s) and invite again", checkPort, pub, self))
		}
	}
	plan.ep = pub // the verdict itself is in plan.nat (InviteResult.NAT)
	return plan, nil
}

func (p *addrPlan) natFields() (mapping, verdict string) {
	if p.nat == nil {
		return "", ""
	}
	return string(p.nat.Mapping), string(p.nat.Verdict)
}

func (s *Service) displayName(req string) string {
	if req != "" {
		return req
	}
	return s.opts.Hostname
}

// Invite creates tunnel req.Name if needed and returns an invite.
//
// On a tunnel whose invite is still pending, Invite reissues it with the
// SAME invite ID and peer address (only endpoint/NAT data are refreshed), so
// a reply to either copy is accepted. On a tunnel that already has peers and
// no pending invite, it makes a new invite (new ID) for one more peer.
func (s *Service) Invite(ctx context.Context, req InviteRequest) (*InviteResult, error) {
	if err := conf.ValidateName(req.Name); err != nil {
		return nil, badName(err)
	}
	lans, err := parseLANs(req.LANs)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfgs, bad := s.loadAll()
	if e, ok := bad[req.Name]; ok {
		return nil, e
	}
	var cfg, saved *conf.Config
	for _, c := range cfgs {
		if c.Name == req.Name {
			saved, cfg = c, c.Clone()
		}
	}
	var notes []string
	isNew := cfg == nil
	var id string
	var peerAddr netip.Prefix
	oldPort := uint16(0)
	if isNew {
		key, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		port, n, err := s.choosePort(req.Port, req.Endpoint, req.Name, cfgs)
		if err != nil {
			return nil, err
		}
		if n != "" {
			notes = append(notes, n)
		}
		subnet, err := pickSubnet(append(s.usedPrefixes(cfgs), lans...))
		if err != nil {
			return nil, err
		}
		cfg = &conf.Config{
			Name: req.Name,
			Interface: conf.Interface{
				PrivateKey: key,
				ListenPort: port,
				Addresses:  []netip.Prefix{hostAddr(subnet, 1)},
				Meta: conf.InterfaceMeta{
					DisplayName: s.displayName(req.DisplayName),
					Subnet:      subnet,
					LANs:        lans,
				},
			},
		}
		id = invite.NewID()
		peerAddr = hostAddr(subnet, 2)
	} else {
		oldPort = cfg.Interface.ListenPort
		if req.Port != 0 && req.Port != cfg.Interface.ListenPort {
			n, err := s.checkPort(req.Port, req.Name, cfgs)
			if err != nil {
				return nil, err
			}
			if n != "" {
				notes = append(notes, n)
			}
			if len(cfg.Peers) > 0 {
				notes = append(notes, fmt.Sprintf("tunnel %s moves from port %d to %d: its existing peers must be told (send them a new invite or change their endpoint)", req.Name, oldPort, req.Port))
			}
			cfg.Interface.ListenPort = req.Port
		}
		if lans != nil {
			cfg.Interface.Meta.LANs = lans
		}
		if req.DisplayName != "" {
			cfg.Interface.Meta.DisplayName = req.DisplayName
		}
		if cfg.Interface.Meta.DisplayName == "" {
			cfg.Interface.Meta.DisplayName = s.displayName("")
		}
		if len(cfg.Interface.Addresses) == 0 {
			return nil, invalidf("tunnel %q has no Address; add one to its config or remove it and invite again", req.Name)
		}
		if !cfg.Interface.Meta.Subnet.IsValid() {
			cfg.Interface.Meta.Subnet = cfg.Interface.Addresses[0].Masked()
		}
		if pid := cfg.Interface.Meta.PendingInviteID; pid != "" {
			id = pid
			peerAddr = cfg.Interface.Meta.PendingPeerAddress
			notes = append(notes, fmt.Sprintf("tunnel %s already had invite %s waiting for a reply; this is the same invite with fresh addresses (a reply to either copy works)", req.Name, id))
		} else {
			id = invite.NewID()
			notes = append(notes, fmt.Sprintf("tunnel %s already has %d peer(s); this invite adds one more", req.Name, len(cfg.Peers)))
		}
		if !peerAddr.IsValid() {
			if peerAddr, err = freeHost(cfg); err != nil {
				return nil, invalidf("tunnel %q: %v", req.Name, err)
			}
		}
	}

	plan, err := s.discover(ctx, req.Endpoint, req.STUN, cfg.Interface.ListenPort, req.Name)
	if err != nil {
		return nil, err
	}
	notes = append(notes, plan.notes...)
	mapping, verdict := plan.natFields()
	m := &cfg.Interface.Meta
	m.PendingInviteID = id
	m.PendingPeerAddress = peerAddr
	if mapping != "" {
		m.NATMapping, m.NATVerdict = mapping, verdict
	}
	inv := &invite.Invite{
		ID:             id,
		Name:           m.DisplayName,
		PublicKey:      cfg.Interface.PrivateKey.PublicKey(),
		Endpoint:       plan.ep,
		LANEndpoint:    plan.lan,
		Subnet:         m.Subnet,
		InviterAddress: cfg.Interface.Addresses[0],
		InviteeAddress: peerAddr,
		LANs:           m.LANs,
		NATMapping:     m.NATMapping,
		NATVerdict:     m.NATVerdict,
	}
	token, err := inv.Encode()
	if err != nil {
		return nil, invalidf("cannot make the invite: %v", err)
	}
	qr, err := invite.QRPNG(token, QRSize)
	if err != nil {
		return nil, fmt.Errorf("make invite QR code: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, invalidf("tunnel %q: %v", req.Name, err)
	}
	if isNew {
		if err := s.st.Create(cfg); err != nil {
			return nil, fmt.Errorf("save tunnel %q: %w", req.Name, err)
		}
	} else if _, err := s.saveThenApply(saved, cfg, oldPort != cfg.Interface.ListenPort,
		fmt.Sprintf("apply port %d to running tunnel %q", cfg.Interface.ListenPort, req.Name)); err != nil {
		return nil, err
	}
	s.lanChanged()
	return &InviteResult{
		Token:      token,
		QRPNG:      qr,
		Tunnel:     req.Name,
		ListenPort: cfg.Interface.ListenPort,
		Endpoint:   plan.ep.String(),
		NAT:        plan.nat,
		Notes:      notes,
	}, nil
}

// decodeErr turns an invite decoding failure into an ErrInvalidInput; the
// invite package's messages already say what is wrong and what to do.
func decodeErr(err error) error {
	var de *invite.DecodeError
	if errors.As(err, &de) {
		return invalidf("%s", de.Msg)
	}
	return invalidf("cannot read the invite/reply: %v; paste the whole line the other side sent", err)
}

// Accept takes an invite or a reply.
func (s *Service) Accept(ctx context.Context, req AcceptRequest) (*AcceptResult, error) {
	tok := strings.Join(strings.Fields(req.Token), "")
	if tok == "" {
		return nil, invalidf("no invite or reply given; paste the line the other side sent (or give its QR code image)")
	}
	msg, err := invite.Decode(tok)
	if err != nil {
		return nil, decodeErr(err)
	}
	switch {
	case msg.Invite != nil:
		return s.acceptInvite(ctx, req, msg.Invite)
	case msg.Reply != nil:
		return s.acceptReply(ctx, req, msg.Reply)
	}
	return nil, invalidf("the text decodes to neither an invite nor a reply; ask the other side for a new invite")
}

func natFailWarning(who string, verdict, mapping string) *Warning {
	if verdict != string(natcheck.VerdictFail) {
		return nil
	}
	if mapping != string(natcheck.MappingEndpointDependent) {
		// The check failed without seeing a mapping: no STUN server
		// answered (UDP blocked, or the servers are unreachable).
		return &Warning{
			Code: "nat-fail",
			Message: fmt.Sprintf("the other side's network (%s) failed its NAT check: no STUN server answered, so outgoing UDP may be blocked there and a direct tunnel may not connect. Fixes: %s allows outgoing UDP on the tunnel's port, or forwards that port on its router",
				who, who),
		}
	}
	return &Warning{
		Code: "nat-fail",
		Message: fmt.Sprintf("the other side's network (%s) cannot be punched: its NAT mapping is %q (a new public port for every destination, typical of symmetric NAT or carrier-grade NAT), so a direct tunnel will most likely not connect. Fixes: forward the tunnel's UDP port on %s's router, or use a network with a public address",
			who, mapping, who),
	}
}

func (s *Service) acceptInvite(ctx context.Context, req AcceptRequest, inv *invite.Invite) (*AcceptResult, error) {
	if req.Name == "" {
		return nil, invalidf("this is an invite: give the new tunnel a name, e.g. wgpunch accept %s INVITE", suggestName(inv.Name))
	}
	if err := conf.ValidateName(req.Name); err != nil {
		return nil, badName(err)
	}
	lans, err := parseLANs(req.LANs)
	if err != nil {
		return nil, err
	}
	if !inv.InviteeAddress.IsValid() || !inv.InviterAddress.IsValid() {
		return nil, invalidf("the invite carries no tunnel addresses; ask the other side for a new invite")
	}
	if inv.Endpoint.IsZero() && inv.LANEndpoint.IsZero() {
		return nil, invalidf("the invite carries no address to reach %s at; ask them for a new invite made with --endpoint HOST:PORT", inv.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfgs, bad := s.loadAll()
	if _, ok := bad[req.Name]; ok {
		return nil, existsf("a tunnel named %q already exists (its file is broken); pick another name or remove it first (wgpunch remove %s)", req.Name, req.Name)
	}
	invPub := inv.PublicKey.String()
	if owner, ok := ourPublicKeys(cfgs)[invPub]; ok {
		return nil, invalidf("this invite was made on this machine (tunnel %q); send it to the other computer, and paste here the reply it prints: wgpunch accept %s REPLY", owner, owner)
	}
	for _, c := range cfgs {
		if c.Name == req.Name {
			return nil, existsf("a tunnel named %q already exists; accept into a new name (wgpunch accept OTHERNAME ...) or remove the old one first (wgpunch remove %s)", req.Name, req.Name)
		}
		for _, p := range c.Peers {
			if p.PublicKey.String() == invPub && p.Meta.InviteID == inv.ID {
				return nil, existsf("this invite was already accepted into tunnel %q; to accept it again, remove that tunnel first (wgpunch remove %s)", c.Name, c.Name)
			}
		}
	}
	var notes []string
	var warnings []Warning
	port, n, err := s.choosePort(req.Port, req.Endpoint, req.Name, cfgs)
	if err != nil {
		return nil, err
	}
	if n != "" {
		notes = append(notes, n)
	}
	// Overlaps: the tunnel subnet and the inviter's LANs become routes here.
	used := s.usedPrefixes(cfgs)
	subnet := inv.Subnet
	if !subnet.IsValid() {
		subnet = inv.InviterAddress.Masked()
	}
	if q, ok := overlapsAny(subnet, used); ok {
		warnings = append(warnings, Warning{Code: "subnet-overlap", Message: fmt.Sprintf("the tunnel subnet %s overlaps %s, already used on this machine; traffic may go the wrong way. Ask %s to invite again (a new invite picks another subnet)", subnet, q, inv.Name)})
	}
	inTunnel := &conf.Config{Name: req.Name, Interface: conf.Interface{
		Addresses: []netip.Prefix{inv.InviteeAddress, inv.InviterAddress},
		Meta:      conf.InterfaceMeta{Subnet: subnet},
	}}
	for _, l := range inv.LANs {
		if what, bad := tunnelClash(l, inTunnel); bad {
			return nil, invalidf("%s shares its LAN %s, which overlaps %s; the tunnel could not tell them apart. Nothing was saved; ask %s for a new invite that does not share %s", inv.Name, l, what, inv.Name, l)
		}
	}
	for _, l := range inv.LANs {
		if q, ok := overlapsAny(l, append(used, lans...)); ok {
			warnings = append(warnings, Warning{Code: "subnet-overlap", Message: fmt.Sprintf("%s shares its LAN %s, which overlaps %s on this machine; addresses there will be ambiguous — one side should stop sharing it or renumber", inv.Name, l, q)})
		}
	}
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	plan, err := s.discover(ctx, req.Endpoint, req.STUN, port, req.Name)
	if err != nil {
		return nil, err
	}
	notes = append(notes, plan.notes...)
	mapping, verdict := plan.natFields()

	peerEP := inv.Endpoint
	if peerEP.IsZero() {
		peerEP = inv.LANEndpoint
	} else if plan.nat != nil && !inv.LANEndpoint.IsZero() && plan.ep.Host == inv.Endpoint.Host && plan.ep != plan.lan && !isLoopback(plan.ep.Host) {
		peerEP = inv.LANEndpoint
		notes = append(notes, fmt.Sprintf("%s is behind the same public address %s as this machine; using its LAN address %s", inv.Name, plan.ep.Host, inv.LANEndpoint))
	}
	allowed := []netip.Prefix{netip.PrefixFrom(inv.InviterAddress.Addr(), inv.InviterAddress.Addr().BitLen())}
	allowed = append(allowed, inv.LANs...)
	display := s.displayName(req.DisplayName)
	cfg := &conf.Config{
		Name: req.Name,
		Interface: conf.Interface{
			PrivateKey: key,
			ListenPort: port,
			Addresses:  []netip.Prefix{inv.InviteeAddress},
			Meta: conf.InterfaceMeta{
				DisplayName: display,
				Subnet:      subnet,
				LANs:        lans,
				NATMapping:  mapping,
				NATVerdict:  verdict,
			},
		},
		Peers: []conf.Peer{{
			PublicKey:           inv.PublicKey,
			Endpoint:            peerEP,
			AllowedIPs:          allowed,
			PersistentKeepalive: conf.DefaultKeepalive,
			Meta: conf.PeerMeta{
				Name:        inv.Name,
				InviteID:    inv.ID,
				LANEndpoint: inv.LANEndpoint,
				LANs:        inv.LANs,
				NATMapping:  inv.NATMapping,
				NATVerdict:  inv.NATVerdict,
			},
		}},
	}
	if err := cfg.Validate(); err != nil {
		return nil, invalidf("the invite leads to an invalid tunnel (%v); ask the other side for a new invite", err)
	}
	reply := &invite.Reply{
		InviteID:    inv.ID,
		Name:        display,
		PublicKey:   key.PublicKey(),
		Endpoint:    plan.ep,
		LANEndpoint: plan.lan,
		LANs:        lans,
		NATMapping:  mapping,
		NATVerdict:  verdict,
	}
	token, err := reply.Encode()
	if err != nil {
		return nil, invalidf("cannot make the reply: %v", err)
	}
	qr, err := invite.QRPNG(token, QRSize)
	if err != nil {
		return nil, fmt.Errorf("make reply QR code: %w", err)
	}
	if w := natFailWarning(inv.Name, inv.NATVerdict, inv.NATMapping); w != nil {
		warnings = append(warnings, *w)
	}
	if verdict == string(natcheck.VerdictFail) {
		warnings = append(warnings, Warning{Code: "nat-fail", Message: "this machine's network cannot be punched: " + plan.nat.Message})
	}
	if err := s.st.Create(cfg); err != nil {
		return nil, fmt.Errorf("save tunnel %q: %w", req.Name, err)
	}
	s.lanChanged()
	notes = append(notes, fmt.Sprintf("send the reply line to %s; once they have accepted it, both sides bring the tunnel up (here: wgpunch up %s)", inv.Name, req.Name))
	return &AcceptResult{
		Kind:       "invite",
		Tunnel:     req.Name,
		PeerName:   inv.Name,
		SafetyCode: invite.SafetyCode(key.PublicKey(), inv.PublicKey),
		Reply:      token,
		ReplyQRPNG: qr,
		NAT:        plan.nat,
		Warnings:   warnings,
		Notes:      notes,
	}, nil
}

func (s *Service) acceptReply(ctx context.Context, req AcceptRequest, r *invite.Reply) (*AcceptResult, error) {
	if req.Name != "" {
		if err := conf.ValidateName(req.Name); err != nil {
			return nil, badName(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cfgs, bad := s.loadAll()
	if e, ok := bad[req.Name]; ok && req.Name != "" {
		return nil, e
	}
	// A reply made here (pasted back on the wrong side) is named as such
	// before anything else, whatever tunnel name came with it.
	if own, ok := ourPublicKeys(cfgs)[r.PublicKey.String()]; ok {
		return nil, invalidf("this reply carries tunnel %s's own public key: it was made on this machine, not by the other side; send it to the computer that made the invite, which takes it with: wgpunch accept NAME REPLY", own)
	}
	var owner *conf.Config
	for _, c := range cfgs {
		if c.Interface.Meta.PendingInviteID == r.InviteID {
			owner = c
		}
	}
	var cfg *conf.Config
	if req.Name != "" {
		for _, c := range cfgs {
			if c.Name == req.Name {
				cfg = c.Clone()
			}
		}
		if cfg == nil {
			if owner != nil {
				return nil, fmt.Errorf("%w %q; this reply belongs to tunnel %q: wgpunch accept %s REPLY", ErrNotFound, req.Name, owner.Name, owner.Name)
			}
			return nil, fmt.Errorf("%w %q, and no tunnel here issued invite %s that this reply answers; a reply goes back to the computer that made the invite (there: wgpunch accept NAME REPLY)", ErrNotFound, req.Name, r.InviteID)
		}
	} else if owner != nil {
		cfg = owner.Clone()
	}
	if cfg == nil || cfg.Interface.Meta.PendingInviteID != r.InviteID {
		for _, c := range cfgs {
			for _, p := range c.Peers {
				if p.Meta.InviteID == r.InviteID && p.PublicKey == r.PublicKey {
					return nil, existsf("this reply was already accepted: %s is a peer of tunnel %q; nothing to do — bring it up with: wgpunch up %s", r.Name, c.Name, c.Name)
				}
			}
		}
		switch {
		case cfg == nil:
			return nil, invalidf("this reply answers invite %s, which no tunnel here issued (or it was answered already); send a new invite with: wgpunch invite NAME", r.InviteID)
		case owner != nil:
			return nil, invalidf("this reply answers invite %s, which %s did not issue — tunnel %q did; run: wgpunch accept %s REPLY", r.InviteID, cfg.Name, owner.Name, owner.Name)
		case cfg.Interface.Meta.PendingInviteID == "":
			return nil, invalidf("this reply answers invite %s, which %s did not issue (%s has no invite waiting); send a new invite with: wgpunch invite %s", r.InviteID, cfg.Name, cfg.Name, cfg.Name)
		default:
			return nil, invalidf("this reply answers invite %s, which %s did not issue (its invite waiting for a reply is %s); have the other side accept that invite", r.InviteID, cfg.Name, cfg.Interface.Meta.PendingInviteID)
		}
	}
	saved := cfg.Clone() // cfg is a copy of the saved config until now
	ourPub := cfg.Interface.PrivateKey.PublicKey()
	for _, p := range cfg.Peers {
		if p.PublicKey == r.PublicKey {
			return nil, existsf("%s (same public key) is already a peer of tunnel %q; nothing to do", p.Meta.Name, cfg.Name)
		}
	}
	if r.Endpoint.IsZero() && r.LANEndpoint.IsZero() {
		return nil, invalidf("the reply carries no address to reach %s at; they should accept again with --endpoint HOST:PORT", r.Name)
	}
	var notes []string
	var warnings []Warning
	addr := cfg.Interface.Meta.PendingPeerAddress
	if !addr.IsValid() {
		return nil, invalidf("tunnel %q lost the address its invite promised; send a new invite", cfg.Name)
	}
	ep := r.Endpoint
	if ep.IsZero() {
		ep = r.LANEndpoint
	}
	// Behind one NAT, the invitee already aims at our LAN endpoint; its
	// first handshake teaches WireGuard its LAN source (roaming).
	allowed := []netip.Prefix{netip.PrefixFrom(addr.Addr(), addr.Addr().BitLen())}
	allowed = append(allowed, r.LANs...)
	for _, l := range r.LANs {
		if what, bad := tunnelClash(l, cfg); bad {
			return nil, invalidf("%s shares its LAN %s, which overlaps %s; WireGuard would send that traffic to %s instead. Nothing was saved and invite %s still waits for a reply; %s should remove its tunnel and accept the invite again without that LAN (or with one that does not overlap)", r.Name, l, what, r.Name, r.InviteID, r.Name)
		}
	}
	used := s.usedPrefixes(cfgs)
	for _, l := range r.LANs {
		if q, ok := overlapsAny(l, append(used, cfg.Interface.Meta.LANs...)); ok {
			warnings = append(warnings, Warning{Code: "subnet-overlap", Message: fmt.Sprintf("%s shares its LAN %s, which overlaps %s on this machine; addresses there will be ambiguous — one side should stop sharing it or renumber", r.Name, l, q)})
		}
	}
	cfg.Peers = append(cfg.Peers, conf.Peer{
		PublicKey:           r.PublicKey,
		Endpoint:            ep,
		AllowedIPs:          allowed,
		PersistentKeepalive: conf.DefaultKeepalive,
		Meta: conf.PeerMeta{
			Name:        r.Name,
			InviteID:    r.InviteID,
			LANEndpoint: r.LANEndpoint,
			LANs:        r.LANs,
			NATMapping:  r.NATMapping,
			NATVerdict:  r.NATVerdict,
		},
	})
	cfg.Interface.Meta.PendingInviteID = ""
	cfg.Interface.Meta.PendingPeerAddress = netip.Prefix{}
	if err := cfg.Validate(); err != nil {
		return nil, invalidf("the reply leads to an invalid tunnel (%v); send a new invite", err)
	}
	if w := natFailWarning(r.Name, r.NATVerdict, r.NATMapping); w != nil {
		warnings = append(warnings, *w)
	}
	running, err := s.saveThenApply(saved, cfg, true, fmt.Sprintf("add %s to running tunnel %q", r.Name, cfg.Name))
	if err != nil {
		return nil, err
	}
	if running {
		notes = append(notes, fmt.Sprintf("tunnel %s is up; %s was added to it", cfg.Name, r.Name))
	} else {
		notes = append(notes, fmt.Sprintf("bring the tunnel up with: wgpunch up %s", cfg.Name))
	}
	return &AcceptResult{
		Kind:       "reply",
		Tunnel:     cfg.Name,
		PeerName:   r.Name,
		SafetyCode: invite.SafetyCode(ourPub, r.PublicKey),
		Warnings:   warnings,
		Notes:      notes,
	}, nil
}

func isLoopback(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// choosePort is the ListenPort for a new tunnel: the requested one (checked),
// else the --endpoint's port when it is free here, else a free one.
func (s *Service) choosePort(req uint16, endpoint, self string, cfgs []*conf.Config) (uint16, string, error) {
	if req != 0 {
		n, err := s.checkPort(req, self, cfgs)
		return req, n, err
	}
	if endpoint != "" {
		if ep, err := conf.ParseEndpoint(endpoint); err == nil && ep.Port != 0 {
			if n, err := s.checkPort(ep.Port, self, cfgs); err == nil {
				return ep.Port, n, nil
			}
		}
	}
	p, err := s.pickPort(cfgs)
	return p, "", err
}

// suggestName turns a display name into a tunnel name suggestion.
func suggestName(display string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(display) {
		if b.Len() >= 15 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "peer"
	}
	return b.String()
}
