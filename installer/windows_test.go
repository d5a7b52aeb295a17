package installer

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// Resource types (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

// resources maps resource type -> the data of its first leaf.
func resources(t *testing.T, path string) map[uint32][]byte {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s is not a PE file: %v", path, err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("%s is not a PE32+ (64-bit) image", path)
	}
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("machine %#x, want AMD64", f.Machine)
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("subsystem %d, want %d (Windows GUI: no console window for the tray app)", oh.Subsystem, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}
	sec := f.Section(".rsrc")
	if sec == nil {
		t.Fatal("no .rsrc section: icon, version and manifest are missing")
	}
	data, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	dir := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	if dir.VirtualAddress != sec.VirtualAddress {
		t.Fatalf("resource directory at %#x, .rsrc at %#x", dir.VirtualAddress, sec.VirtualAddress)
	}
	u16 := func(off uint32) uint32 { return uint32(binary.LittleEndian.Uint16(data[off:])) }
	u32 := func(off uint32) uint32 { return binary.LittleEndian.Uint32(data[off:]) }
	// entries of the directory at off: id -> offset (high bit: subdirectory)
	entries := func(off uint32) [][2]uint32 {
		n := u16(off+12) + u16(off+14)
		var es [][2]uint32
		for i := uint32(0); i < n; i++ {
			e := off + 16 + 8*i
			es = append(es, [2]uint32{u32(e), u32(e + 4)})
		}
		return es
	}
	out := map[uint32][]byte{}
	for _, typ := range entries(0) {
		off := typ[1]
		for off&0x80000000 != 0 { // descend name and language levels to the first leaf
			es := entries(off &^ 0x80000000)
			if len(es) == 0 {
				t.Fatalf("empty resource directory for type %d", typ[0])
			}
			off = es[0][1]
		}
		rva, size := u32(off), u32(off+4)
		start := rva - sec.VirtualAddress
		out[typ[0]] = data[start : start+size]
	}
	return out
}

func utf16le(s string) []byte {
	var b bytes.Buffer
	for _, r := range utf16.Encode([]rune(s)) {
		binary.Write(&b, binary.LittleEndian, r)
	}
	return b.Bytes()
}

func checkExe(t *testing.T, exe string) {
	t.Helper()
	res := resources(t, exe)
	for typ, name := range map[uint32]string{rtIcon: "icon", rtGroupIcon: "icon group", rtVersion: "version info", rtManifest: "manifest"} {
		if len(res[typ]) == 0 {
			t.Errorf("exe has no %s resource", name)
		}
	}
	manifest := string(res[rtManifest])
	mustContain(t, "manifest", manifest, "<assembly", `level="asInvoker"`)
	if strings.Contains(manifest, "requireAdministrator") {
		t.Error("manifest asks for elevation on every launch; only privileged actions may")
	}
	ver := res[rtVersion]
	for _, want := range []string{"VS_VERSION_INFO", "ProductName", "WG Punch", "0.1.0.0"} {
		if !bytes.Contains(ver, utf16le(want)) {
			t.Errorf("version info lacks %q", want)
		}
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bin, []byte(testCommit)) {
		t.Errorf("exe does not carry the commit %q set with -ldflags -X", testCommit)
	}
}

