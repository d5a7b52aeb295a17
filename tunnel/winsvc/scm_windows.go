package winsvc

import (
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
	wgservices "golang.zx2c4.com/wireguard/windows/services"
)

// SCM does the privileged work with the service manager; it must run
// elevated (or as SYSTEM).
type SCM struct {
	Layout    Layout
	Exe       string // this program, as the services run it
	Protector Protector
	Logf      func(format string, args ...any)
}

// DefaultLayout is below %ProgramFiles%\WG Punch.
func DefaultLayout() (Layout, error) {
	pf, err := windows.KnownFolderPath(windows.FOLDERID_ProgramFiles, windows.KF_FLAG_DEFAULT)
	if err != nil {
		return Layout{}, fmt.Errorf("find Program Files: %w", err)
	}
	return Layout{Root: DefaultRoot(pf)}, nil
}

// NewSCM returns an SCM for this executable at the default layout.
func NewSCM(logf func(string, ...any)) (*SCM, error) {
	l, err := DefaultLayout()
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &SCM{Layout: l, Exe: exe, Protector: DPAPI{}, Logf: logf}, nil
}

// EnsureDataDir creates Root\Data with DataDirSDDL (re-applied if it
// exists, refusing reparse points) and its Configurations directory.
func EnsureDataDir(l Layout) error {
	if err := os.MkdirAll(l.Root, 0o755); err != nil { // inherits Program Files' ACL
		return fmt.Errorf("create %q: %w", l.Root, err)
	}
	sd, err := windows.SecurityDescriptorFromString(DataDirSDDL)
	if err != nil {
		return fmt.Errorf("parse data directory SDDL: %w", err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	data := l.DataDir()
	data16, err := windows.UTF16PtrFromString(data)
	if err != nil {
		return err
	}
	if err := windows.CreateDirectory(data16, sa); err != nil && err != windows.ERROR_ALREADY_EXISTS {
		return fmt.Errorf("create %q: %w", data, err)
	}
	h, err := windows.CreateFile(data16, windows.READ_CONTROL|windows.WRITE_OWNER|windows.WRITE_DAC,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_ATTRIBUTE_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("open %q: %w", data, err)
	}
	defer windows.CloseHandle(h)
	var fi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &fi); err != nil {
		return fmt.Errorf("stat %q: %w", data, err)
	}
	if fi.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY == 0 || fi.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		return fmt.Errorf("%q is not a plain directory: remove it and try again", data)
	}
	if err := windows.SetKernelObjectSecurity(h, windows.DACL_SECURITY_INFORMATION|windows.GROUP_SECURITY_INFORMATION|
		windows.OWNER_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, sd); err != nil {
		return fmt.Errorf("lock down %q: %w", data, err)
	}
	if err := os.MkdirAll(l.ConfigDir(), 0o700); err != nil {
		return fmt.Errorf("create %q: %w", l.ConfigDir(), err)
	}
	return nil
}

// Install implements Privileged (see Installer.Install).
func (s *SCM) Install(name string, wgQuick []byte) error {
	return s.withInstaller(func(in *Installer) error { return in.Install(name, wgQuick) })
}

// Remove implements Privileged.
func (s *SCM) Remove(name string) error {
	return s.withInstaller(func(in *Installer) error { return in.Remove(name) })
}

// RemoveSealed implements SealedRemover.
func (s *SCM) RemoveSealed(installed []string) ([]string, error) {
	in := &Installer{Layout: s.Layout, Exe: s.Exe}
	return in.RemoveSealed(installed)
}

func (s *SCM) withInstaller(f func(*Installer) error) error {
	m, err := connectSCM()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	return f(&Installer{
		Layout:        s.Layout,
		Exe:           s.Exe,
		Protector:     s.Protector,
		Services:      &services{m: m, layout: s.Layout, logf: s.Logf},
		EnsureDataDir: EnsureDataDir,
	})
}

// services is the ServiceManager of the real service manager.
type services struct {
	m      *mgr.Mgr
	layout Layout
	logf   func(string, ...any)
}

func (sm *services) Delete(name string) error { return removeService(sm.m, name) }

func (sm *services) Create(spec ServiceSpec) error {
	service, err := sm.m.CreateService(spec.Name, spec.Exe, mgr.Config{
		ServiceType:  windows.SERVICE_WIN32_OWN_PROCESS,
		StartType:    mgr.StartAutomatic,
		ErrorControl: mgr.ErrorNormal,
		Dependencies: spec.Dependencies,
		DisplayName:  spec.DisplayName,
		Description:  spec.Description,
		SidType:      windows.SERVICE_SID_TYPE_UNRESTRICTED,
	}, spec.Args...)
	if err != nil {
		return err
	}
	return service.Close()
}

