package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// LANAlias says that the LAN subnet LAN is reached as the subnet As, of
// the same family and size: address LAN+n is As+n. Two offices that both
// use 192.168.1.0/24 reach each other's LAN through aliases; the gateway
// that shares the LAN translates the destination 1:1 (docs/engine.md,
// "LAN aliases").
type LANAlias struct {
	LAN netip.Prefix // the real subnet, as its own office numbers it
	As  netip.Prefix // the subnet the other side uses for it
}

// String is "192.168.1.0/24 as 10.7.3.0/24", the form the config stores.
func (a LANAlias) String() string { return a.LAN.String() + " as " + a.As.String() }

// Translate returns the alias of addr (an address in a.LAN), or addr
// unchanged when it is outside a.LAN.
func (a LANAlias) Translate(addr netip.Addr) netip.Addr {
	return mapPrefix(addr, a.LAN, a.As)
}

// Untranslate returns the real address of alias address addr (in a.As).
func (a LANAlias) Untranslate(addr netip.Addr) netip.Addr {
	return mapPrefix(addr, a.As, a.LAN)
}

func mapPrefix(addr netip.Addr, from, to netip.Prefix) netip.Addr {
	if !from.Contains(addr) || from.Bits() != to.Bits() || from.Addr().BitLen() != to.Addr().BitLen() {
		return addr
	}
	a, t := addr.AsSlice(), to.Addr().AsSlice()
	bits := from.Bits()
	for i := range a {
		keep := 0 // bits of byte i that come from to (the network part)
		switch {
		case bits >= 8*(i+1):
			keep = 8
		case bits > 8*i:
			keep = bits - 8*i
		}
		mask := byte(0xff << (8 - keep))
		a[i] = t[i]&mask | a[i]&^mask
	}
	out, _ := netip.AddrFromSlice(a)
	return out
}

// validate checks one alias on its own: both prefixes valid and masked,
// of one family and one size, and not the same subnet.
func (a LANAlias) validate() error {
	for _, p := range []netip.Prefix{a.LAN, a.As} {
		if !p.IsValid() {
			return errors.New("a prefix is invalid")
		}
		if p != p.Masked() {
			return fmt.Errorf("%s has host bits set: use %s", p, p.Masked())
		}
	}
	if a.LAN.Addr().Is4() != a.As.Addr().Is4() {
		return fmt.Errorf("%s: a LAN and its alias must both be IPv4 or both IPv6", a)
	}
	if a.LAN.Bits() != a.As.Bits() {
		return fmt.Errorf("%s: a LAN and its alias must be the same size (/%d and /%d differ)", a, a.LAN.Bits(), a.As.Bits())
	}
	if a.LAN.Bits() < MinLANBits {
		return fmt.Errorf("%s: a LAN wider than /%d cannot be aliased", a, MinLANBits)
	}
	if a.LAN.Overlaps(a.As) {
		return fmt.Errorf("%s: the alias overlaps the LAN itself", a)
	}
	return nil
}

// validateAliases checks a list: each alias alone, and no LAN or alias
// listed twice or overlapping another alias.
func validateAliases(as []LANAlias) error {
	for i, a := range as {
		if err := a.validate(); err != nil {
			return err
		}
		for _, b := range as[:i] {
			if a.LAN == b.LAN {
				return fmt.Errorf("%s has two aliases (%s and %s)", a.LAN, b.As, a.As)
			}
			if a.As.Overlaps(b.As) {
				return fmt.Errorf("the aliases %s and %s overlap", b.As, a.As)
			}
		}
	}
	return nil
}

// parseAliases reads "LAN as ALIAS, LAN as ALIAS".
func parseAliases(v string) ([]LANAlias, error) {
	items, err := splitList(v)
	if err != nil {
		return nil, err
	}
	var out []LANAlias
	for _, s := range items {
		l, as, ok := strings.Cut(s, " as ")
		if !ok {
			return nil, fmt.Errorf("%q: expected \"LAN as ALIAS\", e.g. \"192.168.1.0/24 as 10.7.3.0/24\"", s)
		}
		var a LANAlias
		if a.LAN, err = parseMaskedPrefix(strings.TrimSpace(l)); err != nil {
			return nil, err
		}
		if a.As, err = parseMaskedPrefix(strings.TrimSpace(as)); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, validateAliases(out)
}

func joinAliases(as []LANAlias) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// ReachedAs is how this side reaches lan, a LAN the peer shares: its
// alias when ReachAs has one, else lan itself.
func (m *PeerMeta) ReachedAs(lan netip.Prefix) netip.Prefix {
	for _, a := range m.ReachAs {
		if a.LAN == lan {
			return a.As
		}
	}
	return lan
}
