package stunbind

import "github.com/pion/stun/v3"

// stunHeaderSize is the fixed STUN header: type, length, magic cookie and
// transaction ID (RFC 8489 section 5).
const stunHeaderSize = 20

// looksLikeSTUN reports whether a datagram on the tunnel's socket is for
// the STUN client rather than for WireGuard. It runs on every received
// packet, so it only looks at bytes 0..8:
//
//   - a STUN message has the two top bits of its first byte clear and the
//     magic cookie 0x2112A442 at bytes 4..8;
//   - a WireGuard message starts with its type (1..4) as a little-endian
//     uint32, so bytes 1..3 are zero. No STUN Binding message has them all
//     zero (the second byte holds the low method bits, 0x01), and a
//     WireGuard transport message whose receiver index happens to equal the
//     cookie must still reach WireGuard, so such packets are never STUN.
//
// Anything shorter than a STUN header goes to WireGuard, which drops
// packets shorter than its smallest message.
func looksLikeSTUN(p []byte) bool {
	return len(p) >= stunHeaderSize &&
		p[0]&0xC0 == 0 &&
		p[1]|p[2]|p[3] != 0 &&
		stun.IsMessage(p)
}
