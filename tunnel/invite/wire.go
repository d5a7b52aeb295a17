package invite

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Wire format (docs/invite-format.md has the full description):
//
//	token   = "WGP" version kind "-" base32(frame)   ; upper case, no padding
//	frame   = length:uint16be payload checksum:4
//	checksum = SHA-256("WGP" version kind || payload)[:4]

const (
	formatVersion = 1
	kindInvite    = 'I'
	kindReply     = 'R'
	checksumLen   = 4
	headerLen     = 2
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// tag is the token prefix without the dash, e.g. "WGP1I"; the checksum
// covers it so an invite cannot be relabelled as a reply.
func tag(kind byte) string { return fmt.Sprintf("WGP%d%c", formatVersion, kind) }

func checksum(kind byte, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(tag(kind)))
	h.Write(payload)
	return h.Sum(nil)[:checksumLen]
}

func seal(kind byte, payload []byte) string {
	frame := make([]byte, 0, headerLen+len(payload)+checksumLen)
	frame = binary.BigEndian.AppendUint16(frame, uint16(len(payload)))
	frame = append(frame, payload...)
	frame = append(frame, checksum(kind, payload)...)
	return tag(kind) + "-" + b32.EncodeToString(frame)
}

// Endpoint kinds.
const (
	epNone = 0
	epIPv4 = 1
	epIPv6 = 2
	epHost = 3
)

// NAT codes: one byte, high nibble mapping, low nibble verdict. natString
// means the string follows as len:u8 bytes (mapping first, then verdict).
var (
	natMappings = []string{"", "none", "endpoint-independent", "endpoint-dependent", "unknown"}
	natVerdicts = []string{"", "ok", "warning", "fail"}
)

const natString = 0xF

// Extensions: the optional tail of a message, each a tag byte and its
// content, in increasing tag order, each at most once. A message without
// them is what older versions write; older versions refuse a message with
// an extension they do not know (the checksum covers it, so it is no
// corruption: they say there are unexpected bytes).
const (
	// extInviteDigest (replies only): the digest of the invite it answers
	// (Invite.Digest). Replies from WG Punch versions without the
	// exchange safety code end before it.
	extInviteDigest = 0x01
	// extEndpoint6: the IPv6 endpoint (Endpoint6), as an endpoint
	// (type epIPv6, 16 address bytes, port).
	extEndpoint6 = 0x02
	// extAliasPool (invites only): the /16 the invitee offers aliases
	// in, as its first two address bytes.
	extAliasPool = 0x03
	// extOffers (replies only): count, then per offer the index of its
	// LAN in the reply's LANs and the alias's network bytes (as many as
	// the LAN's prefix covers; the alias has the LAN's length).
	extOffers = 0x04
	// extReachAs (replies only): count, then per alias the inviter's LAN
	// as a prefix and the alias's network bytes.
	extReachAs = 0x05
)

type writer struct{ b []byte }

func (w *writer) byte(c byte)    { w.b = append(w.b, c) }
func (w *writer) bytes(p []byte) { w.b = append(w.b, p...) }
func (w *writer) str8(s string)  { w.byte(byte(len(s))); w.b = append(w.b, s...) }

func (w *writer) id(s string) {
	p, _ := hex.DecodeString(s) // validated
	w.bytes(p)
}

func (w *writer) endpoint(e conf.Endpoint) {
	if e == (conf.Endpoint{}) {
		w.byte(epNone)
		return
	}
	if a, err := netip.ParseAddr(e.Host); err == nil {
		if a.Is4() {
			w.byte(epIPv4)
		} else {
			w.byte(epIPv6)
		}
		w.bytes(a.AsSlice())
	} else {
		w.byte(epHost)
		w.str8(e.Host)
	}
	w.b = binary.BigEndian.AppendUint16(w.b, e.Port)
}

// prefixCode packs family and length: 0..32 for IPv4, 64+0..128 for IPv6.
func prefixCode(p netip.Prefix) byte {
	if p.Addr().Is4() {
		return byte(p.Bits())
	}
	return byte(64 + p.Bits())
}

