package winsvc

import (
	"errors"
	"fmt"
)

// Protector seals config files for the machine. On Windows it is DPAPI
// (CryptProtectData with the machine key, the tunnel name as description,
// which Unprotect checks); tests use a fake.
type Protector interface {
	// Protect encrypts data bound to name.
	Protect(data []byte, name string) ([]byte, error)
	// Unprotect decrypts data and fails if it was not bound to name.
	Unprotect(data []byte, name string) ([]byte, error)
}

// ErrEmptyConfig is returned when sealing an empty config.
var ErrEmptyConfig = errors.New("tunnel config is empty")

// Seal encrypts a wg-quick config for tunnel name and checks that it opens
// again, so a broken key store is caught before anything is written.
func Seal(p Protector, name string, wgQuick []byte) ([]byte, error) {
	if len(wgQuick) == 0 {
		return nil, ErrEmptyConfig
	}
	sealed, err := p.Protect(wgQuick, name)
	if err != nil {
		return nil, fmt.Errorf("encrypt config of %q: %w", name, err)
	}
	back, err := p.Unprotect(sealed, name)
	if err != nil {
		return nil, fmt.Errorf("check encrypted config of %q: %w", name, err)
	}
	if string(back) != string(wgQuick) {
		return nil, fmt.Errorf("check encrypted config of %q: decrypted text differs", name)
	}
	return sealed, nil
}
