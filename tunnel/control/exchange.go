package control

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/exchange"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// The invite exchange, as load, plan, save: the Service reads the facts
// (facts), tunnel/exchange decides, the Service runs the NAT check the plan
// needs (announce) and saves what the plan says.

// QRSize is the side of the invite/reply QR PNGs, in pixels.
const QRSize = 512

// facts reads what the planner needs to know about this machine. Callers
// that plan a change hold s.mu, so the configs do not change meanwhile.
func (s *Service) facts() *exchange.Facts {
	return s.factsOf(s.loadAll())
}

// factsOf is facts on configs already loaded.
func (s *Service) factsOf(cfgs []*conf.Config, bad map[string]error) *exchange.Facts {
	running := map[string]bool{}
	for n := range s.upSnapshot() {
		running[n] = true
	}
	return &exchange.Facts{
		Configs:    cfgs,
		Broken:     bad,
		Routes:     s.net.Routes(),
		LANPeers:   s.lanPeers(),
		Running:    running,
		PortFree:   s.opts.PortFree,
		PortCheck:  s.opts.PortCheck,
		Hostname:   s.opts.Hostname,
		LANAddress: s.net.PrimaryIPv4(s.runningIfaces()),
	}
}

// planErr turns a planner's refusal into the Controller's error values.
func planErr(err error) error {
	var pe *exchange.Error
	if !errors.As(err, &pe) {
		return err
	}
	kinds := map[exchange.Kind]error{
		exchange.Invalid:   ErrInvalidInput,
		exchange.Exists:    ErrExists,
		exchange.PortInUse: ErrPortInUse,
		exchange.NotFound:  ErrNotFound,
	}
	if is, ok := kinds[pe.Kind]; ok {
		return &codedError{msg: pe.Msg, is: is, cause: pe.Err}
	}
	return err
}

// announce finds how the other side will reach tunnel self on port: the
// endpoint the user gave, else the NAT check's public endpoint, else the
// LAN address.
func (s *Service) announce(ctx context.Context, f *exchange.Facts, reqEndpoint string, stun []string, port uint16, self string) (*exchange.Addresses, error) {
	lan := exchange.LANEndpoint(s.net.PrimaryIPv4(s.runningIfaces()), port)
	if reqEndpoint != "" {
		return exchange.GivenEndpoint(reqEndpoint, port, lan)
	}
	servers, err := s.stunServers(stun)
	if err != nil {
		return nil, err
	}
	checkPort := port
	if f.Running[self] {
		checkPort = 0 // the running tunnel holds the port: check from another
		if p, err := f.PickPort(); err == nil {
			checkPort = p
		}
	}
	rep, err := s.opts.NATCheck(ctx, natcheck.Options{LocalPort: checkPort, Servers: servers, Logf: s.opts.Logf})
	return exchange.FoundEndpoint(self, port, checkPort, lan, rep, err)
}

// beginPlan checks the name and the LANs of an invite or accept request
// (which may create a tunnel) and makes the key and invite ID the plan may
// use; then it locks s.mu for the plan and the save and reads the facts.
// The caller runs unlock when done.
func (s *Service) beginPlan(name, display string, port uint16, endpoint string, rawLANs []string, allowPublic bool) (in exchange.Request, f *exchange.Facts, unlock func(), err error) {
	in = exchange.Request{Name: name, DisplayName: display, Port: port, Endpoint: endpoint, NewID: invite.NewID(), AllowPublicRoutes: allowPublic}
	if err := conf.ValidateName(name); err != nil {
		return in, nil, nil, badName(err)
	}
	if in.LANs, err = exchange.ParseLANs(rawLANs); err != nil {
		return in, nil, nil, planErr(err)
	}
	if in.NewKey, err = wgtypes.GeneratePrivateKey(); err != nil {
		return in, nil, nil, fmt.Errorf("generate key: %w", err)
	}
	s.mu.Lock()
	return in, s.facts(), s.mu.Unlock, nil
}