// prefix writes a canonical prefix: code, then only the bytes the mask covers.
func (w *writer) prefix(p netip.Prefix) {
	w.byte(prefixCode(p))
	w.bytes(p.Addr().AsSlice()[:(p.Bits()+7)/8])
}

// hostIn writes an address inside subnet: its prefix length, then the
// address bytes the subnet's whole bytes do not already fix.
func (w *writer) hostIn(subnet, a netip.Prefix) {
	w.byte(byte(a.Bits()))
	w.bytes(a.Addr().AsSlice()[subnet.Bits()/8:])
}

func (w *writer) prefixes(ps []netip.Prefix) {
	w.byte(byte(len(ps)))
	for _, p := range ps {
		w.prefix(p)
	}
}

func (w *writer) nat(mapping, verdict string) {
	m, mok := indexOf(natMappings, mapping)
	v, vok := indexOf(natVerdicts, verdict)
	if mok && vok {
		w.byte(byte(m<<4 | v))
		return
	}
	w.byte(natString<<4 | natString)
	w.str8(mapping)
	w.str8(verdict)
}

func indexOf(list []string, s string) (int, bool) {
	for i, x := range list {
		if x == s {
			return i, true
		}
	}
	return 0, false
}

func (i *Invite) marshal() []byte {
	var w writer
	w.id(i.ID)
	w.bytes(i.PublicKey[:])
	w.endpoint(i.Endpoint)
	w.endpoint(i.LANEndpoint)
	w.prefix(i.Subnet)
	w.hostIn(i.Subnet, i.InviterAddress)
	w.hostIn(i.Subnet, i.InviteeAddress)
	w.prefixes(i.LANs)
	w.str8(i.Name)
	w.nat(i.NATMapping, i.NATVerdict)
	w.endpoint6(i.Endpoint6)
	if i.AliasPool.IsValid() {
		w.byte(extAliasPool)
		w.bytes(i.AliasPool.Addr().AsSlice()[:2])
	}
	return w.b
}

// aliasNet writes the network bytes of alias a (as many as its prefix
// length covers); the reader takes the length from the LAN.
func (w *writer) aliasNet(a netip.Prefix) {
	w.bytes(a.Addr().AsSlice()[:(a.Bits()+7)/8])
}

// endpoint6 writes the extEndpoint6 extension, unless e is zero.
func (w *writer) endpoint6(e conf.Endpoint) {
	if e != (conf.Endpoint{}) {
		w.byte(extEndpoint6)
		w.endpoint(e)
	}
}

func (r *Reply) marshal() []byte {
	var w writer
	w.id(r.InviteID)
	w.bytes(r.PublicKey[:])
	w.endpoint(r.Endpoint)
	w.endpoint(r.LANEndpoint)
	w.prefixes(r.LANs)
	w.str8(r.Name)
	w.nat(r.NATMapping, r.NATVerdict)
	if r.InviteDigest != ([DigestLen]byte{}) {
		w.byte(extInviteDigest)
		w.bytes(r.InviteDigest[:])
	}
	w.endpoint6(r.Endpoint6)
	if len(r.Offers) > 0 {
		w.byte(extOffers)
		w.byte(byte(len(r.Offers)))
		for _, o := range r.Offers {
			w.byte(byte(slices.Index(r.LANs, o.LAN))) // validated: present
			w.aliasNet(o.As)
		}
	}
	if len(r.ReachAs) > 0 {
		w.byte(extReachAs)
		w.byte(byte(len(r.ReachAs)))
		for _, a := range r.ReachAs {
			w.prefix(a.LAN)
			w.aliasNet(a.As)
		}
	}
	return w.b
}

// reader reads a payload whose checksum matched; running out of bytes
// therefore means a broken encoder, reported as invalid content.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("content ends early")

