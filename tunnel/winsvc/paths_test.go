package winsvc

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestLayout(t *testing.T) {
	l := Layout{Root: filepath.Join("pf", "WG Punch")}
	if got, want := l.DataDir(), filepath.Join("pf", "WG Punch", "Data"); got != want {
		t.Errorf("DataDir = %q, want %q", got, want)
	}
	got, err := l.ConfigPath("office")
	if want := filepath.Join("pf", "WG Punch", "Data", "Configurations", "office.conf.dpapi"); err != nil || got != want {
		t.Errorf("ConfigPath = %q, %v; want %q", got, err, want)
	}
	if !strings.HasPrefix(l.LogPath(), l.DataDir()) {
		t.Errorf("LogPath %q is outside the locked-down data dir", l.LogPath())
	}
	if _, err := l.ConfigPath("../evil"); err == nil {
		t.Error("ConfigPath accepted a path traversal")
	}
}

func TestNameFromPath(t *testing.T) {
	tests := []struct {
		path, want string
		ok         bool
	}{
		{`C:\Program Files\WG Punch\Data\Configurations\office.conf.dpapi`, "office", true},
		{"/tmp/req/home.conf", "home", true},
		{"office.conf.dpapi", "office", true},
		{".conf.dpapi", "", false},
		{"office.txt", "", false},
		{`C:\x\bad name.conf`, "", false},
	}
	for _, tt := range tests {
		got, err := NameFromPath(tt.path)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NameFromPath(%q) = %q, %v; want %q ok=%v", tt.path, got, err, tt.want, tt.ok)
		}
	}
}

// TestDataDirSDDL checks the descriptor's meaning, not just its spelling:
// owner and group SYSTEM, a protected DACL, full access for exactly SYSTEM
// and the built-in Administrators, inherited by files and subdirectories.
func TestDataDirSDDL(t *testing.T) {
	m := regexp.MustCompile(`^O:(\w+)G:(\w+)D:(\w*)((?:\([^)]*\))+)$`).FindStringSubmatch(DataDirSDDL)
	if m == nil {
		t.Fatalf("DataDirSDDL %q is not O:G:D: form", DataDirSDDL)
	}
	if m[1] != "SY" || m[2] != "SY" {
		t.Errorf("owner/group = %s/%s, want SY/SY", m[1], m[2])
	}
	if !strings.Contains(m[3], "P") {
		t.Errorf("DACL flags %q: not protected from inheritance", m[3])
	}
	trustees := map[string]bool{}
	for _, ace := range regexp.MustCompile(`\(([^)]*)\)`).FindAllStringSubmatch(m[4], -1) {
		f := strings.Split(ace[1], ";")
		if len(f) != 6 {
			t.Fatalf("ACE %q has %d fields", ace[1], len(f))
		}
		if f[0] != "A" || f[2] != "FA" || f[1] != "OICI" {
			t.Errorf("ACE %q: want an inherited (OICI) full-access allow", ace[1])
		}
		trustees[f[5]] = true
	}
	if len(trustees) != 2 || !trustees["SY"] || !trustees["BA"] {
		t.Errorf("trustees = %v, want exactly SYSTEM (SY) and Administrators (BA)", trustees)
	}
}