// Invite creates tunnel req.Name if needed and returns an invite.
//
// On a tunnel whose invite is still pending, Invite reissues it with the
// SAME invite ID and peer address (only endpoint/NAT data are refreshed), so
// a reply to either copy is accepted. On a tunnel that already has peers and
// no pending invite, it makes a new invite (new ID) for one more peer.
func (s *Service) Invite(ctx context.Context, req InviteRequest) (*InviteResult, error) {
	var subnet netip.Prefix
	if req.Subnet != "" {
		var err error
		if subnet, err = netip.ParsePrefix(strings.TrimSpace(req.Subnet)); err != nil {
			return nil, fmt.Errorf("%w: the tunnel subnet %q is not a subnet like 10.42.7.0/24; nothing was saved", ErrInvalidInput, req.Subnet)
		}
	}
	in, f, unlock, err := s.beginPlan(req.Name, req.DisplayName, req.Port, req.Endpoint, req.LANs, req.AllowPublicRoutes)
	if err != nil {
		return nil, err
	}
	defer unlock()
	in.Subnet = subnet
	return replan(s, f, func(f *exchange.Facts) (*InviteResult, error) { return s.inviteOnce(ctx, req, in, f) })
}

// maxPlanTries is how often an invite or accept plans again when another
// process changed the tunnels during its NAT check.
const maxPlanTries = 3

// errReplan: another WG Punch changed the tunnels while the NAT check ran,
// so the port it checked is no longer the one the plan chooses.
var errReplan = &codedError{msg: "another WG Punch changed the tunnels while the NAT check ran; try again", is: store.ErrLocked}

// replan runs once on f, and again on fresh facts (at most maxPlanTries
// times in all) while it fails with errReplan.
func replan[R any](s *Service, f *exchange.Facts, once func(*exchange.Facts) (R, error)) (R, error) {
	for try := 1; ; try++ {
		res, err := once(f)
		if !errors.Is(err, errReplan) || try == maxPlanTries {
			return res, err
		}
		f = s.facts()
	}
}

// planChecked plans on f, runs the NAT check (or takes req's endpoint) for
// the port the plan chooses without holding the state directory's lock,
// then takes the lock and plans again on the facts read under it. It
// returns that plan, the addresses to announce and the lock's unlock.
// errReplan: the plan under the lock chose another port than the one
// checked.
func planChecked[P any](ctx context.Context, s *Service, f *exchange.Facts, endpoint string, stun []string, name string,
	plan func(*exchange.Facts) (P, uint16, error)) (P, *exchange.Addresses, func(), error) {
	var zero P
	_, port, err := plan(f)
	if err != nil {
		return zero, nil, nil, planErr(err)
	}
	addrs, err := s.announce(ctx, f, endpoint, stun, port, name)
	if err != nil {
		return zero, nil, nil, planErr(err)
	}
	f, unlock, err := s.lockFacts(ctx)
	if err != nil {
		return zero, nil, nil, err
	}
	p, again, err := plan(f)
	if err == nil && again != port {
		err = errReplan
	} else if err != nil {
		err = planErr(err)
	}
	if err != nil {
		unlock()
		return zero, nil, nil, err
	}
	return p, addrs, unlock, nil
}

// lockFacts takes the state directory's lock (for one load-check-save) and
// reads the facts again under it: another process may have changed the
// tunnels since they were last read (during the NAT check).
func (s *Service) lockFacts(ctx context.Context) (*exchange.Facts, func(), error) {
	unlock, err := s.st.Lock(ctx)
	if err != nil {
		return nil, nil, err
	}
	return s.facts(), unlock, nil
}

