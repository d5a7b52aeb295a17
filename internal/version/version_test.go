package version

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	old := Version
	defer func() { Version = old }()
	Version = "9.8.7"
	Commit = "abc1234"
	s := String()
	for _, want := range []string{"wgpunch 9.8.7", "abc1234"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
}
