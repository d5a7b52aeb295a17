package ipc

import (
	"errors"
	"fmt"
	"strings"
)

// On Windows the daemon's socket lives in %ProgramData%\WGPunch, where
// every user may create folders. Whoever creates that folder first owns
// it, and could answer in the daemon's place: feed the tray fake status and
// receive the invite and reply tokens it sends. So the daemon creates (or
// takes over) the folder with EndpointDirSDDL, and a client trusts a
// socket only when CheckEndpointDir and CheckEndpointFile accept what
// Windows says about it (endpoint_windows.go reads the security
// descriptors; the rules below are plain logic, tested on every OS).

// EndpointDirSDDL is the socket folder's security descriptor: owned by the
// Administrators, not inheriting, full control for SYSTEM and the
// Administrators; authenticated users may list it and, on the files inside
// (the socket), read and write, which is what connecting needs. They
// cannot create, delete or rename anything in it.
const EndpointDirSDDL = "O:BAG:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1200a9;;;AU)(A;OIIO;0x12019f;;;AU)"

// Well-known SIDs.
const (
	SIDSystem         = "S-1-5-18"
	SIDAdministrators = "S-1-5-32-544"
	// SIDTrustedInstaller is NT SERVICE\TrustedInstaller, which owns
	// Windows' own folders.
	SIDTrustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
)

// ACE is one entry of a discretionary ACL, as far as the check needs it.
type ACE struct {
	SID         string // string form, S-1-...
	Mask        uint32 // access mask
	Allow       bool   // an access-allowed entry (else denied or other)
	InheritOnly bool   // applies only to what is created inside
}

// Security is an object's owner and DACL.
type Security struct {
	Owner    string // SID string
	NullDACL bool   // no DACL at all: everyone has full access
	DACL     []ACE
}

// Access rights that let their holder replace what is in a folder, or the
// folder's security.
const (
	fileAddFile         = 0x2
	fileAddSubdirectory = 0x4
	fileDeleteChild     = 0x40
	rightDelete         = 0x10000
	rightWriteDAC       = 0x40000
	rightWriteOwner     = 0x80000
	rightGenericAll     = 0x10000000
	rightGenericWrite   = 0x40000000
	dirTakeOver         = fileAddFile | fileAddSubdirectory | fileDeleteChild | rightDelete |
		rightWriteDAC | rightWriteOwner | rightGenericAll | rightGenericWrite
)

// ErrUntrustedEndpoint is wrapped by the checks' errors.
var ErrUntrustedEndpoint = errors.New("the daemon's socket is not protected")

// trusted reports whether sid may own or change the socket folder: SYSTEM,
// the Administrators, TrustedInstaller, or self (the caller's own user SID;
// "" for none), who can only be fooled by itself.
func trusted(sid, self string) bool {
	switch sid {
	case SIDSystem, SIDAdministrators, SIDTrustedInstaller:
		return true
	}
	return self != "" && strings.EqualFold(sid, self)
}

// CheckEndpointDir accepts the socket folder dir if it is owned by a
// trusted SID and nobody else may add, delete or rename entries in it or
// change its security.
func CheckEndpointDir(dir string, sec Security, self string) error {
	if !trusted(sec.Owner, self) {
		return untrusted(dir, fmt.Sprintf("its folder %s is owned by %s, not by SYSTEM or the Administrators", dir, sec.Owner))
	}
	if sec.NullDACL {
		return untrusted(dir, fmt.Sprintf("its folder %s has no access list, so every user may change it", dir))
	}
	for _, a := range sec.DACL {
		if a.Allow && !a.InheritOnly && a.Mask&dirTakeOver != 0 && !trusted(a.SID, self) {
			return untrusted(dir, fmt.Sprintf("%s may create or replace files in its folder %s", a.SID, dir))
		}
	}
	return nil
}

// CheckEndpointFile accepts the socket file if a trusted SID owns it (the
// daemon runs as an administrator or SYSTEM).
func CheckEndpointFile(path string, sec Security, self string) error {
	if !trusted(sec.Owner, self) {
		return untrusted(path, fmt.Sprintf("it was created by %s, not by an administrator or SYSTEM", sec.Owner))
	}
	return nil
}

func untrusted(path, why string) error {
	return fmt.Errorf("%w: %s; another user may have created it to pose as WG Punch, so it is not used. "+
		"An administrator should delete %s and start the WG Punch daemon again (in a Command Prompt started as administrator: wgpunch daemon)",
		ErrUntrustedEndpoint, why, path)
}
