package winsvc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeServices is a ServiceManager in memory.
type fakeServices struct {
	services              map[string]ServiceSpec
	running               map[string]bool
	failCreate, failStart bool
	calls                 []string
}

func newFakeServices() *fakeServices {
	return &fakeServices{services: map[string]ServiceSpec{}, running: map[string]bool{}}
}

func (f *fakeServices) Delete(name string) error {
	f.calls = append(f.calls, "delete "+name)
	delete(f.services, name)
	delete(f.running, name)
	return nil
}

func (f *fakeServices) Create(spec ServiceSpec) error {
	f.calls = append(f.calls, "create "+spec.Name)
	f.services[spec.Name] = spec
	if f.failCreate {
		// Registered, then a setting refused (as Wine refuses the SID type).
		return errors.New("access is denied")
	}
	return nil
}

func (f *fakeServices) Start(name string) error {
	f.calls = append(f.calls, "start "+name)
	if f.failStart {
		return errors.New("tunnel service " + name + " stopped at start: unable to create network adapter")
	}
	f.running[name] = true
	return nil
}

// Installed lists the tunnels with a service, as the SCM's does.
func (f *fakeServices) Installed() ([]string, error) {
	var names []string
	for s := range f.services {
		if n, ok := TunnelOfService(s); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// testInstaller is an Installer below a temporary "Program Files" with the
// program in its place.
func testInstaller(t *testing.T) (*Installer, *fakeServices) {
	t.Helper()
	l := Layout{Root: filepath.Join(t.TempDir(), "WG Punch")}
	sm := newFakeServices()
	return &Installer{Layout: l, Exe: l.ServiceExe(), Protector: fakeProtector{}, Services: sm}, sm
}

// sealedFiles lists the configuration directory.
func sealedFiles(t *testing.T, l Layout) []string {
	t.Helper()
	entries, err := os.ReadDir(l.ConfigDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

const testConf = "[Interface]\nPrivateKey = secret\n"

func TestInstallerInstall(t *testing.T) {
	in, sm := testInstaller(t)
	if err := in.Install("office", []byte(testConf)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"office.conf.dpapi"}, sealedFiles(t, in.Layout)); diff != "" {
		t.Errorf("sealed files (-want +got):\n%s", diff)
	}
	spec := sm.services[ServicePrefix+"office"]
	if spec.Exe != in.Layout.ServiceExe() || !sm.running[ServicePrefix+"office"] {
		t.Errorf("service %+v running=%v; want the installed exe, running", spec, sm.running[ServicePrefix+"office"])
	}
	if err := in.Remove("office"); err != nil {
		t.Fatal(err)
	}
	if got := sealedFiles(t, in.Layout); len(got) != 0 || len(sm.services) != 0 {
		t.Errorf("after Remove: files %v, services %v; want none", got, sm.services)
	}
}

// A failed install leaves no service and no sealed config (with the
// private key) behind, also when it replaced a working one.
func TestInstallerFailureLeavesNothing(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		failCreate, failStart bool
		want                  string
	}{
		{"create fails", true, false, "create service WGPunchTunnel$office: access is denied"},
		{"start fails", false, true, "stopped at start"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, sm := testInstaller(t)
			sm.failCreate, sm.failStart = tt.failCreate, tt.failStart
			err := in.Install("office", []byte(testConf))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Install = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the private key", err)
			}
			if got := sealedFiles(t, in.Layout); len(got) != 0 {
				t.Errorf("a failed install left %v in %s", got, in.Layout.ConfigDir())
			}
			if len(sm.services) != 0 {
				t.Errorf("a failed install left the services %v registered (auto-start at every boot)", sm.services)
			}
		})
	}
}

// The services run as LocalSystem: their program must be the installed
// copy, never one the user can overwrite.
func TestInstallerRefusesUserWritableExe(t *testing.T) {
	in, sm := testInstaller(t)
	in.Exe = filepath.Join(t.TempDir(), "Downloads", "wgpunch.exe")
	err := in.Install("office", []byte(testConf))
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Install from %s = %v, want ErrNotInstalled", in.Exe, err)
	}
	for _, want := range []string{in.Exe, in.Layout.ServiceExe(), "installer", ".msi"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(sm.calls) != 0 || len(sealedFiles(t, in.Layout)) != 0 {
		t.Errorf("refused install still called %v and wrote %v", sm.calls, sealedFiles(t, in.Layout))
	}
}

func TestCheckServiceExe(t *testing.T) {
	l := Layout{Root: filepath.Join("pf", "WG Punch")}
	for _, tt := range []struct {
		exe string
		ok  bool
	}{
		{filepath.Join("pf", "WG Punch", "wgpunch.exe"), true},
		{filepath.Join("pf", "wg punch", "WGPUNCH.EXE"), true}, // Windows ignores case
		{filepath.Join("pf", "WG Punch", "sub", "..", "wgpunch.exe"), true},
		{filepath.Join("pf", "WG Punch", "Data", "wgpunch.exe"), false},
		{filepath.Join("Users", "me", "Downloads", "wgpunch.exe"), false},
		{filepath.Join("pf", "WG Punch", "other.exe"), false},
		{"", false},
	} {
		if err := CheckServiceExe(l, tt.exe); (err == nil) != tt.ok {
			t.Errorf("CheckServiceExe(%q) = %v, want ok=%v", tt.exe, err, tt.ok)
		}
	}
}

// installerPriv is the elevated side: an Installer listing services.
type installerPriv struct {
	*Installer
	sm *fakeServices
}

func (p installerPriv) Installed() ([]string, error) { return p.sm.Installed() }

// Uninstall deletes every sealed config, also one without a service (an
// older version's failed start, a crash between writing and creating).
func TestUninstallAllRemovesOrphanedConfigs(t *testing.T) {
	in, sm := testInstaller(t)
	if err := in.Install("office", []byte(testConf)); err != nil {
		t.Fatal(err)
	}
	for _, orphan := range []string{"home.conf.dpapi", ".tmp-123"} {
		if err := os.WriteFile(filepath.Join(in.Layout.ConfigDir(), orphan), []byte("sealed key"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var res Result
	if err := UninstallAll(installerPriv{in, sm}, &res); err != nil {
		t.Fatal(err)
	}
	if got := sealedFiles(t, in.Layout); len(got) != 0 {
		t.Errorf("after uninstall %s still holds %v", in.Layout.ConfigDir(), got)
	}
	if diff := cmp.Diff([]string{"office", "home"}, res.Names); diff != "" {
		t.Errorf("result names (-want +got):\n%s", diff)
	}
}

// A tunnel whose service could not be removed keeps its config: the
// service still needs it.
func TestUninstallAllKeepsConfigOfServiceLeft(t *testing.T) {
	in, sm := testInstaller(t)
	if err := in.Install("office", []byte(testConf)); err != nil {
		t.Fatal(err)
	}
	stuck := stuckRemove{installerPriv{in, sm}}
	if err := UninstallAll(stuck, nil); err == nil {
		t.Fatal("UninstallAll hid the failed removal")
	}
	if diff := cmp.Diff([]string{"office.conf.dpapi"}, sealedFiles(t, in.Layout)); diff != "" {
		t.Errorf("sealed files (-want +got):\n%s", diff)
	}
}

type stuckRemove struct{ installerPriv }

func (stuckRemove) Remove(string) error { return errors.New("service is still marked for deletion") }
