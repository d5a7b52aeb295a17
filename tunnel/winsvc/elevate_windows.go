package winsvc

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Elevator is the Privileged of an unelevated app: each call starts this
// program again with the "runas" verb (one UAC prompt) and FlagElevated,
// handing the work over in a private request directory.
type Elevator struct {
	Exe    string
	Layout Layout // where WG Punch is installed
}

// Elevated reports whether this process has an elevated (administrator)
// token.
func Elevated() bool { return windows.GetCurrentProcessToken().IsElevated() }

// Install implements Privileged.
func (e *Elevator) Install(name string, wgQuick []byte) error {
	// The elevated copy checks too; checking here spares a UAC prompt
	// that could only end in the same refusal.
	if err := CheckServiceExe(e.Layout, e.Exe); err != nil {
		return err
	}
	return e.run(Request{Op: OpInstall, Names: []string{name}}, map[string][]byte{name: wgQuick})
}

// Remove implements Privileged.
func (e *Elevator) Remove(name string) error {
	return e.run(Request{Op: OpRemove, Names: []string{name}}, nil)
}

// RemoveAll implements BatchRemover: one UAC prompt for all names.
func (e *Elevator) RemoveAll(names []string) error {
	return e.run(Request{Op: OpRemove, Names: names}, nil)
}

// Installed implements Privileged; listing needs no elevation.
func (e *Elevator) Installed() ([]string, error) { return listTunnels(false) }

// ErrDeclined is returned when the user answers No to the UAC prompt.
var ErrDeclined = errors.New("administrator approval was declined, so nothing was changed: try again and answer Yes in the Windows prompt")

func (e *Elevator) run(req Request, configs map[string][]byte) error {
	dir, err := os.MkdirTemp("", "wgpunch-elevate-")
	if err != nil {
		return fmt.Errorf("create request directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := WriteRequest(dir, req, configs); err != nil {
		return err
	}
	code, err := runElevated(e.Exe, windows.ComposeCommandLine([]string{FlagElevated, dir}))
	if err != nil {
		return err
	}
	res, rerr := ReadResult(dir)
	if rerr != nil {
		return fmt.Errorf("elevated helper exited with code %d: %w", code, rerr)
	}
	if res.Error != "" {
		return errors.New(res.Error)
	}
	return nil
}

type shellExecuteInfo struct {
	cbSize       uint32
	fMask        uint32
	hwnd         windows.Handle
	lpVerb       *uint16
	lpFile       *uint16
	lpParameters *uint16
	lpDirectory  *uint16
	nShow        int32
	hInstApp     windows.Handle
	lpIDList     uintptr
	lpClass      *uint16
	hkeyClass    windows.Handle
	dwHotKey     uint32
	hIcon        windows.Handle
	hProcess     windows.Handle
}

var procShellExecuteExW = windows.NewLazySystemDLL("shell32.dll").NewProc("ShellExecuteExW")

const (
	seeMaskNoCloseProcess = 0x00000040
	seeMaskNoAsync        = 0x00000100
	seeMaskFlagNoUI       = 0x00000400
)

// runElevated runs exe params with the runas verb and waits for it.
func runElevated(exe, params string) (uint32, error) {
	verb, _ := windows.UTF16PtrFromString("runas")
	file, err := windows.UTF16PtrFromString(exe)
	if err != nil {
		return 0, err
	}
	args, err := windows.UTF16PtrFromString(params)
	if err != nil {
		return 0, err
	}
	info := shellExecuteInfo{
		fMask:        seeMaskNoCloseProcess | seeMaskNoAsync | seeMaskFlagNoUI,
		lpVerb:       verb,
		lpFile:       file,
		lpParameters: args,
		nShow:        windows.SW_HIDE,
	}
	info.cbSize = uint32(unsafe.Sizeof(info))
	r, _, callErr := procShellExecuteExW.Call(uintptr(unsafe.Pointer(&info)))
	if r == 0 {
		if errors.Is(callErr, windows.ERROR_CANCELLED) {
			return 0, ErrDeclined
		}
		return 0, fmt.Errorf("start elevated helper: %w", callErr)
	}
	if info.hProcess == 0 {
		return 0, errors.New("start elevated helper: no process handle")
	}
	defer windows.CloseHandle(info.hProcess)
	if _, err := windows.WaitForSingleObject(info.hProcess, windows.INFINITE); err != nil {
		return 0, fmt.Errorf("wait for elevated helper: %w", err)
	}
	var code uint32
	if err := windows.GetExitCodeProcess(info.hProcess, &code); err != nil {
		return 0, fmt.Errorf("elevated helper exit code: %w", err)
	}
	return code, nil
}
