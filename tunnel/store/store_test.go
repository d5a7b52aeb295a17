package store

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

var cmpOpts = []cmp.Option{cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{})}

func newConfig(t testing.TB, name string) *conf.Config {
	t.Helper()
	priv, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	peer, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &conf.Config{
		Name: name,
		Interface: conf.Interface{
			PrivateKey: priv,
			ListenPort: 51820,
			Addresses:  []netip.Prefix{netip.MustParsePrefix("10.77.1.1/24")},
			Meta:       conf.InterfaceMeta{DisplayName: "Alice"},
		},
		Peers: []conf.Peer{{
			PublicKey:           peer.PublicKey(),
			AllowedIPs:          []netip.Prefix{netip.MustParsePrefix("10.77.1.2/32")},
			Endpoint:            conf.Endpoint{Host: "127.0.0.1", Port: 51821},
			PersistentKeepalive: conf.DefaultKeepalive,
			Meta:                conf.PeerMeta{Name: "Bob"},
		}},
	}
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", s.Dir(), dir)
	}
	if got := perm(t, dir); got != 0o700 {
		t.Errorf("dir mode = %o, want 700", got)
	}
}

func TestOpenTightensWideDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	leaky := filepath.Join(dir, "old.conf")
	if err := os.WriteFile(leaky, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(leaky, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, dir); got != 0o700 {
		t.Errorf("dir mode = %o, want 700", got)
	}
	if got := perm(t, leaky); got != 0o600 {
		t.Errorf("old.conf mode = %o, want 600", got)
	}
}

func TestOpenRefusesFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(file) = %v, want not a directory", err)
	}
}

