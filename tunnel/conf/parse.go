package conf

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxFileSize is the largest config file Parse reads.
const MaxFileSize = 1 << 20

// MTU limits. wg-quick accepts any MTU; we refuse values the kernel would
// refuse or that break the tunnel: below 576 (the IPv4 minimum every host
// must handle) and, when the interface has an IPv6 address, below 1280 (the
// IPv6 minimum; Linux removes IPv6 addresses from links with a smaller MTU).
const (
	MinMTU     = 576
	MinMTUIPv6 = 1280
)

// unsupported are wg-quick keys WG Punch refuses on purpose, with the reason.
var unsupported = map[string]string{
	"preup":      "PreUp scripts are not supported: WG Punch's daemon runs as root and will not run commands from a config file; remove the line",
	"postup":     "PostUp scripts are not supported: WG Punch's daemon runs as root and will not run commands from a config file; remove the line",
	"predown":    "PreDown scripts are not supported: WG Punch's daemon runs as root and will not run commands from a config file; remove the line",
	"postdown":   "PostDown scripts are not supported: WG Punch's daemon runs as root and will not run commands from a config file; remove the line",
	"saveconfig": "SaveConfig is not supported: WG Punch saves the tunnel itself and will not let a running interface overwrite this file; remove the line",
	"table":      "Table is not supported: WG Punch adds the routes for AllowedIPs itself; remove the line",
	"fwmark":     "FwMark is not supported: WG Punch does not use policy routing; remove the line",
}

// section is where a line is.
type section int

const (
	secNone section = iota
	secInterface
	secPeer
)

// positions remembers where things were in a parsed file, for errors found
// after the whole file is read.
type positions struct {
	iface     int            // line of [Interface]
	ifaceKeys map[string]int // lower-case key (or "wgpunch.x") -> line
	peers     []sectionPos
}

type sectionPos struct {
	line int
	keys map[string]int
}

// line returns the line of key in the interface (peer < 0) or in peer i,
// falling back to the section header.
func (p *positions) line(peer int, key string) int {
	if p == nil {
		return 0
	}
	if peer < 0 {
		if l, ok := p.ifaceKeys[key]; ok {
			return l
		}
		return p.iface
	}
	if peer < len(p.peers) {
		if l, ok := p.peers[peer].keys[key]; ok {
			return l
		}
		return p.peers[peer].line
	}
	return 0
}

type parser struct {
	cfg       Config
	pos       positions
	sec       section
	seenIface bool
}

