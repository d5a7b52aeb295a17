package store

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// platformProtector is DPAPI in the user's scope.
func platformProtector() Protector { return userDPAPI{} }

// userDPAPI seals with the logged-on user's DPAPI key (no
// CRYPTPROTECT_LOCAL_MACHINE): only this user on this computer can
// decrypt, and the key follows no roaming profile by itself.
type userDPAPI struct{}

const dpapiDescription = "WG Punch tunnel"

func dataBlob(b []byte) *windows.DataBlob {
	d := &windows.DataBlob{Size: uint32(len(b))}
	if len(b) > 0 {
		d.Data = &b[0]
	}
	return d
}

func takeBlob(out *windows.DataBlob) []byte {
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

func (userDPAPI) Protect(data []byte) ([]byte, error) {
	desc, err := windows.UTF16PtrFromString(dpapiDescription)
	if err != nil {
		return nil, err
	}
	var out windows.DataBlob
	if err := windows.CryptProtectData(dataBlob(data), desc, nil, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("CryptProtectData: %w", err)
	}
	return takeBlob(&out), nil
}

func (userDPAPI) Unprotect(data []byte) ([]byte, error) {
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(dataBlob(data), nil, nil, 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return nil, fmt.Errorf("CryptUnprotectData: %w", err)
	}
	return takeBlob(&out), nil
}