func TestCreateLoadSaveRemove(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, "wgp0")
	if err := s.Create(cfg); err != nil {
		t.Fatalf("Create: %v", err)
	}
	path := filepath.Join(s.Dir(), "wgp0.conf")
	if got := perm(t, path); got != 0o600 {
		t.Errorf("file mode = %o, want 600", got)
	}
	if err := s.Create(newConfig(t, "wgp0")); !errors.Is(err, ErrExists) {
		t.Errorf("second Create = %v, want ErrExists", err)
	}
	got, err := s.Load("wgp0")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(cfg, got, cmpOpts...); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	cfg.Interface.ListenPort = 40000
	if err := s.Save(cfg); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err = s.Load("wgp0")
	if err != nil || got.Interface.ListenPort != 40000 {
		t.Fatalf("Load after Save: port %v, err %v", got, err)
	}
	if got := perm(t, path); got != 0o600 {
		t.Errorf("file mode after Save = %o, want 600", got)
	}
	if err := s.Remove("wgp0"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Load("wgp0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Remove = %v, want ErrNotFound", err)
	}
	if err := s.Remove("wgp0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	assertNoTemp(t, s.Dir())
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestSaveInvalidKeepsOldFile(t *testing.T) {
	s, cfg, path := savedStore(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := cfg.Clone()
	bad.Peers[0].PublicKey = bad.Interface.PrivateKey.PublicKey()
	err = s.Save(bad)
	if err == nil {
		t.Fatal("Save accepted a peer with our own key")
	}
	if strings.Contains(err.Error(), cfg.Interface.PrivateKey.String()) {
		t.Errorf("error %q contains the private key", err)
	}
	bad = cfg.Clone()
	bad.Peers[0].Meta.Name = "a\nb"
	if err := s.Save(bad); err == nil {
		t.Fatal("Save accepted a name with a newline")
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("failed Save changed the file")
	}
	assertNoTemp(t, s.Dir())
}

func TestSaveFailingWriteKeepsOldFile(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores directory permissions; use a full directory instead.
		t.Skip("root bypasses read-only directories")
	}
	s, cfg, path := savedStore(t)
	before, _ := os.ReadFile(path)
	if err := os.Chmod(s.Dir(), 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(s.Dir(), 0o700)
	cfg.Interface.ListenPort = 1234
	if err := s.Save(cfg); err == nil {
		t.Fatal("Save into a read-only directory succeeded")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("failed Save changed the file")
	}
}

func TestWriteFileAtomicFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFileAtomic(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory where the file's rename target would be fails the rename
	// step after the temp file is written: the temp file must go away.
	sub := filepath.Join(dir, "d")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(sub, []byte("new"), 0o600); err == nil {
		t.Fatal("WriteFileAtomic over a non-empty directory succeeded")
	}
	assertNoTemp(t, dir)
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFileAtomic into a missing directory succeeded")
	}
	got, _ := os.ReadFile(path)
	if string(got) != "old" {
		t.Errorf("file = %q, want old", got)
	}
	if err := WriteFileAtomic(path, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, path); got != 0o640 {
		t.Errorf("mode = %o, want 640", got)
	}
}

func TestLoadBrokenFile(t *testing.T) {
	s, cfg, path := savedStore(t)
	data, _ := os.ReadFile(path)
	broken := bytes.Replace(data, []byte("ListenPort = 51820"), []byte("ListenPort = 99999"), 1)
	if err := os.WriteFile(path, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load("wgp0")
	if err == nil {
		t.Fatal("Load accepted a broken file")
	}
	var pe *conf.ParseError
	if !errors.As(err, &pe) || pe.Line == 0 {
		t.Errorf("error %v does not wrap a *conf.ParseError with a line", err)
	}
	for _, want := range []string{path, "line ", "99999", "fix or remove " + path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), cfg.Interface.PrivateKey.String()) {
		t.Errorf("error contains the private key")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, broken) {
		t.Error("Load changed the broken file")
	}
	// The broken tunnel is still listed so the user can see and fix it.
	names, err := s.List()
	if err != nil || len(names) != 1 || names[0] != "wgp0" {
		t.Errorf("List = %v, %v", names, err)
	}
}

func TestList(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "a", "wgp.0"} {
		if err := s.Create(newConfig(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	junk := []string{".b.conf.123.tmp", "notes.txt", "a.conf~", "settings.json", "bad name.conf", "waytoolongname123.conf"}
	for _, j := range junk {
		if err := os.WriteFile(filepath.Join(s.Dir(), j), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), "dir.conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "wgp.0"}, got); diff != "" {
		t.Errorf("List mismatch (-want +got):\n%s", diff)
	}
}

func TestNamesValidated(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(s.Dir()), "evil.conf")
	for _, name := range []string{"../evil", "..", ".", "", "a/b", `a\b`, "-x", "has space", "sixteen-chars-xx"} {
		if _, err := s.Load(name); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Load(%q) = %v, want a name error", name, err)
		}
		cfg := newConfig(t, name)
		if err := s.Save(cfg); err == nil {
			t.Errorf("Save(%q) succeeded", name)
		}
		if err := s.Create(cfg); err == nil {
			t.Errorf("Create(%q) succeeded", name)
		}
		if err := s.Remove(name); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Remove(%q) = %v, want a name error", name, err)
		}
		if err := s.Rename("x", name); err == nil {
			t.Errorf("Rename to %q succeeded", name)
		}
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("a file was written outside the state directory")
	}
}

func TestRename(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, b := newConfig(t, "a"), newConfig(t, "b")
	for _, c := range []*conf.Config{a, b} {
		if err := s.Create(c); err != nil {
			t.Fatal(err)
		}
	}
	bPath := filepath.Join(s.Dir(), "b.conf")
	bBefore, _ := os.ReadFile(bPath)
	if err := s.Rename("a", "b"); !errors.Is(err, ErrExists) {
		t.Errorf("Rename onto existing = %v, want ErrExists", err)
	}
	if bAfter, _ := os.ReadFile(bPath); !bytes.Equal(bBefore, bAfter) {
		t.Error("refused Rename changed the target")
	}
	if err := s.Rename("nope", "c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Rename of missing = %v, want ErrNotFound", err)
	}
	if err := s.Rename("a", "c"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	got, err := s.Load("c")
	if err != nil {
		t.Fatal(err)
	}
	want := a.Clone()
	want.Name = "c"
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("renamed tunnel mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Load("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old name still loads: %v", err)
	}
}