func (r *reader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = errShort
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) byte() byte {
	p := r.next(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) str8() string { return string(r.next(int(r.byte()))) }

func (r *reader) id() string { return hex.EncodeToString(r.next(IDLen / 2)) }

func (r *reader) key() wgtypes.Key {
	var k wgtypes.Key
	copy(k[:], r.next(len(k)))
	return k
}

func (r *reader) endpoint(what string) conf.Endpoint {
	var e conf.Endpoint
	switch t := r.byte(); t {
	case epNone:
		return e
	case epIPv4, epIPv6:
		n := 4
		if t == epIPv6 {
			n = 16
		}
		if p := r.next(n); p != nil {
			a, _ := netip.AddrFromSlice(p)
			e.Host = a.String()
		}
	case epHost:
		e.Host = r.str8()
	default:
		r.fail("%s: unknown address type %d", what, t)
		return e
	}
	if p := r.next(2); p != nil {
		e.Port = binary.BigEndian.Uint16(p)
	}
	return e
}

func (r *reader) prefix(what string) netip.Prefix {
	c := int(r.byte())
	bitLen, bits := 32, c
	if c >= 64 {
		bitLen, bits = 128, c-64
	}
	if bits > bitLen {
		r.fail("%s: bad prefix length code %d", what, c)
		return netip.Prefix{}
	}
	var a [16]byte
	p := r.next((bits + 7) / 8)
	if p == nil {
		return netip.Prefix{}
	}
	copy(a[:], p)
	var addr netip.Addr
	if bitLen == 32 {
		addr = netip.AddrFrom4([4]byte(a[:4]))
	} else {
		addr = netip.AddrFrom16(a)
	}
	return netip.PrefixFrom(addr, bits)
}

func (r *reader) hostIn(what string, subnet netip.Prefix) netip.Prefix {
	bits := int(r.byte())
	if !subnet.IsValid() {
		return netip.Prefix{}
	}
	a := subnet.Addr().AsSlice()
	p := r.next(len(a) - subnet.Bits()/8)
	if p == nil {
		return netip.Prefix{}
	}
	copy(a[subnet.Bits()/8:], p)
	addr, _ := netip.AddrFromSlice(a)
	if bits > addr.BitLen() {
		r.fail("%s: prefix length %d is longer than the address", what, bits)
		return netip.Prefix{}
	}
	return netip.PrefixFrom(addr, bits)
}

func (r *reader) prefixes(what string) []netip.Prefix {
	n := int(r.byte())
	if n > MaxLANs {
		r.fail("%s: %d subnets, at most %d allowed", what, n, MaxLANs)
		return nil
	}
	var ps []netip.Prefix
	for range n {
		ps = append(ps, r.prefix(what))
	}
	return ps
}

func (r *reader) nat() (mapping, verdict string) {
	c := r.byte()
	m, v := int(c>>4), int(c&0xF)
	if m == natString && v == natString {
		return r.str8(), r.str8()
	}
	if m >= len(natMappings) || v >= len(natVerdicts) {
		r.fail("NAT check result: unknown code %#02x", c)
		return "", ""
	}
	return natMappings[m], natVerdicts[v]
}

// extensions reads the tail: tags in increasing order, each at most once;
// read reads one tag's content and reports false for a tag it does not
// know.
func (r *reader) extensions(read func(tag byte) bool) {
	last := -1
	for r.err == nil && len(r.b) > 0 {
		tag := r.byte()
		if int(tag) <= last {
			r.fail("extension %d after extension %d: out of order or twice", tag, last)
			return
		}
		last = int(tag)
		if !read(tag) {
			r.fail("%d unexpected bytes after the content (extension %d is unknown to this version: was the message made by a newer WG Punch?)", len(r.b)+1, tag)
			return
		}
	}
}

// endpoint6 reads extEndpoint6's content: an IPv6 endpoint, never empty
// (the encoder leaves a zero one out).
func (r *reader) endpoint6() conf.Endpoint {
	if r.err == nil && len(r.b) > 0 && r.b[0] != epIPv6 {
		r.fail("IPv6 endpoint: address type %d, want IPv6 (%d)", r.b[0], epIPv6)
		return conf.Endpoint{}
	}
	return r.endpoint("IPv6 endpoint")
}

// aliasOf reads the network bytes of an alias of lan (aliasNet): an
// alias of lan's family and length.
func (r *reader) aliasOf(lan netip.Prefix) netip.Prefix {
	if !lan.IsValid() {
		r.fail("alias of an invalid LAN")
		return netip.Prefix{}
	}
	var a [16]byte
	p := r.next((lan.Bits() + 7) / 8)
	if p == nil {
		return netip.Prefix{}
	}
	copy(a[:], p)
	addr := netip.AddrFrom16(a)
	if lan.Addr().Is4() {
		addr = netip.AddrFrom4([4]byte(a[:4]))
	}
	return netip.PrefixFrom(addr, lan.Bits())
}

// aliasCount reads the count of an alias list.
func (r *reader) aliasCount(what string) int {
	n := int(r.byte())
	if n == 0 || n > MaxLANs {
		r.fail("%s: %d aliases, want 1 to %d", what, n, MaxLANs)
		return 0
	}
	return n
}

// offers reads extOffers's content for a reply with the given LANs.
func (r *reader) offers(lans []netip.Prefix) []conf.LANAlias {
	var out []conf.LANAlias
	for range r.aliasCount("offered aliases") {
		i := int(r.byte())
		if r.err == nil && i >= len(lans) {
			r.fail("offered alias for LAN number %d, but the reply shares %d LANs", i+1, len(lans))
		}
		if r.err != nil {
			return nil
		}
		out = append(out, conf.LANAlias{LAN: lans[i], As: r.aliasOf(lans[i])})
	}
	return out
}

// reachAs reads extReachAs's content.
func (r *reader) reachAs() []conf.LANAlias {
	var out []conf.LANAlias
	for range r.aliasCount("aliases of the inviter's LANs") {
		lan := r.prefix("aliased LAN")
		if r.err != nil {
			return nil
		}
		out = append(out, conf.LANAlias{LAN: lan, As: r.aliasOf(lan)})
	}
	return out
}

func (r *reader) end() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d unexpected bytes after the content", len(r.b))
	}
	return r.err
}