// Parse reads a wg-quick configuration file strictly: every key and value
// must be valid, keys that may appear once must appear once, and wg-quick
// features WG Punch refuses (PostUp and friends, SaveConfig, Table, FwMark)
// are errors. Keys and section names are case-insensitive, like wg-quick.
// Comments "# wgpunch.Key = value" inside a section carry WG Punch metadata
// and are parsed strictly too; other comments are ignored.
//
// name is the tunnel name (the file name without ".conf"); it is checked with
// ValidateName unless empty. Errors about the content are *ParseError; they
// never contain a private or preshared key. The returned Config passes
// Validate.
func Parse(name string, data []byte) (*Config, error) {
	if name != "" {
		if err := ValidateName(name); err != nil {
			return nil, err
		}
	}
	if len(data) > MaxFileSize {
		return nil, &ParseError{Msg: fmt.Sprintf("file is too large (%d bytes, at most %d): this is not a tunnel configuration", len(data), MaxFileSize)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 BOM from Windows editors
	p := &parser{cfg: Config{Name: name}, pos: positions{ifaceKeys: map[string]int{}}}
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if err := p.line(i+1, strings.TrimSuffix(line, "\r")); err != nil {
			return nil, err
		}
	}
	if !p.seenIface {
		return nil, &ParseError{Line: 1, Msg: "no [Interface] section: a tunnel file starts with [Interface] and its PrivateKey"}
	}
	if err := p.cfg.validate(&p.pos); err != nil {
		return nil, err
	}
	return &p.cfg, nil
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) line(n int, line string) error {
	if !utf8.ValidString(line) {
		return p.errf(n, "not valid UTF-8 text: is this a WireGuard configuration file?")
	}
	for _, r := range line {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return p.errf(n, "contains a control character: is this a WireGuard configuration file?")
		}
	}
	t := strings.TrimSpace(line)
	if t == "" {
		return nil
	}
	if t[0] == '#' {
		c := strings.TrimSpace(t[1:])
		if len(c) >= len(metaPrefix) && strings.EqualFold(c[:len(metaPrefix)], metaPrefix) {
			return p.meta(n, c[len(metaPrefix):])
		}
		return nil
	}
	if i := strings.IndexByte(t, '#'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	if t[0] == '[' {
		switch {
		case strings.EqualFold(t, "[Interface]"):
			if p.seenIface {
				return p.errf(n, "a second [Interface] section: a tunnel has one [Interface]; merge them")
			}
			p.seenIface = true
			p.sec = secInterface
			p.pos.iface = n
		case strings.EqualFold(t, "[Peer]"):
			if !p.seenIface {
				return p.errf(n, "[Peer] before [Interface]: put the [Interface] section first")
			}
			p.sec = secPeer
			p.cfg.Peers = append(p.cfg.Peers, Peer{})
			p.pos.peers = append(p.pos.peers, sectionPos{line: n, keys: map[string]int{}})
		default:
			if s := safeIdent(strings.Trim(t, "[]")); s != "" {
				return p.errf(n, "unknown section [%s]: only [Interface] and [Peer] are allowed", strings.Trim(s, `"`))
			}
			return p.errf(n, "unknown section: only [Interface] and [Peer] are allowed")
		}
		return nil
	}
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		return p.errf(n, "expected Key = Value, a [Section] or a # comment")
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	lk := strings.ToLower(k)
	if k == "" {
		return p.errf(n, "a value without a key: expected Key = Value")
	}
	if p.sec == secNone {
		if s := safeIdent(k); s != "" {
			return p.errf(n, "%s is outside a section: start the file with [Interface]", s)
		}
		return p.errf(n, "line outside a section: start the file with [Interface]")
	}
	if msg, ok := unsupported[lk]; ok {
		return p.errf(n, "%s", msg)
	}
	if v == "" {
		if s := safeIdent(k); s != "" {
			return p.errf(n, "%s has no value", canonicalKey(lk))
		}
		return p.errf(n, "expected Key = Value")
	}
	secret := lk == "privatekey" || lk == "presharedkey"
	if !secret && looksLikeKey(v) && lk != "publickey" {
		if s := safeIdent(k); s != "" {
			return p.errf(n, "the value of %s looks like a WireGuard key; check that it is on the right line", canonicalKey(lk))
		}
		return p.errf(n, "unknown key (not shown: the line looks like it holds a WireGuard key)")
	}
	if p.sec == secInterface {
		return p.ifaceKey(n, k, lk, v)
	}
	return p.peerKey(n, k, lk, v)
}

// once records key at line n in keys and fails if it was already there.
func (p *parser) once(keys map[string]int, n int, lk, what string) error {
	if prev, dup := keys[lk]; dup {
		return p.errf(n, "%s appears twice in this %s section (first on line %d): keep one", canonicalKey(lk), what, prev)
	}
	keys[lk] = n
	return nil
}

// multi records the first line of a key that may repeat.
func multi(keys map[string]int, n int, lk string) {
	if _, ok := keys[lk]; !ok {
		keys[lk] = n
	}
}

func (p *parser) ifaceKey(n int, k, lk, v string) error {
	in := &p.cfg.Interface
	keys := p.pos.ifaceKeys
	switch lk {
	case "privatekey":
		if err := p.once(keys, n, lk, "[Interface]"); err != nil {
			return err
		}
		key, err := ParseKey(v)
		if err != nil {
			return p.errf(n, "PrivateKey: %v", err)
		}
		in.PrivateKey = key
	case "listenport":
		if err := p.once(keys, n, lk, "[Interface]"); err != nil {
			return err
		}
		port, err := ParsePort(v)
		if err != nil {
			return p.errf(n, "ListenPort: %v", err)
		}
		in.ListenPort = port
	case "address":
		multi(keys, n, lk)
		items, err := splitList(v)
		if err != nil {
			return p.errf(n, "Address: %v", err)
		}
		for _, s := range items {
			pfx, err := parsePrefix(s, false)
			if err != nil {
				return p.errf(n, "Address: %v", err)
			}
			in.Addresses = append(in.Addresses, pfx)
		}
	case "dns":
		multi(keys, n, lk)
		items, err := splitList(v)
		if err != nil {
			return p.errf(n, "DNS: %v", err)
		}
		for _, s := range items {
			if ip, err := netip.ParseAddr(s); err == nil {
				in.DNS = append(in.DNS, ip)
				continue
			}
			if err := validateSearchDomain(s); err != nil {
				return p.errf(n, "DNS: %v", err)
			}
			in.DNSSearch = append(in.DNSSearch, s)
		}
	case "mtu":
		if err := p.once(keys, n, lk, "[Interface]"); err != nil {
			return err
		}
		m, err := strconv.ParseUint(v, 10, 16)
		if err != nil || m < MinMTU || !isDigits(v) {
			return p.errf(n, "MTU %q is not valid: use a number from %d to 65535, or remove the line for the default", v, MinMTU)
		}
		in.MTU = uint16(m)
	default:
		return p.unknown(n, k, "[Interface]")
	}
	return nil
}

func (p *parser) peerKey(n int, k, lk, v string) error {
	i := len(p.cfg.Peers) - 1
	peer := &p.cfg.Peers[i]
	keys := p.pos.peers[i].keys
	switch lk {
	case "publickey":
		if err := p.once(keys, n, lk, "[Peer]"); err != nil {
			return err
		}
		key, err := ParseKey(v)
		if err != nil {
			return p.errf(n, "PublicKey: %v", err)
		}
		peer.PublicKey = key
	case "presharedkey":
		if err := p.once(keys, n, lk, "[Peer]"); err != nil {
			return err
		}
		key, err := ParseKey(v)
		if err != nil {
			return p.errf(n, "PresharedKey: %v", err)
		}
		peer.PresharedKey = &key
	case "allowedips":
		multi(keys, n, lk)
		items, err := splitList(v)
		if err != nil {
			return p.errf(n, "AllowedIPs: %v", err)
		}
		for _, s := range items {
			pfx, err := parsePrefix(s, true)
			if err != nil {
				return p.errf(n, "AllowedIPs: %v", err)
			}
			peer.AllowedIPs = append(peer.AllowedIPs, pfx)
		}
	case "endpoint":
		if err := p.once(keys, n, lk, "[Peer]"); err != nil {
			return err
		}
		ep, err := ParseEndpoint(v)
		if err != nil {
			return p.errf(n, "Endpoint: %v", err)
		}
		peer.Endpoint = ep
	case "persistentkeepalive":
		if err := p.once(keys, n, lk, "[Peer]"); err != nil {
			return err
		}
		if strings.EqualFold(v, "off") {
			peer.PersistentKeepalive = 0
			break
		}
		ka, err := strconv.ParseUint(v, 10, 16)
		if err != nil || !isDigits(v) {
			return p.errf(n, "PersistentKeepalive %q is not valid: use seconds from 0 to 65535 (WG Punch uses %d), or off", v, DefaultKeepalive)
		}
		peer.PersistentKeepalive = uint16(ka)
	default:
		return p.unknown(n, k, "[Peer]")
	}
	return nil
}

func (p *parser) unknown(n int, k, sec string) error {
	if s := safeIdent(k); s != "" {
		return p.errf(n, "unknown key %s in %s: check the spelling or remove the line", s, sec)
	}
	return p.errf(n, "unknown key in %s: check the spelling or remove the line", sec)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitList splits a comma-separated list, refusing empty elements.
func splitList(v string) ([]string, error) {
	parts := strings.Split(v, ",")
	for i, s := range parts {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, errors.New("empty element in the comma-separated list: remove the extra comma")
		}
		parts[i] = s
	}
	return parts, nil
}

// parsePrefix parses an address with an optional /bits (a bare address is
// /32 or /128, as in wg and wg-quick). With masked, host bits are cleared, as
// wg does for AllowedIPs.
func parsePrefix(s string, masked bool) (netip.Prefix, error) {
	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		pfx, err = netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or IP/prefix-length (like 10.0.0.1/24)", s)
		}
	} else {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or IP/prefix-length (like 10.0.0.1/24)", s)
		}
		pfx = netip.PrefixFrom(ip, ip.BitLen())
	}
	if masked {
		pfx = pfx.Masked()
	}
	return pfx, nil
}

// validateSearchDomain checks a DNS search domain.
func validateSearchDomain(s string) error {
	if err := validateHostname(s); err != nil {
		return fmt.Errorf("%q is neither an IP address nor a valid search domain", s)
	}
	return nil
}
