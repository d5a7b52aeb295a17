package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Validate checks a Config built in code with the same rules Parse applies
// to a file: the name (when set) is a valid tunnel name, keys are set and not
// all zeros, no peer has our own public key, no two peers share a public key
// or an AllowedIPs prefix, AllowedIPs and metadata prefixes have no host
// bits, endpoints and metadata are well-formed, and the MTU is 0 or in range.
// A Config that passes Validate survives Marshal and Parse unchanged. Errors
// never contain a private or preshared key.
func (c *Config) Validate() error {
	if c.Name != "" {
		if err := ValidateName(c.Name); err != nil {
			return err
		}
	}
	return c.validate(nil)
}

// validator reports errors either with file lines (pos != nil) or with a
// description of the place.
type validator struct {
	c   *Config
	pos *positions
}

func (v validator) errf(peer int, key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if v.pos != nil {
		return &ParseError{Line: v.pos.line(peer, key), Msg: msg}
	}
	if peer < 0 {
		return errors.New("[Interface]: " + msg)
	}
	p := v.c.Peers[peer]
	if p.Meta.Name != "" {
		return fmt.Errorf("[Peer] %d (%q): %s", peer+1, p.Meta.Name, msg)
	}
	return fmt.Errorf("[Peer] %d: %s", peer+1, msg)
}

func (c *Config) validate(pos *positions) error {
	v := validator{c: c, pos: pos}
	in := &c.Interface
	if in.PrivateKey == (wgtypes.Key{}) {
		return v.errf(-1, "privatekey", "PrivateKey is missing: every tunnel needs this machine's private key")
	}
	hasV6 := false
	seen := map[netip.Prefix]bool{}
	for _, a := range in.Addresses {
		if !a.IsValid() {
			return v.errf(-1, "address", "Address: an address is invalid")
		}
		if seen[a] {
			return v.errf(-1, "address", "Address %s is listed twice: keep one", a)
		}
		seen[a] = true
		if a.Addr().Is6() && !a.Addr().Is4In6() {
			hasV6 = true
		}
	}
	for _, d := range in.DNS {
		if !d.IsValid() || d.Zone() != "" {
			return v.errf(-1, "dns", "DNS: server %q is not a valid IP address", d)
		}
	}
	for _, s := range in.DNSSearch {
		if err := validateSearchDomain(s); err != nil {
			return v.errf(-1, "dns", "DNS: %v", err)
		}
	}
	if in.MTU != 0 && in.MTU < MinMTU {
		return v.errf(-1, "mtu", "MTU %d is too small: use %d to 65535, or remove it for the default", in.MTU, MinMTU)
	}
	if in.MTU != 0 && hasV6 && in.MTU < MinMTUIPv6 {
		return v.errf(-1, "mtu", "MTU %d is too small for an IPv6 address (at least %d): raise it or remove it for the default", in.MTU, MinMTUIPv6)
	}
	if err := v.ifaceMeta(); err != nil {
		return err
	}

	own := in.PrivateKey.PublicKey()
	peerByKey := map[wgtypes.Key]int{}
	routeOwner := map[netip.Prefix]int{}
	for i := range c.Peers {
		p := &c.Peers[i]
		if p.PublicKey == (wgtypes.Key{}) {
			return v.errf(i, "publickey", "PublicKey is missing: every [Peer] needs the other machine's public key")
		}
		if p.PublicKey == own {
			return v.errf(i, "publickey", "PublicKey is this machine's own public key: put the other machine's public key here")
		}
		if j, dup := peerByKey[p.PublicKey]; dup {
			where := fmt.Sprintf("peer %d", j+1)
			if pos != nil {
				where = fmt.Sprintf("the peer on line %d", pos.line(j, "publickey"))
			}
			return v.errf(i, "publickey", "the same PublicKey as %s: each peer appears once; remove one of them", where)
		}
		peerByKey[p.PublicKey] = i
		if p.PresharedKey != nil && *p.PresharedKey == (wgtypes.Key{}) {
			return v.errf(i, "presharedkey", "PresharedKey is all zeros: remove it or use a key from 'wg genpsk'")
		}
		if err := p.Endpoint.validate(); err != nil {
			return v.errf(i, "endpoint", "Endpoint: %v", err)
		}
		for _, a := range p.AllowedIPs {
			if !a.IsValid() {
				return v.errf(i, "allowedips", "AllowedIPs: a prefix is invalid")
			}
			if a != a.Masked() {
				return v.errf(i, "allowedips", "AllowedIPs %s has host bits set: use %s", a, a.Masked())
			}
			if j, dup := routeOwner[a]; dup {
				if j == i {
					return v.errf(i, "allowedips", "AllowedIPs %s is listed twice: keep one", a)
				}
				where := fmt.Sprintf("peer %d", j+1)
				if pos != nil {
					where = fmt.Sprintf("the peer on line %d", pos.line(j, "publickey"))
				}
				return v.errf(i, "allowedips", "AllowedIPs %s is also given to %s: an address can route to one peer only", a, where)
			}
			routeOwner[a] = i
		}
		if err := v.peerMeta(i); err != nil {
			return err
		}
	}
	return nil
}