func unmarshalInvite(b []byte) (*Invite, error) {
	r := reader{b: b}
	i := &Invite{}
	i.ID = r.id()
	i.PublicKey = r.key()
	i.Endpoint = r.endpoint("public endpoint")
	i.LANEndpoint = r.endpoint("LAN endpoint")
	i.Subnet = r.prefix("tunnel subnet")
	i.InviterAddress = r.hostIn("inviter address", i.Subnet)
	i.InviteeAddress = r.hostIn("invitee address", i.Subnet)
	i.LANs = r.prefixes("shared LANs")
	i.Name = r.str8()
	i.NATMapping, i.NATVerdict = r.nat()
	r.extensions(func(tag byte) bool {
		switch tag {
		case extEndpoint6:
			i.Endpoint6 = r.endpoint6()
		case extAliasPool:
			if p := r.next(2); p != nil {
				i.AliasPool = netip.PrefixFrom(netip.AddrFrom4([4]byte{p[0], p[1], 0, 0}), 16)
			}
		default:
			return false
		}
		return true
	})
	if err := r.end(); err != nil {
		return nil, err
	}
	return i, i.validate()
}

func unmarshalReply(b []byte) (*Reply, error) {
	r := reader{b: b}
	rp := &Reply{}
	rp.InviteID = r.id()
	rp.PublicKey = r.key()
	rp.Endpoint = r.endpoint("public endpoint")
	rp.LANEndpoint = r.endpoint("LAN endpoint")
	rp.LANs = r.prefixes("shared LANs")
	rp.Name = r.str8()
	rp.NATMapping, rp.NATVerdict = r.nat()
	r.extensions(func(tag byte) bool {
		switch tag {
		case extInviteDigest:
			copy(rp.InviteDigest[:], r.next(DigestLen))
			if r.err == nil && rp.InviteDigest == ([DigestLen]byte{}) {
				r.fail("the digest of the answered invite is all zeros")
			}
		case extEndpoint6:
			rp.Endpoint6 = r.endpoint6()
		case extOffers:
			rp.Offers = r.offers(rp.LANs)
		case extReachAs:
			rp.ReachAs = r.reachAs()
		default:
			return false
		}
		return true
	})
	if err := r.end(); err != nil {
		return nil, err
	}
	return rp, rp.validate()
}
