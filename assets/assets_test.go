package assets

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func decode(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

// hue sorts the opaque, saturated pixels of img into colour families.
func hue(img image.Image) (counts map[string]int, transparent int) {
	counts = map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if a < 0x8000 {
				transparent++
				continue
			}
			r, g, bl = r>>8, g>>8, bl>>8
			max, min := max(r, g, bl), min(r, g, bl)
			switch {
			case max-min < 24 && max > 235:
				counts["white"]++
			case max-min < 24:
				counts["grey"]++
			case g > r && g > bl:
				counts["green"]++
			case r > g && g > bl && g > r/2:
				counts["amber"]++
			case r > g && r > bl:
				counts["red"]++
			default:
				counts["other"]++
			}
		}
	}
	return counts, transparent
}

func TestTrayIcons(t *testing.T) {
	tests := []struct {
		name   string
		png    []byte
		colour string
	}{
		{"connected", TrayConnectedPNG, "green"},
		{"connecting", TrayConnectingPNG, "amber"},
		{"problem", TrayProblemPNG, "red"},
		{"off", TrayOffPNG, "grey"},
	}
	seen := map[string][]byte{}
	for _, tt := range tests {
		img := decode(t, tt.name, tt.png)
		if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 64 {
			t.Errorf("%s: %dx%d, want 64x64", tt.name, b.Dx(), b.Dy())
		}
		counts, transparent := hue(img)
		if transparent < 64*64/3 {
			t.Errorf("%s: only %d transparent pixels; a tray icon needs a transparent background", tt.name, transparent)
		}
		best := ""
		for c, n := range counts {
			if c != "white" && (best == "" || n > counts[best]) {
				best = c
			}
		}
		if best != tt.colour {
			t.Errorf("%s: dominant colour %s (%v), want %s", tt.name, best, counts, tt.colour)
		}
		// Shapes differ too: the alpha masks must not be the same.
		mask := alphaMask(img)
		for other, m := range seen {
			if bytes.Equal(m, mask) {
				t.Errorf("%s has the same shape as %s", tt.name, other)
			}
		}
		seen[tt.name] = mask
	}
}

func alphaMask(img image.Image) []byte {
	var buf bytes.Buffer
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			_, _, _, a := img.At(x, y).RGBA()
			buf.WriteByte(byte(a >> 14))
		}
	}
	return buf.Bytes()
}

func TestAppIcon(t *testing.T) {
	img := decode(t, "app", AppIconPNG)
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("app icon %dx%d, want 512x512", b.Dx(), b.Dy())
	}
	if _, _, _, a := img.At(256, 256).RGBA(); a != 0xffff {
		t.Error("app icon centre is not opaque")
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Error("app icon corner is not transparent (rounded square expected)")
	}
}
