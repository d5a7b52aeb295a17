package conf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// metaPrefix starts a WG Punch metadata comment: "# wgpunch.Key = value".
const metaPrefix = "wgpunch."

// MaxTextLen is the longest display name (in characters) a config may hold.
const MaxTextLen = 64

// Metadata keys, in the order Marshal writes them.
var (
	ifaceMetaKeys = []string{"DisplayName", "Subnet", "LANs", "NATMapping", "NATVerdict", "PendingInviteID", "PendingPeerAddress", "SentInvites", "PublicEndpoint"}
	peerMetaKeys  = []string{"Name", "InviteID", "LANEndpoint", "LANs", "ReachAs", "ServeAs", "NATMapping", "NATVerdict", "SafetyCode", "UpdateSeq"}
)

func (p *parser) meta(n int, rest string) error {
	k, v, ok := strings.Cut(rest, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	shown := "wgpunch." + strings.Trim(safeIdent(k), `"`)
	if safeIdent(k) == "" {
		shown = "wgpunch setting"
	}
	if !ok {
		return p.errf(n, "%s: expected \"# wgpunch.Key = value\"", shown)
	}
	if p.sec == secNone {
		return p.errf(n, "%s is outside a section: WG Punch settings go inside [Interface] or [Peer]", shown)
	}
	if v == "" {
		return p.errf(n, "%s has no value: remove the line or give it a value", shown)
	}
	if looksLikeKey(v) {
		return p.errf(n, "%s: the value looks like a WireGuard key; check that it is on the right line", shown)
	}
	lk := "wgpunch." + strings.ToLower(k)
	var err error
	if p.sec == secInterface {
		if err := p.once(p.pos.ifaceKeys, n, lk, "[Interface]"); err != nil {
			return err
		}
		err = p.ifaceMeta(&p.cfg.Interface.Meta, strings.ToLower(k), v)
	} else {
		i := len(p.cfg.Peers) - 1
		if err := p.once(p.pos.peers[i].keys, n, lk, "[Peer]"); err != nil {
			return err
		}
		err = p.peerMeta(&p.cfg.Peers[i].Meta, strings.ToLower(k), v)
	}
	if errors.Is(err, errUnknownMeta) {
		sec := "[Peer]"
		if p.sec == secInterface {
			sec = "[Interface]"
		}
		return p.errf(n, "unknown WG Punch setting %s in %s: check the spelling or remove the line", shown, sec)
	}
	if err != nil {
		return p.errf(n, "%s: %v", shown, err)
	}
	return nil
}

var errUnknownMeta = errors.New("unknown wgpunch key")

func (p *parser) ifaceMeta(m *InterfaceMeta, lk, v string) (err error) {
	switch lk {
	case "displayname":
		m.DisplayName, err = parseText(v)
	case "subnet":
		m.Subnet, err = parseMaskedPrefix(v)
	case "pendinginviteid":
		m.PendingInviteID, err = v, validateID(v)
	case "pendingpeeraddress":
		m.PendingPeerAddress, err = parsePrefix(v, false)
	case "lans":
		m.LANs, err = parsePrefixList(v)
	case "natmapping":
		m.NATMapping, err = v, validateToken(v)
	case "natverdict":
		m.NATVerdict, err = v, validateToken(v)
	case "sentinvites":
		if m.SentInvites, err = splitList(v); err == nil {
			err = validateSentInvites(m.SentInvites)
		}
	case "publicendpoint":
		m.PublicEndpoint, err = ParseEndpoint(v)
	default:
		return errUnknownMeta
	}
	return err
}

func (p *parser) peerMeta(m *PeerMeta, lk, v string) (err error) {
	switch lk {
	case "name":
		m.Name, err = parseText(v)
	case "inviteid":
		m.InviteID, err = v, validateID(v)
	case "lanendpoint":
		m.LANEndpoint, err = ParseEndpoint(v)
	case "endpoint4":
		m.Endpoint4, err = parseCandidate(v, 4)
	case "endpoint6":
		m.Endpoint6, err = parseCandidate(v, 6)
	case "lans":
		m.LANs, err = parsePrefixList(v)
	case "reachas":
		m.ReachAs, err = parseAliases(v)
	case "serveas":
		m.ServeAs, err = parseAliases(v)
	case "natmapping":
		m.NATMapping, err = v, validateToken(v)
	case "natverdict":
		m.NATVerdict, err = v, validateToken(v)
	case "safetycode":
		m.SafetyCode, err = v, validateSafetyCode(v)
	case "updateseq":
		if m.UpdateSeq, err = strconv.ParseUint(v, 10, 64); err != nil {
			err = fmt.Errorf("UpdateSeq %q is not a whole number", v)
		}
	default:
		return errUnknownMeta
	}
	return err
}

// maxTokenLen is the longest invite token SentInvites holds.
const maxTokenLen = 4096

// validateSentInvites checks the shape of stored invite tokens: "wgp",
// a version, "i-", then base32 (the invite package decodes them).
func validateSentInvites(toks []string) error {
	if len(toks) > MaxSentInvites {
		return fmt.Errorf("%d invite copies, at most %d kept", len(toks), MaxSentInvites)
	}
	for n, tok := range toks {
		t := strings.ToLower(tok)
		rest, ok := strings.CutPrefix(t, "wgp")
		version := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		body, kind := strings.CutPrefix(rest[version:], "i-")
		if !ok || version == 0 || !kind || body == "" || len(t) > maxTokenLen || strings.Trim(body, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			return fmt.Errorf("invite copy %d is not an invite token (wgp1i-...); remove the line, and send a new invite", n+1)
		}
	}
	return nil
}

// validateSafetyCode checks a stored safety code: 3 to 8 groups of four
// digits separated by single spaces.
func validateSafetyCode(s string) error {
	groups := strings.Split(s, " ")
	ok := len(groups) >= 3 && len(groups) <= 8
	for _, g := range groups {
		ok = ok && len(g) == 4 && strings.Trim(g, "0123456789") == ""
	}
	if !ok {
		return fmt.Errorf("%q is not a safety code (groups of four digits, like \"0421 9387 1156 2203\")", s)
	}
	return nil
}

// parseText reads a display name: bare text, or a Go-quoted string when it
// has leading/trailing spaces or starts with a quote.
func parseText(v string) (string, error) {
	s := v
	if strings.HasPrefix(v, `"`) {
		var err error
		s, err = strconv.Unquote(v)
		if err != nil {
			return "", errors.New(`bad quoted text: use "..." with Go/C escapes, or no quotes`)
		}
	}
	if err := validateText(s); err != nil {
		return "", err
	}
	return s, nil
}

// quoteText is parseText's inverse.
func quoteText(s string) string {
	if s != strings.TrimSpace(s) || strings.HasPrefix(s, `"`) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// validateText checks a display name: 1..MaxTextLen characters of UTF-8
// text, not only spaces, no control or bidirectional-override characters
// (which could make a name display as something else).
func validateText(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("the name is empty")
	}
	if !utf8.ValidString(s) {
		return errors.New("the name is not valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n > MaxTextLen {
		return fmt.Errorf("the name is too long (%d characters, at most %d)", n, MaxTextLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u200e' || r == '\u200f' ||
			'\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069' || r == '\ufeff' {
			return fmt.Errorf("the name contains the control character %U", r)
		}
	}
	return nil
}

// validateID checks an invite ID: 1..128 of [A-Za-z0-9._~+/=-].
func validateID(s string) error {
	if s == "" || len(s) > 128 {
		return errors.New("an invite ID has 1 to 128 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._~+/=-", c) >= 0) {
			return fmt.Errorf("invite ID %q has the character %q: use letters, digits and . _ ~ + / = -", s, c)
		}
	}
	return nil
}

// validateToken checks a NAT mapping or verdict word: 1..64 of [A-Za-z0-9._-].
func validateToken(s string) error {
	if s == "" || len(s) > 64 {
		return errors.New("expected a word like \"ok\" or \"endpoint-independent\"")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%q is not a single word like \"ok\" or \"endpoint-independent\"", s)
		}
	}
	return nil
}

// parseMaskedPrefix parses a network prefix that must have no host bits.
func parseMaskedPrefix(s string) (netip.Prefix, error) {
	pfx, err := parsePrefix(s, false)
	if err != nil {
		return netip.Prefix{}, err
	}
	if pfx != pfx.Masked() {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set: did you mean %s?", pfx, pfx.Masked())
	}
	return pfx, nil
}

func parsePrefixList(v string) ([]netip.Prefix, error) {
	items, err := splitList(v)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, s := range items {
		pfx, err := parseMaskedPrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, pfx)
	}
	return out, nil
}