func TestSettings(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Settings{}, st); diff != "" {
		t.Errorf("default settings (-want +got):\n%s", diff)
	}
	want := Settings{STUNServers: []string{"127.0.0.1:3478", "stun.example:3478"}, Group: "wgpunch", RouterForgetSeconds: 60, PathRetrySeconds: 120}
	if err := s.SaveSettings(want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), "settings.json")
	if got := perm(t, path); got != 0o600 {
		t.Errorf("settings mode = %o, want 600", got)
	}
	got, err := s.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings round trip (-want +got):\n%s", diff)
	}
	if err := s.SaveSettings(Settings{STUNServers: []string{"a b"}}); err == nil {
		t.Error("SaveSettings accepted a server with a space")
	}
	if err := s.SaveSettings(Settings{RouterForgetSeconds: 5}); err == nil || !strings.Contains(err.Error(), "10 to 300") {
		t.Errorf("router_forget_seconds 5: %v, want out of range", err)
	}
	if err := s.SaveSettings(Settings{PathRetrySeconds: 10}); err == nil || !strings.Contains(err.Error(), "30 to 3600") {
		t.Errorf("path_retry_seconds 10: %v, want out of range", err)
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSettings(); err == nil || !strings.Contains(err.Error(), "fix or remove "+path) {
		t.Errorf("broken settings: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "{broken" {
		t.Error("LoadSettings changed a broken file")
	}
}

func TestUpSet(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadUpSet()
	if err != nil || got != nil {
		t.Fatalf("empty up set = %v, %v", got, err)
	}
	if err := s.SaveUpSet([]string{"a", "wgp0"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.LoadUpSet()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "wgp0"}, got); diff != "" {
		t.Errorf("up set (-want +got):\n%s", diff)
	}
	if err := s.SaveUpSet([]string{"../x"}); err == nil {
		t.Error("SaveUpSet accepted ../x")
	}
	if err := s.SaveUpSet(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LoadUpSet(); err != nil || len(got) != 0 {
		t.Errorf("cleared up set = %v, %v", got, err)
	}
	if got := perm(t, filepath.Join(s.Dir(), "up.json")); got != 0o600 {
		t.Errorf("up.json mode = %o", got)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "up.json"), []byte(`["../../etc"]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadUpSet(); err == nil {
		t.Error("LoadUpSet accepted ../../etc")
	}
}

func TestDefaultDir(t *testing.T) {
	d := DefaultDir()
	if os.Geteuid() == 0 {
		if d != "/var/lib/wgpunch" {
			t.Errorf("DefaultDir() as root = %q", d)
		}
		return
	}
	if filepath.Base(d) != "wgpunch" && filepath.Base(d) != ".wgpunch" {
		t.Errorf("DefaultDir() = %q", d)
	}
}

func TestSaveFaultsKeepOldFile(t *testing.T) {
	s, cfg, path := savedStore(t)
	before, _ := os.ReadFile(path)
	for _, stage := range []string{"write", "sync", "rename"} {
		t.Run(stage, func(t *testing.T) {
			s.w.fault = func(s string) error {
				if s == stage {
					return errors.New("injected fault")
				}
				return nil
			}
			defer func() { s.w.fault = nil }()
			c := cfg.Clone()
			c.Interface.ListenPort = 1234
			if err := s.Save(c); err == nil || !strings.Contains(err.Error(), "injected fault") {
				t.Fatalf("Save = %v, want the injected fault", err)
			}
			if err := s.Create(newConfig(t, "other")); err == nil {
				t.Fatalf("Create succeeded despite fault at %s", stage)
			}
			if _, err := os.Stat(filepath.Join(s.Dir(), "other.conf")); err == nil {
				t.Errorf("failed Create left other.conf")
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Errorf("failed Save changed the file")
			}
			assertNoTemp(t, s.Dir())
		})
	}
}

func TestOpenRefusesForeignDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "belongs to user id 65534") {
		t.Errorf("Open(foreign dir) = %v", err)
	}
}

func TestLoadRefusesSymlink(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere.conf")
	if err := os.WriteFile(target, newConfig(t, "x").Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(s.Dir(), "link.conf")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("link"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(symlink) = %v", err)
	}
	if names, _ := s.List(); len(names) != 0 {
		t.Errorf("List = %v, want no tunnels", names)
	}
}

// savedStore opens a store in a fresh directory holding one saved tunnel,
// wgp0, and returns the store, the tunnel and its file.
func savedStore(t *testing.T) (*Store, *conf.Config, string) {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, "wgp0")
	if err := s.Save(cfg); err != nil {
		t.Fatal(err)
	}
	return s, cfg, filepath.Join(s.Dir(), "wgp0.conf")
}
