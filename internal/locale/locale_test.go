package locale

import (
	"os"
	"testing"
)

func TestFixed(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" for no change
	}{
		{"nothing set", nil, ""},
		{"LANG=C", map[string]string{"LANG": "C"}, ""},
		{"LANG=POSIX", map[string]string{"LANG": "POSIX"}, ""},
		{"LANG=en_US.UTF-8", map[string]string{"LANG": "en_US.UTF-8"}, ""},
		{"LANG=de_DE.UTF-8@euro", map[string]string{"LANG": "de_DE.UTF-8@euro"}, ""},
		{"LANG=C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, "en"},
		{"LANG=C.utf8", map[string]string{"LANG": "C.utf8"}, "en"},
		{"LANG=POSIX.UTF-8", map[string]string{"LANG": "POSIX.UTF-8"}, "en"},
		{"LC_ALL=C.UTF-8 wins over LANG", map[string]string{"LC_ALL": "C.UTF-8", "LANG": "de_DE.UTF-8"}, "en"},
		{"LC_ALL=C hides LANGUAGE", map[string]string{"LC_ALL": "C", "LANGUAGE": "C.UTF-8"}, ""},
		{"LC_MESSAGES=C.UTF-8", map[string]string{"LC_MESSAGES": "C.UTF-8", "LANG": "en_GB.UTF-8"}, "en"},
		{"LC_ALL=en_US.UTF-8 wins over LANG=C.UTF-8", map[string]string{"LC_ALL": "en_US.UTF-8", "LANG": "C.UTF-8"}, ""},
		{"LANGUAGE rescues C.UTF-8", map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "de_DE:fr"}, ""},
		{"LANGUAGE with C entries", map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "C.UTF-8:de::fr_FR"}, "de:fr_FR"},
		{"LANGUAGE only C", map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "C.UTF-8"}, "en"},
		{"modifier after the territory", map[string]string{"LANG": "ca_ES@valencia"}, "en"},
		{"UN M.49 territory", map[string]string{"LANG": "es_419.UTF-8"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := fixed(func(name string) string { return tt.env[name] })
			if changed != (tt.want != "") || got != tt.want {
				t.Errorf("fixed() = %q, %v; want %q, %v", got, changed, tt.want, tt.want != "")
			}
		})
	}
}

// TestApplyRestore: Apply sets LANGUAGE, Restore puts back what was there
// (nothing, or the old value), and Apply after Restore applies again.
func TestApplyRestore(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("LANGUAGE", "")
	for _, before := range []string{"", "C"} {
		if before == "" {
			os.Unsetenv("LANGUAGE")
		} else {
			os.Setenv("LANGUAGE", before)
		}
		saved, set = false, false
		Apply()
		if got := os.Getenv("LANGUAGE"); got != "en" {
			t.Fatalf("after Apply (LANGUAGE was %q): LANGUAGE=%q, want en", before, got)
		}
		Restore()
		if got := os.Getenv("LANGUAGE"); got != before {
			t.Fatalf("after Restore: LANGUAGE=%q, want %q", got, before)
		}
		Apply()
		if got := os.Getenv("LANGUAGE"); got != "en" {
			t.Fatalf("after Apply again: LANGUAGE=%q, want en", got)
		}
		Restore()
		if got, ok := os.LookupEnv("LANGUAGE"); got != before || ok != (before != "") {
			t.Fatalf("after Restore again: LANGUAGE=%q, want %q", got, before)
		}
	}
}
