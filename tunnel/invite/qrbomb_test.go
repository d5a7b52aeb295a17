package invite

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// allocated returns the bytes fn allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeQRBomb: a real 8192x8192 PNG (small on disk, 64 megapixels)
// is refused from its header: fast, with almost no memory, and saying
// what to do. Before the 16-megapixel cap it took 1.1 GiB and 9 s.
func TestDecodeQRBomb(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8192, 8192))); err != nil {
		t.Fatal(err)
	}
	t.Logf("bomb: %d KiB on disk", buf.Len()>>10)
	path := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	start := time.Now()
	n := allocated(func() { _, err = DecodeQRFile(path) })
	took := time.Since(start)
	t.Logf("refused in %v, %d KiB allocated", took, n>>10)
	if !errors.Is(err, ErrImageTooBig) || !strings.Contains(err.Error(), "8192x8192") || !strings.Contains(err.Error(), "crop it") {
		t.Fatalf("DecodeQRFile(bomb) = %v, want ErrImageTooBig naming the size and what to do", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing the bomb allocated %d KiB, want < 1 MiB", n>>10)
	}
	if took > 2*time.Second {
		t.Errorf("refusing the bomb took %v", took)
	}
	// Handed over already decoded, it is refused as well.
	if _, err := DecodeQRImage(image.NewGray(image.Rect(0, 0, 8192, 8192))); !errors.Is(err, ErrImageTooBig) {
		t.Errorf("DecodeQRImage(8192x8192) = %v, want ErrImageTooBig", err)
	}
}

// TestDecodeQRLargeBounded: an image at the cap with no code in it is
// scanned in bounded memory: a few bytes per pixel, not a boxed color per
// pixel as before.
func TestDecodeQRLargeBounded(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4096, 4096))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var err error
	start := time.Now()
	n := allocated(func() { _, err = DecodeQRImage(img) })
	t.Logf("4096x4096 without a code: %v, %d MiB allocated", time.Since(start), n>>20)
	if !errors.Is(err, ErrNoQRCode) {
		t.Fatalf("DecodeQRImage(blank) = %v, want ErrNoQRCode", err)
	}
	if px := uint64(4096 * 4096); n > 16*px {
		t.Errorf("allocated %d MiB for %d megapixels, want at most 16 bytes per pixel", n>>20, px/1e6)
	}
}

// TestToGray: the fast paths give what the generic path (gozxing's own
// formula) gives.
func TestToGray(t *testing.T) {
	src := image.NewNRGBA(image.Rect(3, 5, 40, 30))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 37)
	}
	rgba := image.NewRGBA(src.Rect)
	pal := image.NewPaletted(src.Rect, nil)
	for y := src.Rect.Min.Y; y < src.Rect.Max.Y; y++ {
		for x := src.Rect.Min.X; x < src.Rect.Max.X; x++ {
			rgba.Set(x, y, src.At(x, y))
		}
	}
	pal.Palette = append(pal.Palette, src.At(3, 5), src.At(4, 5))
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 2)
	}
	for name, img := range map[string]image.Image{"NRGBA": src, "RGBA": rgba, "Paletted": pal} {
		got := toGray(img)
		b := img.Bounds()
		for y := range b.Dy() {
			for x := range b.Dx() {
				want := int(lumOf(img.At(b.Min.X+x, b.Min.Y+y)))
				if g := int(got.Pix[y*got.Stride+x]); g < want-1 || g > want+1 {
					t.Fatalf("%s (%d,%d): %d, want %d", name, x, y, g, want)
				}
			}
		}
	}
}
