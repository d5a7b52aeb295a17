package stunbind

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/pion/stun/v3"
)

// wgPacket is a WireGuard-shaped message of the given type and size whose
// bytes 4..8 (sender or receiver index) are index, big-endian on the wire
// as STUN's cookie would be.
func wgPacket(typ byte, size int, index uint32) []byte {
	p := make([]byte, size)
	p[0] = typ
	binary.BigEndian.PutUint32(p[4:8], index)
	for i := 8; i < size; i++ {
		p[i] = byte(i)
	}
	return p
}

func TestLooksLikeSTUN(t *testing.T) {
	success := stun.MustBuild(stun.TransactionID, stun.BindingSuccess,
		&stun.XORMappedAddress{IP: net.IPv4(192, 0, 2, 7), Port: 51820}, stun.Fingerprint)
	failure := stun.MustBuild(stun.TransactionID, stun.BindingError,
		stun.ErrorCodeAttribute{Code: stun.CodeBadRequest, Reason: []byte("no")})
	request := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	const cookie = 0x2112A442
	topBits := append([]byte(nil), success.Raw...)
	topBits[0] |= 0xC0

	for _, tc := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"binding success", success.Raw, true},
		{"binding error", failure.Raw, true},
		{"binding request (header only)", request.Raw, true},
		// A truncated answer is still STUN: it must not reach WireGuard;
		// the query side rejects it when decoding.
		{"truncated answer, full header", success.Raw[:stunHeaderSize+4], true},
		{"shorter than a STUN header", success.Raw[:stunHeaderSize-1], false},
		{"empty", nil, false},
		{"top bits set", topBits, false},
		{"WireGuard initiation", wgPacket(1, 148, 7), false},
		{"WireGuard response", wgPacket(2, 92, 7), false},
		{"WireGuard cookie reply", wgPacket(3, 64, 7), false},
		{"WireGuard transport", wgPacket(4, 1452, 7), false},
		{"WireGuard keepalive", wgPacket(4, 32, 7), false},
		// Receiver index 0x42A41221 puts the cookie's bytes at 4..8: one
		// session in 2^32 would otherwise vanish.
		{"WireGuard transport, index equal to cookie", wgPacket(4, 1452, cookie), false},
		{"WireGuard initiation, index equal to cookie", wgPacket(1, 148, cookie), false},
		{"text", []byte("this is not a STUN message at all"), false},
	} {
		if got := looksLikeSTUN(tc.p); got != tc.want {
			t.Errorf("%s: looksLikeSTUN = %v, want %v", tc.name, got, tc.want)
		}
	}
}
