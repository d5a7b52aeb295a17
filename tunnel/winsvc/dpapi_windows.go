package winsvc

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.zx2c4.com/wireguard/windows/conf/dpapi"
)

// DPAPI is the Windows Protector. It seals with the machine key
// (CRYPTPROTECT_LOCAL_MACHINE) because the elevated helper that writes a
// config runs as the user while the service that reads it runs as SYSTEM;
// the directory's ACL (DataDirSDDL) keeps other users out. The tunnel name
// is the blob's description and is checked on decryption, as WireGuard's
// conf.LoadFromPath does.
type DPAPI struct{}

func blob(b []byte) *windows.DataBlob {
	d := &windows.DataBlob{Size: uint32(len(b))}
	if len(b) > 0 {
		d.Data = &b[0]
	}
	return d
}

// Protect implements Protector.
func (DPAPI) Protect(data []byte, name string) ([]byte, error) {
	desc, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	var out windows.DataBlob
	err = windows.CryptProtectData(blob(data), desc, nil, 0, nil,
		windows.CRYPTPROTECT_UI_FORBIDDEN|windows.CRYPTPROTECT_LOCAL_MACHINE, &out)
	if err != nil {
		return nil, fmt.Errorf("CryptProtectData: %w", err)
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...), nil
}

// Unprotect implements Protector with WireGuard's own decryption.
func (DPAPI) Unprotect(data []byte, name string) ([]byte, error) {
	return dpapi.Decrypt(data, name)
}
