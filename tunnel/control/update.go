package control

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/invite"
)

// acceptUpdate takes an address update (WGP1U-...): the peer whose public
// key sent it moved to a new internet address. It changes only that peer's
// endpoint (and LAN endpoint, if it carries one), after the MAC keyed from
// the two static keys, the sequence and the expiry check out; anything
// else changes nothing and says why. req.Name, if given, must be the
// tunnel the update belongs to. preview checks everything and says what
// would change, saving nothing.
func (s *Service) acceptUpdate(ctx context.Context, req AcceptRequest, u *invite.Update, preview bool) (*AcceptResult, error) {
	if req.Name != "" {
		if err := conf.ValidateName(req.Name); err != nil {
			return nil, badName(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !preview {
		unlock, err := s.st.Lock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	cfgs, _ := s.loadAll()
	var cfg *conf.Config
	peer := -1
	for _, c := range cfgs {
		if !u.IsFor(c.Interface.PrivateKey.PublicKey()) {
			continue
		}
		for i, p := range c.Peers {
			if p.PublicKey == u.From {
				cfg, peer = c, i
			}
		}
	}
	if cfg == nil {
		for _, c := range cfgs {
			if c.Interface.PrivateKey.PublicKey() == u.From {
				return nil, invalidf("this address update was made on this computer (link %q) for the other side: send it to them; nothing was changed", c.Name)
			}
		}
		return nil, invalidf("this address update comes from a computer none of your links knows, or was made for another computer; nothing was changed. Ask the sender to send it from the link they have with you")
	}
	if req.Name != "" && req.Name != cfg.Name {
		return nil, invalidf("this address update belongs to your link %q, not %q; nothing was changed: wgpunch accept %s UPDATE", cfg.Name, req.Name, cfg.Name)
	}
	p := &cfg.Peers[peer]
	who := p.Meta.Name
	if err := u.Verify(cfg.Interface.PrivateKey, p.PublicKey, p.PresharedKey, p.Meta.UpdateSeq, s.opts.Now()); err != nil {
		var ue *invite.UpdateError
		if errors.As(err, &ue) {
			return nil, invalidf("%s", ue.Explain(who))
		}
		return nil, invalidf("this address update cannot be taken: %v; nothing was changed", err)
	}
	old := cfg.Clone()
	ep := u.Endpoint
	if !ep.IsValid() {
		ep = u.Endpoint6
	}
	if !ep.IsValid() {
		return nil, invalidf("this address update carries no internet address; nothing was changed. Ask %s to send a new one from WG Punch", nameOr(who))
	}
	// The endpoint stays in its family: it moves to the update's address
	// of that family, and stays as it is when the update carries only the
	// other family (whose candidate moves below).
	was := p.Endpoint.String()
	if cur, ok := p.Endpoint.AddrPort(); ok {
		switch same := u.Endpoint; {
		case cur.Addr().Unmap().Is6():
			same = u.Endpoint6
			fallthrough
		default:
			if same.IsValid() {
				ep = same
			} else {
				// Only the other family moved: name its change.
				if ep.Addr().Unmap().Is6() {
					was = p.Meta.Endpoint6.String()
				} else {
					was = p.Meta.Endpoint4.String()
				}
				ep = netip.AddrPort{}
			}
		}
	}
	moved := p.Endpoint
	if ep.IsValid() {
		p.Endpoint = epOf(ep)
		moved = p.Endpoint
	}
	// Each family's candidate moves with the update; one it does not
	// carry stays as it was (an update made on one family only).
	if u.Endpoint.IsValid() {
		p.Meta.Endpoint4 = epOf(u.Endpoint)
		if !ep.IsValid() {
			moved = p.Meta.Endpoint4
		}
	}
	if u.Endpoint6.IsValid() {
		p.Meta.Endpoint6 = epOf(u.Endpoint6)
		if !ep.IsValid() {
			moved = p.Meta.Endpoint6
		}
	}
	if u.LANEndpoint.IsValid() {
		p.Meta.LANEndpoint = conf.Endpoint{Host: u.LANEndpoint.Addr().Unmap().String(), Port: u.LANEndpoint.Port()}
	}
	p.Meta.UpdateSeq = u.Seq()
	if preview {
		return &AcceptResult{Kind: "update", Tunnel: cfg.Name, PeerName: who, Routes: []string{}, Shared: []string{},
			Notes: []string{fmt.Sprintf("%s's address changes from %s to %s", nameOr(who), orNone(was), moved)}}, nil
	}
	running, err := s.saveThenApply(old, cfg, true, fmt.Sprintf("move %s to its new address in running tunnel %q", nameOr(who), cfg.Name))
	if err != nil {
		return nil, err
	}
	note := fmt.Sprintf("%s's address changed from %s to %s", nameOr(who), orNone(was), moved)
	if running {
		note += "; the link reconnects by itself"
	} else {
		note += fmt.Sprintf("; bring the link up with: wgpunch up %s", cfg.Name)
	}
	return &AcceptResult{Kind: "update", Tunnel: cfg.Name, PeerName: who, Notes: []string{note}, Routes: []string{}, Shared: []string{}}, nil
}

func epOf(ap netip.AddrPort) conf.Endpoint {
	return conf.Endpoint{Host: ap.Addr().Unmap().String(), Port: ap.Port()}
}

func nameOr(s string) string {
	if s == "" {
		return "the other computer"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
