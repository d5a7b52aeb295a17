package invite

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// SafetyCode returns a 12-digit code, in three groups of four
// ("0421 9387 1156"), derived from both public keys of a link. Both sides
// compute the same code whichever key is a and which is b; the users read
// it to each other over the phone to confirm no one swapped an invite or
// reply in transit.
//
// It is SHA-256("wgpunch safety code v1\x00" || lower key || higher key),
// keys compared byte-wise, first 8 bytes as a big-endian integer modulo
// 10^12 (about 40 bits: an attacker who swaps keys has to grind ~2^39 key
// pairs per try to match a code by chance).
func SafetyCode(a, b wgtypes.Key) string {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	h := sha256.New()
	h.Write([]byte("wgpunch safety code v1\x00"))
	h.Write(a[:])
	h.Write(b[:])
	n := binary.BigEndian.Uint64(h.Sum(nil)) % 1_000_000_000_000
	return fmt.Sprintf("%04d %04d %04d", n/100_000_000, n/10_000%10_000, n%10_000)
}
