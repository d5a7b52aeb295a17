package invite

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// validate checks everything Encode writes and Decode accepts.
func (i *Invite) validate() error {
	if err := validateID("invite ID", i.ID); err != nil {
		return err
	}
	if err := validateCommon(i.Name, i.PublicKey, i.Endpoint, i.LANEndpoint, i.LANs, i.NATMapping, i.NATVerdict); err != nil {
		return err
	}
	if err := validateEndpoint6(i.Endpoint, i.Endpoint6); err != nil {
		return err
	}
	if err := validateSubnet(i.Subnet); err != nil {
		return err
	}
	if err := validateHost("inviter address", i.Subnet, i.InviterAddress); err != nil {
		return err
	}
	if err := validateHost("invitee address", i.Subnet, i.InviteeAddress); err != nil {
		return err
	}
	if i.InviterAddress.Addr() == i.InviteeAddress.Addr() {
		return fmt.Errorf("inviter and invitee have the same tunnel address %s", i.InviterAddress.Addr())
	}
	for _, l := range i.LANs {
		if l.Overlaps(i.Subnet) {
			return fmt.Errorf("shared LAN %s overlaps the tunnel subnet %s", l, i.Subnet)
		}
	}
	return validatePool(i.AliasPool, i.Subnet, i.LANs)
}

// aliasSpace is where aliases and alias pools may lie: IPv4 private
// space (RFC 1918).
var aliasSpace = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// AliasPoolBits is the size of an alias pool (Invite.AliasPool): a /16,
// so a LAN of /16 or narrower can be offered an alias inside it.
const AliasPoolBits = 16