func TestWindowsDist(t *testing.T) {
	requireDistTests(t, "make", "wixl", "msiinfo", "msiextract", "osslsigncode", "openssl", "x86_64-w64-mingw32-gcc")
	tmp := t.TempDir()
	dist := filepath.Join(tmp, "dist")
	out := filepath.Join(dist, "windows")
	exe := filepath.Join(out, "wgpunch.exe")
	msi := filepath.Join(out, "wgpunch-0.1.0-amd64.msi")
	make := func(t *testing.T, wantOK bool, vars ...string) string {
		t.Helper()
		args := append([]string{"-f", "mk/dist.mk", "dist-windows", "DIST=" + dist, "WIN_TAGS=" + winTags(), "VERSION=0.1.0", "COMMIT=" + testCommit}, vars...)
		return run(t, wantOK, "make", args...)
	}

	t.Run("without DLL: exe only, says the MSI needs it", func(t *testing.T) {
		log := make(t, true)
		mustContain(t, "build log", log, "the MSI needs WireGuardNT's wireguard.dll", "WIREGUARD_NT_ZIP=")
		checkExe(t, exe)
		if _, err := os.Stat(msi); !os.IsNotExist(err) {
			t.Errorf("an MSI was built without wireguard.dll (%v)", err)
		}
		// Unsigned: verification must fail, or the signed check below proves nothing.
		run(t, false, "osslsigncode", "verify", "-in", exe)
	})

	// A stand-in DLL: the real one cannot be downloaded here. The hash check
	// is the real one, told to expect this file.
	dll := filepath.Join(tmp, "wireguard.dll")
	if err := os.WriteFile(dll, []byte("MZ stand-in for wireguard.dll in tests\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("DLL with the wrong hash is refused", func(t *testing.T) {
		log := make(t, false, "WIREGUARD_DLL="+dll)
		mustContain(t, "build log", log, "expected b1b85e07", "official zip")
		zip := filepath.Join(tmp, "wireguard-nt-1.1.zip")
		os.WriteFile(zip, []byte("PK not the real zip"), 0o644)
		log = make(t, false, "WIREGUARD_NT_ZIP="+zip)
		mustContain(t, "build log", log, "dceb30a9bc4be48cce0f74160fc88a585a2c2627366e8f846fc6658f9038dace")
	})

	key, cert := filepath.Join(tmp, "key.pem"), filepath.Join(tmp, "cert.pem")
	run(t, true, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
		"-subj", "/CN=WG Punch test signing", "-keyout", key, "-out", cert,
		"-addext", "extendedKeyUsage=codeSigning")

	t.Run("signed MSI", func(t *testing.T) {
		make(t, true, "WIREGUARD_DLL="+dll, "WIREGUARD_DLL_SHA256="+fileSHA256(t, dll), "SIGN_CERT="+cert, "SIGN_KEY="+key)
		checkExe(t, exe)
		for _, f := range []string{exe, msi} {
			log := run(t, true, "osslsigncode", "verify", "-CAfile", cert, "-in", f)
			mustContain(t, "osslsigncode verify "+filepath.Base(f), log, "Signature verification: ok", "WG Punch test signing")
		}
		checkMSI(t, msi, exe, dll)
	})
}

func msiTable(t *testing.T, msi, table string) string {
	t.Helper()
	return run(t, true, "msiinfo", "export", msi, table)
}

// row finds a tab-separated row whose first column is key.
func row(t *testing.T, table, key string) []string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if f[0] == key {
			return f
		}
	}
	t.Errorf("no row %q in\n%s", key, table)
	return make([]string, 16)
}

