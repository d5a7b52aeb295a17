package assets

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPNGsMatchSVGs checks that the committed PNGs are what "make icons"
// renders from svg/ now, i.e. nobody edited one without the other.
func TestPNGsMatchSVGs(t *testing.T) {
	if _, err := exec.LookPath("rsvg-convert"); err != nil {
		t.Skip("rsvg-convert (librsvg2-bin) not installed")
	}
	tests := []struct {
		svg, png string
		size     string
	}{
		{"app.svg", "app.png", "512"},
		{"tray-connected.svg", "tray-connected.png", "64"},
		{"tray-connecting.svg", "tray-connecting.png", "64"},
		{"tray-problem.svg", "tray-problem.png", "64"},
		{"tray-off.svg", "tray-off.png", "64"},
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), tt.png)
		if b, err := exec.Command("rsvg-convert", "-w", tt.size, "-h", tt.size, filepath.Join("svg", tt.svg), "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("rsvg-convert %s: %v\n%s", tt.svg, err, b)
		}
		fresh, _ := os.ReadFile(out)
		committed, err := os.ReadFile(tt.png)
		if err != nil {
			t.Fatal(err)
		}
		a, b := decode(t, "fresh "+tt.png, fresh), decode(t, tt.png, committed)
		if a.Bounds() != b.Bounds() {
			t.Errorf("%s: %v, svg renders %v: run make icons", tt.png, b.Bounds(), a.Bounds())
			continue
		}
		if !bytes.Equal(alphaMask(a), alphaMask(b)) {
			t.Errorf("%s differs from %s as rendered now: run make icons", tt.png, tt.svg)
		}
	}
}