func inAliasSpace(p netip.Prefix) bool {
	for _, q := range aliasSpace {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// validatePool checks an invite's alias pool: zero, or a private IPv4 /16
// apart from the tunnel subnet and the inviter's LANs.
func validatePool(pool, subnet netip.Prefix, lans []netip.Prefix) error {
	if pool == (netip.Prefix{}) {
		return nil
	}
	if err := validatePrefix("alias pool", pool); err != nil {
		return err
	}
	if !pool.Addr().Is4() || pool.Bits() != AliasPoolBits {
		return fmt.Errorf("alias pool %s: want an IPv4 /%d", pool, AliasPoolBits)
	}
	if !inAliasSpace(pool) {
		return fmt.Errorf("alias pool %s is outside private address space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", pool)
	}
	if pool.Overlaps(subnet) {
		return fmt.Errorf("alias pool %s overlaps the tunnel subnet %s", pool, subnet)
	}
	for _, l := range lans {
		if pool.Overlaps(l) {
			return fmt.Errorf("alias pool %s overlaps the shared LAN %s", pool, l)
		}
	}
	return nil
}

// validateAlias checks one alias of a message: what names it ("offered
// alias"); the LAN an IPv4 subnet of /16 or narrower, the alias a private
// IPv4 subnet of the same size, overlapping none of avoid (the replier's
// own LANs).
func validateAlias(what string, a conf.LANAlias, avoid []netip.Prefix) error {
	if err := validatePrefix(what+" LAN", a.LAN); err != nil {
		return err
	}
	if err := validatePrefix(what, a.As); err != nil {
		return err
	}
	if !a.LAN.Addr().Is4() || !a.As.Addr().Is4() {
		return fmt.Errorf("%s %s: only IPv4 LANs are aliased", what, a)
	}
	if a.LAN.Bits() < AliasPoolBits {
		return fmt.Errorf("%s %s: a LAN wider than /%d gets no alias", what, a, AliasPoolBits)
	}
	if a.As.Bits() != a.LAN.Bits() {
		return fmt.Errorf("%s %s: an alias must be the same size as its LAN", what, a)
	}
	if !inAliasSpace(a.As) {
		return fmt.Errorf("%s %s is outside private address space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", what, a.As)
	}
	for _, l := range avoid {
		if a.As.Overlaps(l) {
			return fmt.Errorf("%s %s overlaps the shared LAN %s", what, a, l)
		}
	}
	return nil
}

// validateAliasList checks a list of aliases: at most MaxLANs, each
// valid, each LAN once, no two aliases overlapping.
func validateAliasList(what string, as []conf.LANAlias, avoid []netip.Prefix) error {
	if len(as) > MaxLANs {
		return fmt.Errorf("%d %ss, at most %d allowed", len(as), what, MaxLANs)
	}
	for i, a := range as {
		if err := validateAlias(what, a, avoid); err != nil {
			return err
		}
		for _, b := range as[:i] {
			if a.LAN == b.LAN {
				return fmt.Errorf("%s: %s has two aliases (%s and %s)", what, a.LAN, b.As, a.As)
			}
			if a.As.Overlaps(b.As) {
				return fmt.Errorf("%ss %s and %s overlap", what, b.As, a.As)
			}
		}
	}
	return nil
}

func (r *Reply) validate() error {
	if err := validateID("invite ID", r.InviteID); err != nil {
		return err
	}
	if err := validateCommon(r.Name, r.PublicKey, r.Endpoint, r.LANEndpoint, r.LANs, r.NATMapping, r.NATVerdict); err != nil {
		return err
	}
	if err := validateEndpoint6(r.Endpoint, r.Endpoint6); err != nil {
		return err
	}
	for _, o := range r.Offers {
		if !slices.Contains(r.LANs, o.LAN) {
			return fmt.Errorf("offered alias %s: %s is not one of the shared LANs", o, o.LAN)
		}
	}
	if err := validateAliasList("offered alias", r.Offers, r.LANs); err != nil {
		return err
	}
	return validateAliasList("alias of the inviter's LAN", r.ReachAs, r.LANs)
}

// validateEndpoint6 checks the IPv6 endpoint beside the public one: an
// IPv6 address with a port, and only beside a public endpoint that is not
// IPv6 itself (a lone IPv6 endpoint is the public endpoint).
func validateEndpoint6(ep, ep6 conf.Endpoint) error {
	if ep6 == (conf.Endpoint{}) {
		return nil
	}
	if err := validateEndpoint("IPv6 endpoint", ep6); err != nil {
		return err
	}
	if a, err := netip.ParseAddr(ep6.Host); err != nil || !a.Is6() || a.Is4In6() {
		return fmt.Errorf("IPv6 endpoint %s is not an IPv6 address", ep6)
	}
	if ep == (conf.Endpoint{}) {
		return errors.New("an IPv6 endpoint beside no public endpoint: make it the public endpoint")
	}
	if a, err := netip.ParseAddr(ep.Host); err == nil && a.Is6() {
		return fmt.Errorf("two IPv6 endpoints (%s and %s): give one per address family", ep, ep6)
	}
	return nil
}

func validateCommon(name string, key wgtypes.Key, ep, lanEP conf.Endpoint, lans []netip.Prefix, mapping, verdict string) error {
	if err := validateName(name); err != nil {
		return err
	}
	if key == (wgtypes.Key{}) {
		return errors.New("public key is all zeros")
	}
	if err := validateEndpoint("public endpoint", ep); err != nil {
		return err
	}
	if err := validateEndpoint("LAN endpoint", lanEP); err != nil {
		return err
	}
	if err := validateLANs(lans); err != nil {
		return err
	}
	if err := validateNAT("NAT mapping", mapping); err != nil {
		return err
	}
	return validateNAT("NAT verdict", verdict)
}

func validateID(what, id string) error {
	if len(id) != IDLen || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("%s %q: want %d lower-case hex digits (see NewID)", what, id, IDLen)
	}
	return nil
}

func validateName(name string) error {
	if !utf8.ValidString(name) {
		return errors.New("name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameRunes {
		return fmt.Errorf("name is %d characters long, at most %d allowed", n, MaxNameRunes)
	}
	for _, c := range name {
		if !unicode.IsPrint(c) {
			return fmt.Errorf("name contains the non-printable character %U", c)
		}
	}
	if strings.TrimSpace(name) != name {
		return errors.New("name starts or ends with a space")
	}
	return nil
}

func validateEndpoint(what string, e conf.Endpoint) error {
	if e == (conf.Endpoint{}) {
		return nil
	}
	if e.Port == 0 {
		return fmt.Errorf("%s %q: port must be 1..65535", what, e.Host)
	}
	if e.Host == "" {
		return fmt.Errorf("%s: port %d without an address", what, e.Port)
	}
	if a, err := netip.ParseAddr(e.Host); err == nil {
		switch {
		case a.Zone() != "":
			return fmt.Errorf("%s %s: an IPv6 zone means nothing to the other machine", what, e.Host)
		case a.IsUnspecified(), a.IsMulticast():
			return fmt.Errorf("%s %s: not a unicast address", what, e.Host)
		}
		return nil
	}
	if err := validateHostname(e.Host); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// validateHostname accepts DNS names: dot-separated labels of letters,
// digits and inner hyphens, 1..63 bytes each, 253 in total.
func validateHostname(h string) error {
	if len(h) > MaxHostLen {
		return fmt.Errorf("host name is %d bytes long, at most %d allowed", len(h), MaxHostLen)
	}
	for _, l := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		ok := len(l) >= 1 && len(l) <= 63 && l[0] != '-' && l[len(l)-1] != '-'
		for j := 0; ok && j < len(l); j++ {
			c := l[j]
			ok = c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		}
		if !ok {
			return fmt.Errorf("%q is neither an IP address nor a valid host name", h)
		}
	}
	return nil
}

func validatePrefix(what string, p netip.Prefix) error {
	switch {
	case !p.IsValid():
		return fmt.Errorf("%s is missing or invalid", what)
	case p.Addr().Zone() != "":
		return fmt.Errorf("%s %s: zones are not allowed", what, p)
	case p.Addr().Is4In6():
		return fmt.Errorf("%s %s: use the plain IPv4 form", what, p)
	case p.Masked() != p:
		return fmt.Errorf("%s %s is not canonical (did you mean %s?)", what, p, p.Masked())
	}
	return nil
}

func validateSubnet(s netip.Prefix) error {
	if err := validatePrefix("tunnel subnet", s); err != nil {
		return err
	}
	if s.Bits() < 8 || s.Bits() > s.Addr().BitLen()-2 {
		return fmt.Errorf("tunnel subnet %s: prefix length must be 8..%d", s, s.Addr().BitLen()-2)
	}
	return nil
}

// validateHost checks a tunnel address (e.g. 10.77.12.2/24) of subnet.
func validateHost(what string, subnet, a netip.Prefix) error {
	switch {
	case !a.IsValid():
		return fmt.Errorf("%s is missing or invalid", what)
	case a.Addr().Zone() != "" || a.Addr().Is4In6():
		return fmt.Errorf("%s %s is not a plain address", what, a)
	case !subnet.Contains(a.Addr()):
		return fmt.Errorf("%s %s is outside the tunnel subnet %s", what, a.Addr(), subnet)
	case a.Bits() < subnet.Bits():
		return fmt.Errorf("%s %s: prefix is wider than the tunnel subnet %s", what, a, subnet)
	case a.Addr() == subnet.Addr():
		return fmt.Errorf("%s %s is the subnet's network address", what, a.Addr())
	case a.Addr().Is4() && a.Addr() == lastAddr(subnet):
		return fmt.Errorf("%s %s is the subnet's broadcast address", what, a.Addr())
	}
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func validateLANs(lans []netip.Prefix) error {
	if len(lans) > MaxLANs {
		return fmt.Errorf("%d shared LANs, at most %d allowed", len(lans), MaxLANs)
	}
	seen := make(map[netip.Prefix]bool, len(lans))
	for _, l := range lans {
		if err := validatePrefix("shared LAN", l); err != nil {
			return err
		}
		if l.Bits() == 0 {
			return fmt.Errorf("shared LAN %s would route all traffic through the tunnel", l)
		}
		// The receiving side routes a peer's LANs into the tunnel. Two
		// halves (0.0.0.0/1 + 128.0.0.0/1) or a few wide prefixes would
		// take over its internet traffic just like a default route; no
		// local network is wider than 10.0.0.0/8.
		if l.Bits() < MinLANBits {
			return fmt.Errorf("shared LAN %s is too wide for a local network (shorter than /%d) and would route much of the internet through the tunnel", l, MinLANBits)
		}
		if seen[l] {
			return fmt.Errorf("shared LAN %s is listed twice", l)
		}
		seen[l] = true
	}
	return nil
}

func validateNAT(what, s string) error {
	if len(s) > MaxNATStringLen {
		return fmt.Errorf("%s is %d bytes long, at most %d allowed", what, len(s), MaxNATStringLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%s %q: only printable ASCII without spaces allowed", what, s)
		}
	}
	return nil
}