func checkMSI(t *testing.T, msi, exe, dll string) {
	t.Helper()
	tables := run(t, true, "msiinfo", "tables", msi)
	mustContain(t, "msi tables", tables, "File", "Shortcut", "Registry", "CustomAction", "Upgrade")

	files := msiTable(t, msi, "File")
	row(t, files, "wgpunch.exe")
	row(t, files, "wireguard.dll")

	dirs := msiTable(t, msi, "Directory")
	if f := row(t, dirs, "INSTALLDIR"); f[1] != "ProgramFiles64Folder" || f[2] != "WG Punch" {
		t.Errorf("INSTALLDIR = %q, want WG Punch in ProgramFiles64Folder", f)
	}

	comps := msiTable(t, msi, "Component")
	if f := row(t, comps, "MainExecutable"); f[3] == "" || !regexp.MustCompile(`^\d+$`).MatchString(f[3]) || mustAtoi(f[3])&256 == 0 {
		t.Errorf("MainExecutable attributes %q: not a 64-bit component", f[3])
	}

	sc := row(t, msiTable(t, msi, "Shortcut"), "WGPunchShortcut")
	if sc[1] != "ProgramMenuFolder" || !strings.Contains(sc[2], "WG Punch") || sc[4] != "[INSTALLDIR]wgpunch.exe" {
		t.Errorf("Start menu shortcut = %q", sc)
	}

	reg := msiTable(t, msi, "Registry")
	// At login the app starts in the tray, window hidden (--tray).
	if !regexp.MustCompile(`\t2\tSoftware\\Microsoft\\Windows\\CurrentVersion\\Run\tWG Punch\t"\[INSTALLDIR\]wgpunch\.exe" --tray\t`).MatchString(reg) {
		t.Errorf("no HKLM Run value starting the tray at login (\"[INSTALLDIR]wgpunch.exe\" --tray):\n%s", reg)
	}
	// The wgpunch: URL protocol (a clicked notification) starts the exe
	// with the link as its only argument, in the 64-bit component that
	// removes it on uninstall.
	for _, want := range []string{
		`\t2\tSoftware\\Classes\\wgpunch\t\tURL:WG Punch\tURLProtocol`,
		`\t2\tSoftware\\Classes\\wgpunch\tURL Protocol\t\tURLProtocol`,
		`\t2\tSoftware\\Classes\\wgpunch\\shell\\open\\command\t\t"\[INSTALLDIR\]wgpunch\.exe" "%1"\tURLProtocol`,
	} {
		if !regexp.MustCompile(want).MatchString(reg) {
			t.Errorf("no Registry row matching %s:\n%s", want, reg)
		}
	}
	if f := row(t, comps, "URLProtocol"); mustAtoi(f[3])&256 == 0 {
		t.Errorf("URLProtocol attributes %q: not a 64-bit component", f[3])
	}
	if !strings.Contains(msiTable(t, msi, "FeatureComponents"), "Complete\tURLProtocol") {
		t.Error("the URLProtocol component is in no feature")
	}
	// The Start menu shortcut opens the window: no --tray there.
	if strings.Contains(sc[5], "--tray") {
		t.Errorf("Start menu shortcut passes %q; it should open the window", sc[5])
	}

	ca := row(t, msiTable(t, msi, "CustomAction"), "UninstallTunnelServices")
	const exeFromFile, ignoreExit, deferred, noImpersonate = 18, 64, 1024, 2048
	if ca[1] != strconv.Itoa(exeFromFile|ignoreExit|deferred|noImpersonate) || ca[2] != "wgpunch.exe" || ca[3] != "/uninstall-services" {
		t.Errorf("uninstall custom action = %q; want a deferred, elevated wgpunch.exe /uninstall-services", ca)
	}
	seq := row(t, msiTable(t, msi, "InstallExecuteSequence"), "UninstallTunnelServices")
	if seq[1] != `REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE` {
		t.Errorf("custom action condition %q: must run on uninstall only, not on upgrade", seq[1])
	}

	// An upgrade stops the running tunnel services (with the installed,
	// old copy) just before the files are replaced and starts them again
	// (with the new copy) just after.
	execSeq := msiTable(t, msi, "InstallExecuteSequence")
	installFiles := mustAtoi(row(t, execSeq, "InstallFiles")[2])
	for _, a := range []struct {
		id, arg string
		before  bool
	}{{"StopTunnelServicesForUpgrade", "/stop-services", true}, {"StartTunnelServicesAfterUpgrade", "/start-services", false}} {
		ca := row(t, msiTable(t, msi, "CustomAction"), a.id)
		if ca[1] != strconv.Itoa(exeFromFile|ignoreExit|deferred|noImpersonate) || ca[2] != "wgpunch.exe" || ca[3] != a.arg {
			t.Errorf("%s = %q; want a deferred, elevated wgpunch.exe %s", a.id, ca, a.arg)
		}
		f := row(t, execSeq, a.id)
		n := mustAtoi(f[2])
		if f[1] != "WIX_UPGRADE_DETECTED" || (a.before && n >= installFiles) || (!a.before && (n <= installFiles || n >= mustAtoi(row(t, execSeq, "InstallFinalize")[2]))) {
			t.Errorf("%s sequenced %q (InstallFiles %d): must run on upgrade, %s the files are replaced, inside the script", a.id, f, installFiles, map[bool]string{true: "before", false: "after"}[a.before])
		}
	}

	props := msiTable(t, msi, "Property")
	if f := row(t, props, "UpgradeCode"); f[1] != "{8B8B0032-67CB-4E90-B8B4-547FBC5C26A4}" {
		t.Errorf("UpgradeCode %q changed: upgrades in place would break", f[1])
	}
	if f := row(t, props, "ProductVersion"); f[1] != "0.1.0.0" {
		t.Errorf("ProductVersion = %q", f[1])
	}
	up := msiTable(t, msi, "Upgrade")
	mustContain(t, "Upgrade table", up, "{8B8B0032-67CB-4E90-B8B4-547FBC5C26A4}", "WIX_UPGRADE_DETECTED")

	// The payload is exactly what was built.
	x := t.TempDir()
	run(t, true, "msiextract", "-C", x, msi)
	var gotExe, gotDLL string
	filepath.Walk(x, func(p string, info os.FileInfo, err error) error {
		switch filepath.Base(p) {
		case "wgpunch.exe":
			gotExe = p
		case "wireguard.dll":
			gotDLL = p
		}
		return nil
	})
	if gotExe == "" || gotDLL == "" {
		t.Fatalf("msiextract found exe %q dll %q", gotExe, gotDLL)
	}
	if !strings.Contains(gotExe, "WG Punch") {
		t.Errorf("exe installs to %q, want below WG Punch", gotExe)
	}
	if fileSHA256(t, gotExe) != fileSHA256(t, exe) || fileSHA256(t, gotDLL) != fileSHA256(t, dll) {
		t.Error("MSI payload differs from the built (signed) exe or the given DLL")
	}
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// winTags is "nogui" (a cgo-free exe in seconds) unless WGPUNCH_DIST_GUI=1
// asks for the real Fyne build (mingw cgo: about 15 minutes when not cached).
func winTags() string {
	if os.Getenv("WGPUNCH_DIST_GUI") == "1" {
		return ""
	}
	return "nogui"
}