func (v validator) ifaceMeta() error {
	m := &v.c.Interface.Meta
	if m.DisplayName != "" {
		if err := validateText(m.DisplayName); err != nil {
			return v.errf(-1, "wgpunch.displayname", "wgpunch.DisplayName: %v", err)
		}
	}
	if m.Subnet.IsValid() && m.Subnet != m.Subnet.Masked() {
		return v.errf(-1, "wgpunch.subnet", "wgpunch.Subnet %s has host bits set: use %s", m.Subnet, m.Subnet.Masked())
	}
	if m.PendingInviteID != "" {
		if err := validateID(m.PendingInviteID); err != nil {
			return v.errf(-1, "wgpunch.pendinginviteid", "wgpunch.PendingInviteID: %v", err)
		}
	}
	if err := validateLANs(m.LANs); err != nil {
		return v.errf(-1, "wgpunch.lans", "wgpunch.LANs: %v", err)
	}
	if m.NATMapping != "" {
		if err := validateToken(m.NATMapping); err != nil {
			return v.errf(-1, "wgpunch.natmapping", "wgpunch.NATMapping: %v", err)
		}
	}
	if m.NATVerdict != "" {
		if err := validateToken(m.NATVerdict); err != nil {
			return v.errf(-1, "wgpunch.natverdict", "wgpunch.NATVerdict: %v", err)
		}
	}
	if err := validateSentInvites(m.SentInvites); err != nil {
		return v.errf(-1, "wgpunch.sentinvites", "wgpunch.SentInvites: %v", err)
	}
	return nil
}

func (v validator) peerMeta(i int) error {
	m := &v.c.Peers[i].Meta
	if m.Name != "" {
		if err := validateText(m.Name); err != nil {
			return v.errf(i, "wgpunch.name", "wgpunch.Name: %v", err)
		}
	}
	if m.InviteID != "" {
		if err := validateID(m.InviteID); err != nil {
			return v.errf(i, "wgpunch.inviteid", "wgpunch.InviteID: %v", err)
		}
	}
	if err := m.LANEndpoint.validate(); err != nil {
		return v.errf(i, "wgpunch.lanendpoint", "wgpunch.LANEndpoint: %v", err)
	}
	for _, c := range []struct {
		key    string
		ep     Endpoint
		family int
	}{{"Endpoint4", m.Endpoint4, 4}, {"Endpoint6", m.Endpoint6, 6}} {
		if c.ep.IsZero() {
			continue
		}
		if _, err := parseCandidate(c.ep.String(), c.family); err != nil {
			return v.errf(i, "wgpunch."+strings.ToLower(c.key), "wgpunch.%s: %v", c.key, err)
		}
	}
	if err := validateLANs(m.LANs); err != nil {
		return v.errf(i, "wgpunch.lans", "wgpunch.LANs: %v", err)
	}
	if err := validateAliases(m.ReachAs); err != nil {
		return v.errf(i, "wgpunch.reachas", "wgpunch.ReachAs: %v", err)
	}
	for _, a := range m.ReachAs {
		if !slices.Contains(m.LANs, a.LAN) {
			return v.errf(i, "wgpunch.reachas", "wgpunch.ReachAs: %s is not one of the peer's LANs (wgpunch.LANs); remove the alias or add the LAN", a.LAN)
		}
	}
	if err := validateAliases(m.ServeAs); err != nil {
		return v.errf(i, "wgpunch.serveas", "wgpunch.ServeAs: %v", err)
	}
	if m.NATMapping != "" {
		if err := validateToken(m.NATMapping); err != nil {
			return v.errf(i, "wgpunch.natmapping", "wgpunch.NATMapping: %v", err)
		}
	}
	if m.NATVerdict != "" {
		if err := validateToken(m.NATVerdict); err != nil {
			return v.errf(i, "wgpunch.natverdict", "wgpunch.NATVerdict: %v", err)
		}
	}
	if m.SafetyCode != "" {
		if err := validateSafetyCode(m.SafetyCode); err != nil {
			return v.errf(i, "wgpunch.safetycode", "wgpunch.SafetyCode: %v", err)
		}
	}
	return nil
}

func validateLANs(lans []netip.Prefix) error {
	seen := map[netip.Prefix]bool{}
	for _, l := range lans {
		if !l.IsValid() {
			return errors.New("a prefix is invalid")
		}
		if l != l.Masked() {
			return fmt.Errorf("%s has host bits set: use %s", l, l.Masked())
		}
		if seen[l] {
			return fmt.Errorf("%s is listed twice", l)
		}
		seen[l] = true
	}
	return nil
}
