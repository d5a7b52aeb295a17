package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// readSecurity reads path's owner and DACL without following a reparse
// point at the end of path.
func readSecurity(path string) (Security, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return Security{}, fmt.Errorf("read the security of %s: %w", path, err)
	}
	var sec Security
	owner, _, err := sd.Owner()
	if err != nil {
		return Security{}, fmt.Errorf("read the owner of %s: %w", path, err)
	}
	if owner != nil {
		sec.Owner = owner.String()
	}
	dacl, _, err := sd.DACL()
	if errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) || dacl == nil {
		sec.NullDACL = true
		return sec, nil
	}
	if err != nil {
		return Security{}, fmt.Errorf("read the access list of %s: %w", path, err)
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return Security{}, fmt.Errorf("read the access list of %s: %w", path, err)
		}
		a := ACE{
			Mask:        uint32(ace.Mask),
			Allow:       ace.Header.AceType == windows.ACCESS_ALLOWED_ACE_TYPE,
			InheritOnly: ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0,
		}
		if a.Allow {
			a.SID = (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String()
		}
		sec.DACL = append(sec.DACL, a)
	}
	return sec, nil
}

// selfSID is the user SID of this process; "" if unknown.
func selfSID() string {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return ""
	}
	return u.User.Sid.String()
}

// notPlainDir refuses a reparse point (a junction could send the daemon's
// socket anywhere).
func notPlainDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return fmt.Errorf("%w: %s is not a plain folder; an administrator should delete it", ErrUntrustedEndpoint, dir)
	}
	return nil
}

// checkEndpoint accepts the socket at sock only if its folder and the
// socket itself pass CheckEndpointDir and CheckEndpointFile. A socket that
// is not there is left to the dial to report.
func checkEndpoint(sock string) error {
	dir := filepath.Dir(sock)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := notPlainDir(dir); err != nil {
		return err
	}
	self := selfSID()
	sec, err := readSecurity(dir)
	if err != nil {
		return err
	}
	if err := CheckEndpointDir(dir, sec, self); err != nil {
		return err
	}
	if _, err := os.Lstat(sock); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	sec, err = readSecurity(sock)
	if err != nil {
		return err
	}
	return CheckEndpointFile(sock, sec, self)
}

// prepareSocketDir creates the socket folder with EndpointDirSDDL, or, if
// it exists (perhaps made by another user), takes it over: owner and
// access list are set again, so nothing its creator left inside stays
// usable by them.
func prepareSocketDir(dir string) error {
	sd, err := windows.SecurityDescriptorFromString(EndpointDirSDDL)
	if err != nil {
		return fmt.Errorf("parse the socket folder's SDDL: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	d16, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	if err := windows.CreateDirectory(d16, sa); err == nil {
		return nil
	} else if err != windows.ERROR_ALREADY_EXISTS {
		return fmt.Errorf("create socket folder %s: %w", dir, err)
	}
	if err := notPlainDir(dir); err != nil {
		return err
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		owner, nil, dacl, nil); err != nil {
		return fmt.Errorf("protect socket folder %s: %w", dir, err)
	}
	return nil
}

// daemonPrivileged: the daemon must run as an administrator (or SYSTEM).
func daemonPrivileged() error {
	if !windows.GetCurrentProcessToken().IsElevated() {
		return ErrNotRoot
	}
	return nil
}
