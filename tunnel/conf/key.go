package conf

import (
	"encoding/base64"
	"errors"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Key errors. Their text never contains the key itself: the same parser reads
// private keys.
var (
	errKeyFormat    = errors.New("not a valid WireGuard key: expected 44 characters of base64 encoding 32 bytes")
	errKeyCanonical = errors.New("not a valid WireGuard key: base64 is not in canonical form (check the last characters)")
	errKeyZero      = errors.New("not a valid WireGuard key: the key is all zeros")
)

// ParseKey parses a WireGuard key in standard base64. It accepts exactly the
// canonical encoding of 32 bytes and refuses the all-zero key. Errors never
// contain s.
func ParseKey(s string) (wgtypes.Key, error) {
	if len(s) != base64.StdEncoding.EncodedLen(wgtypes.KeyLen) {
		return wgtypes.Key{}, errKeyFormat
	}
	k, err := wgtypes.ParseKey(s)
	if err != nil {
		return wgtypes.Key{}, errKeyFormat
	}
	if k.String() != s {
		return wgtypes.Key{}, errKeyCanonical
	}
	if k == (wgtypes.Key{}) {
		return wgtypes.Key{}, errKeyZero
	}
	return k, nil
}