func (sm *services) Start(name string) error {
	service, err := sm.m.OpenService(name)
	if err != nil {
		return fmt.Errorf("open service %s: %w", name, err)
	}
	defer service.Close()
	if err := service.Start(); err != nil {
		return fmt.Errorf("start service %s: %w", name, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := service.Query()
		if err != nil {
			return fmt.Errorf("query service %s: %w", name, err)
		}
		switch st.State {
		case svc.Running:
			sm.logf("service %s running", name)
			return nil
		case svc.Stopped:
			why := error(windows.Errno(st.Win32ExitCode))
			if st.Win32ExitCode == uint32(windows.ERROR_SERVICE_SPECIFIC_ERROR) {
				why = wgservices.Error(st.ServiceSpecificExitCode)
			}
			return fmt.Errorf("tunnel service %s stopped at start: %w (%s)", name, why, SeeLog)
		}
	}
	return fmt.Errorf("tunnel service %s did not start within 30 s (%s)", name, SeeLog)
}

// removeService stops and deletes a service and waits until it is gone.
func removeService(m *mgr.Mgr, name string) error {
	service, err := m.OpenService(name)
	if err == windows.ERROR_SERVICE_DOES_NOT_EXIST {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open service %s: %w", name, err)
	}
	service.Control(svc.Stop) // an already stopped service says so; fine
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := service.Query()
		if err != nil || st.State == svc.Stopped {
			break
		}
	}
	err = service.Delete()
	service.Close()
	if err != nil && err != windows.ERROR_SERVICE_MARKED_FOR_DELETE {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		s, err := m.OpenService(name)
		if err == windows.ERROR_SERVICE_DOES_NOT_EXIST {
			return nil
		}
		if err == nil {
			s.Close()
		}
	}
	return fmt.Errorf("service %s is still marked for deletion: close services.msc and try again", name)
}

// Installed implements Privileged.
func (s *SCM) Installed() ([]string, error) { return listTunnels(false) }

// RunningTunnels lists the tunnels whose service is running or starting
// (StateOfService(...).Up()); the status of a starting one says so
// (DeviceReader). It needs no administrator.
func RunningTunnels() ([]string, error) { return listTunnels(true) }

func listTunnels(upOnly bool) ([]string, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		return nil, fmt.Errorf("connect to the service manager: %w", err)
	}
	m := &mgr.Mgr{Handle: h}
	defer m.Disconnect()
	all, err := m.ListServices()
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var names []string
	for _, svcName := range all {
		name, ok := TunnelOfService(svcName)
		if !ok {
			continue
		}
		if upOnly && !serviceState(h, svcName).Up() {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// serviceState is the tunnel state of service svcName; TunnelDown if it
// cannot be queried.
func serviceState(scm windows.Handle, svcName string) TunnelState {
	n16, err := windows.UTF16PtrFromString(svcName)
	if err != nil {
		return TunnelDown
	}
	sh, err := windows.OpenService(scm, n16, windows.SERVICE_QUERY_STATUS)
	if err != nil {
		return TunnelDown
	}
	defer windows.CloseServiceHandle(sh)
	var st windows.SERVICE_STATUS
	if err := windows.QueryServiceStatus(sh, &st); err != nil {
		return TunnelDown
	}
	return StateOfService(st.CurrentState)
}

// TunnelServiceState is the state of tunnel name's service, asked without
// administrator rights.
func TunnelServiceState(name string) TunnelState {
	svcName, err := ServiceName(name)
	if err != nil {
		return TunnelDown
	}
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return TunnelDown
	}
	defer windows.CloseServiceHandle(h)
	return serviceState(h, svcName)
}

// connectSCM connects to the service manager, saying what it takes when
// it cannot.
func connectSCM() (*mgr.Mgr, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, fmt.Errorf("connect to the service manager (run as administrator): %w", err)
	}
	return m, nil
}

// controller is the ServiceControl of the real service manager.
type controller struct{}

func (controller) Running() ([]string, error) { return RunningTunnels() }

func (controller) Stop(name string) error {
	svcName, err := ServiceName(name)
	if err != nil {
		return err
	}
	m, err := connectSCM()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	service, err := m.OpenService(svcName)
	if err != nil {
		return fmt.Errorf("open service %s: %w", svcName, err)
	}
	defer service.Close()
	service.Control(svc.Stop) // an already stopped service says so; fine
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := service.Query()
		if err != nil {
			return fmt.Errorf("query service %s: %w", svcName, err)
		}
		if st.State == svc.Stopped {
			return nil
		}
	}
	return fmt.Errorf("service %s did not stop within 20 s", svcName)
}

func (controller) Start(name string) error {
	svcName, err := ServiceName(name)
	if err != nil {
		return err
	}
	m, err := connectSCM()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	return (&services{m: m, logf: func(string, ...any) {}}).Start(svcName)
}