// inviteOnce plans the invite on f, runs the NAT check for the port it
// chooses without holding the state directory's lock, then plans again
// under the lock and saves.
func (s *Service) inviteOnce(ctx context.Context, req InviteRequest, in exchange.Request, f *exchange.Facts) (*InviteResult, error) {
	plan, addrs, unlockSt, err := planChecked(ctx, s, f, req.Endpoint, req.STUN, req.Name,
		func(f *exchange.Facts) (*exchange.InvitePlan, uint16, error) {
			p, err := f.PlanInvite(in)
			if err != nil {
				return nil, 0, err
			}
			return p, p.Config.Interface.ListenPort, nil
		})
	if err != nil {
		return nil, err
	}
	defer unlockSt()
	cfg := plan.Config
	token, err := plan.Finish(addrs)
	if err != nil {
		return nil, planErr(err)
	}
	qr, err := invite.QRPNG(token, QRSize)
	if err != nil {
		return nil, fmt.Errorf("make invite QR code: %w", err)
	}
	if plan.Saved == nil {
		if err := s.st.Create(cfg); err != nil {
			return nil, fmt.Errorf("save tunnel %q: %w", req.Name, err)
		}
	} else if _, err := s.saveThenApply(plan.Saved, cfg, plan.PortChanged(),
		fmt.Sprintf("apply port %d to running tunnel %q", cfg.Interface.ListenPort, req.Name)); err != nil {
		return nil, err
	}
	s.lanChanged()
	return &InviteResult{
		Token:      token,
		QRPNG:      qr,
		Tunnel:     req.Name,
		ListenPort: cfg.Interface.ListenPort,
		Endpoint:   addrs.Endpoint.String(),
		Endpoint6:  endpointText(addrs.Endpoint6),
		NAT:        addrs.NAT,
		Notes:      plan.Notes,
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
	return s.accept(ctx, req, false)
}

// PreviewAccept plans req as Accept does (the same decoding, checks and
// planner, so the same refusals) and returns what Accept would say, but
// saves nothing, takes no lock file and runs no NAT check. For an invite
// SafetyCode is empty: the code covers the reply, which only Accept makes
// (with a new key and the NAT check's endpoint).
func (s *Service) PreviewAccept(ctx context.Context, req AcceptRequest) (*AcceptResult, error) {
	return s.accept(ctx, req, true)
}

// accept is Accept, or PreviewAccept when preview.
func (s *Service) accept(ctx context.Context, req AcceptRequest, preview bool) (*AcceptResult, error) {
	tok := strings.Join(strings.Fields(req.Token), "")
	if tok == "" {
		return nil, invalidf("no invite or reply given; paste the line the other side sent (or give its QR code image)")
	}
	msg, err := invite.DecodeAny(tok)
	if err != nil {
		return nil, decodeErr(err)
	}
	switch {
	case msg.Invite != nil:
		return s.acceptInvite(ctx, req, msg.Invite, preview)
	case msg.Reply != nil:
		return s.acceptReply(ctx, req, msg.Reply, preview)
	case msg.Update != nil:
		return s.acceptUpdate(ctx, req, msg.Update, preview)
	}
	return nil, invalidf("the text decodes to neither an invite nor a reply; ask the other side for a new invite")
}

func (s *Service) acceptInvite(ctx context.Context, req AcceptRequest, inv *invite.Invite, preview bool) (*AcceptResult, error) {
	if req.Name == "" {
		return nil, invalidf("this is an invite: give the new tunnel a name, e.g. wgpunch accept %s INVITE", exchange.SuggestName(inv.Name))
	}
	in, f, unlock, err := s.beginPlan(req.Name, req.DisplayName, req.Port, req.Endpoint, req.LANs, req.AllowPublicRoutes)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if preview {
		return s.previewInvite(ctx, req, inv, in, f)
	}
	return replan(s, f, func(f *exchange.Facts) (*AcceptResult, error) {
		return s.acceptInviteOnce(ctx, req, inv, in, f)
	})
}

// previewInvite is acceptInviteOnce without the NAT check, the lock and
// the save: it plans on f and finishes the plan on stand-in addresses
// (the endpoint the user gave, else our LAN endpoint) so that an invite
// Finish would refuse is refused here too. The reply and its code are
// thrown away; warnings that come from our own NAT check are missing.
func (s *Service) previewInvite(ctx context.Context, req AcceptRequest, inv *invite.Invite, in exchange.Request, f *exchange.Facts) (*AcceptResult, error) {
	plan, err := f.PlanAcceptInvite(in, inv)
	if err != nil {
		return nil, planErr(err)
	}
	lan := exchange.LANEndpoint(s.net.PrimaryIPv4(s.runningIfaces()), plan.Port)
	addrs := &exchange.Addresses{Endpoint: lan, LAN: lan}
	if req.Endpoint != "" {
		if addrs, err = s.announce(ctx, f, req.Endpoint, req.STUN, plan.Port, req.Name); err != nil {
			return nil, planErr(err)
		}
	} else if lan.IsZero() {
		addrs.Endpoint = conf.Endpoint{Host: "192.0.2.1", Port: plan.Port} // documentation address: the reply is thrown away
	}
	if _, _, err := plan.Finish(addrs); err != nil {
		return nil, planErr(err)
	}
	res := inviteResult(req, inv, plan)
	res.SafetyCode, res.SafetyCodeKeysOnly = "", false
	return res, nil
}

// inviteResult is what accepting invite inv by plan says, before the
// reply and the NAT check are added.
func inviteResult(req AcceptRequest, inv *invite.Invite, plan *exchange.AcceptPlan) *AcceptResult {
	return &AcceptResult{
		Kind:               "invite",
		Tunnel:             req.Name,
		PeerName:           inv.Name,
		SafetyCode:         plan.Code.Text,
		SafetyCodeKeysOnly: plan.Code.KeysOnly,
		Warnings:           plan.Warnings,
		Notes:              plan.Notes,
		Routes:             plan.Routing.Routes(),
		Shared:             plan.Routing.SharedLANs(),
		RouteSummary:       plan.Routing.Summary(),
		Aliases:            plan.Routing.AliasLines(),
	}
}

// acceptInviteOnce is inviteOnce for accepting invite inv.
func (s *Service) acceptInviteOnce(ctx context.Context, req AcceptRequest, inv *invite.Invite, in exchange.Request, f *exchange.Facts) (*AcceptResult, error) {
	plan, addrs, unlockSt, err := planChecked(ctx, s, f, req.Endpoint, req.STUN, req.Name,
		func(f *exchange.Facts) (*exchange.AcceptPlan, uint16, error) {
			p, err := f.PlanAcceptInvite(in, inv)
			if err != nil {
				return nil, 0, err
			}
			return p, p.Port, nil
		})
	if err != nil {
		return nil, err
	}
	defer unlockSt()
	cfg, reply, err := plan.Finish(addrs) // the exchange code: ≈ 0.2 s, 64 MiB
	if err != nil {
		return nil, planErr(err)
	}
	token, err := reply.Encode()
	if err != nil {
		return nil, invalidf("cannot make the reply: %v", err)
	}
	qr, err := invite.QRPNG(token, QRSize)
	if err != nil {
		return nil, fmt.Errorf("make reply QR code: %w", err)
	}
	if err := s.st.Create(cfg); err != nil {
		return nil, fmt.Errorf("save tunnel %q: %w", req.Name, err)
	}
	s.lanChanged()
	res := inviteResult(req, inv, plan)
	res.Notes = append(res.Notes, fmt.Sprintf("send the reply line to %s; once they have accepted it, both sides bring the tunnel up (here: wgpunch up %s)", inv.Name, req.Name))
	res.Reply, res.ReplyQRPNG, res.NAT = token, qr, addrs.NAT
	return res, nil
}

// acceptReply takes reply r; when preview it plans on the facts read
// under s.mu only (the state directory's lock file is not touched) and
// returns before saving.
func (s *Service) acceptReply(ctx context.Context, req AcceptRequest, r *invite.Reply, preview bool) (*AcceptResult, error) {
	if req.Name != "" {
		if err := conf.ValidateName(req.Name); err != nil {
			return nil, badName(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var f *exchange.Facts
	if preview {
		f = s.facts()
	} else {
		var unlockSt func()
		var err error
		if f, unlockSt, err = s.lockFacts(ctx); err != nil {
			return nil, err
		}
		defer unlockSt()
	}
	plan, err := f.PlanAcceptReply(req.Name, r, req.AllowPublicRoutes)
	if err != nil {
		return nil, planErr(err)
	}
	cfg := plan.Config
	res := &AcceptResult{
		Kind:               "reply",
		Tunnel:             cfg.Name,
		PeerName:           r.Name,
		SafetyCode:         plan.Code.Text,
		SafetyCodeKeysOnly: plan.Code.KeysOnly,
		Warnings:           plan.Warnings,
		Notes:              plan.Notes,
		Routes:             plan.Routing.Routes(),
		Shared:             plan.Routing.SharedLANs(),
		RouteSummary:       plan.Routing.Summary(),
		Aliases:            plan.Routing.AliasLines(),
	}
	if preview {
		return res, nil
	}
	running, err := s.saveThenApply(plan.Saved, cfg, true, fmt.Sprintf("add %s to running tunnel %q", r.Name, cfg.Name))
	if err != nil {
		return nil, err
	}
	if running {
		res.Notes = append(res.Notes, fmt.Sprintf("tunnel %s is up; %s was added to it", cfg.Name, r.Name))
	} else {
		res.Notes = append(res.Notes, fmt.Sprintf("bring the tunnel up with: wgpunch up %s", cfg.Name))
	}
	return res, nil
}

// endpointText is ep as HOST:PORT, "" when zero.
func endpointText(ep conf.Endpoint) string {
	if ep.IsZero() {
		return ""
	}
	return ep.String()
}
