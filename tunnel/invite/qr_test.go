package invite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestQRSize reports the QR code size of typical and worst-case tokens and
// keeps them moderate: a typical invite must stay at version 10 or below
// (57x57 modules) so phone cameras and webcams read it easily.
func TestQRSize(t *testing.T) {
	typicalV6 := testInvite()
	typicalV6.Endpoint = ep("2001:db8:1234:5678::1", 51820)
	longName := testInvite()
	longName.Name = "Jürgen’s desktop at the office" // 30 runes
	longName.LANs = append(longName.LANs, pfx("10.10.0.0/16"), pfx("172.16.5.0/24"))
	tests := []struct {
		name       string
		msg        interface{ Encode() (string, error) }
		maxVersion int
	}{
		{"typical invite", testInvite(), 10},
		{"typical reply", testReply(), 10},
		{"invite with IPv6 endpoint", typicalV6, 10},
		{"invite with long name and 3 LANs", longName, 10},
		{"invite with IPv4, IPv6 and LAN endpoints", dualInvite(), 10},
		{"reply with IPv4, IPv6 and LAN endpoints and digest", func() *Reply { r := dualReply(); r.Answer(testInvite()); return r }(), 10},
		{"two-office invite (alias pool)", func() *Invite { i := dualInvite(); i.AliasPool = pfx("10.201.0.0/16"); return i }(), 10},
		{"two-office reply (offer, alias, digest, IPv6)", func() *Reply {
			r := officeReply()
			r.Endpoint6 = ep("2001:db8:2::9", 51821)
			r.Answer(officeInvite())
			return r
		}(), 10},
		{"worst-case invite (every limit)", worstInvite(), 25},
	}
	for _, tt := range tests {
		tok := mustEncode(t, tt.msg)
		v, err := qrVersion(tok)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		t.Logf("%-34s %4d chars  QR version %2d (%dx%d modules, medium EC)", tt.name, len(tok), v, 17+4*v, 17+4*v)
		if v > tt.maxVersion {
			t.Errorf("%s: QR version %d, want <= %d", tt.name, v, tt.maxVersion)
		}
	}
}

func TestQRPNGRejects(t *testing.T) {
	if _, err := QRPNG("", 256); err == nil {
		t.Error("QRPNG(\"\") succeeded")
	}
	if _, err := QRPNG(strings.Repeat("A", 5000), 256); err == nil {
		t.Error("QRPNG of 5000 chars succeeded")
	}
}

func TestQRPNGSize(t *testing.T) {
	tok := mustEncode(t, testInvite())
	for _, tt := range []struct{ size, want int }{{0, DefaultQRSize}, {400, 400}, {-4, 4 * (17 + 4*6 + 8)}} {
		b, err := QRPNG(tok, tt.size)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != tt.want || cfg.Height != tt.want {
			t.Errorf("QRPNG(size %d) is %dx%d, want %dx%d", tt.size, cfg.Width, cfg.Height, tt.want, tt.want)
		}
	}
}

// TestQRZbar checks that an independent reader, zbarimg (Debian
// zbar-tools), reads back the exact token.
func TestQRZbar(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	dir := t.TempDir()
	for n, m := range []interface{ Encode() (string, error) }{testInvite(), testReply(), worstInvite()} {
		tok := mustEncode(t, m)
		b, err := QRPNG(tok, 0)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "qr.png")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "--raw", "-q", path).Output()
		if err != nil {
			t.Fatalf("token %d: zbarimg: %v", n, err)
		}
		if got := strings.TrimRight(string(out), "\n"); got != tok {
			t.Errorf("token %d: zbarimg read\n%q\nwant\n%q", n, got, tok)
		}
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestDecodeQRImage(t *testing.T) {
	for _, m := range []interface{ Encode() (string, error) }{testInvite(), testReply(), worstInvite()} {
		tok := mustEncode(t, m)
		b, err := QRPNG(tok, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeQRImage(decodePNG(t, b))
		if err != nil {
			t.Fatalf("DecodeQRImage(%d chars): %v", len(tok), err)
		}
		if got != tok {
			t.Errorf("DecodeQRImage = %q, want %q", got, tok)
		}
	}
}

// TestDecodeQRSizes reads QRPNG images of sizes that are not a multiple
// of the module count (QRPNG pads them so modules stay uniform).
func TestDecodeQRSizes(t *testing.T) {
	for _, m := range []interface{ Encode() (string, error) }{testInvite(), worstInvite()} {
		tok := mustEncode(t, m)
		for _, size := range []int{-1, -2, 150, 256, 300, 333, 512, 700} {
			b, err := QRPNG(tok, size)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeQRImage(decodePNG(t, b))
			if err != nil || got != tok {
				t.Errorf("%d-char token at size %d: DecodeQRImage = %q, %v", len(tok), size, got, err)
			}
		}
	}
}

// screenshot pastes qr, scaled by scale/2 (nearest neighbour), into a
// larger noisy "desktop" with windows, text-like strokes and another
// unrelated QR code far away.
func screenshot(t *testing.T, qr image.Image, scale int, dark bool) *image.RGBA {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, 1366, 768))
	bg := color.RGBA{0x3a, 0x6e, 0xa5, 0xff}
	draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)
	for range 40 { // windows
		r := image.Rect(rng.IntN(1300), rng.IntN(700), 0, 0)
		r.Max = r.Min.Add(image.Pt(50+rng.IntN(400), 30+rng.IntN(300)))
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 0xff}
		draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
	}
	for range 3000 { // "text"
		x, y := rng.IntN(1360), rng.IntN(760)
		for d := range 2 + rng.IntN(5) {
			img.Set(x+d, y, color.Black)
		}
	}
	for range 20000 { // noise
		img.Set(rng.IntN(1366), rng.IntN(768), color.Gray{uint8(rng.IntN(256))})
	}
	// The QR code window, at a position that is not a multiple of anything.
	b := qr.Bounds()
	w, h := b.Dx()*scale/2, b.Dy()*scale/2
	off := image.Pt(713, 131)
	for y := range h {
		for x := range w {
			c := color.GrayModel.Convert(qr.At(b.Min.X+x*2/scale, b.Min.Y+y*2/scale)).(color.Gray)
			if dark {
				c.Y = 255 - c.Y
			}
			img.Set(off.X+x, off.Y+y, c)
		}
	}
	return img
}

func TestDecodeQRScreenshot(t *testing.T) {
	tok := mustEncode(t, testInvite())
	b, err := QRPNG(tok, -3) // 3 px per module
	if err != nil {
		t.Fatal(err)
	}
	qr := decodePNG(t, b)
	dir := t.TempDir()
	tests := []struct {
		name  string
		scale int // in halves
		dark  bool
		jpeg  bool
	}{
		{"png 1:1", 2, false, false},
		{"png scaled 1.5x", 3, false, false},
		{"jpeg 1:1", 2, false, true},
		{"jpeg scaled 2.5x", 5, false, true},
		{"dark mode png", 2, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := screenshot(t, qr, tt.scale, tt.dark)
			var buf bytes.Buffer
			path := filepath.Join(dir, "shot.png")
			if tt.jpeg {
				path = filepath.Join(dir, "shot.jpg")
				err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
			} else {
				err = png.Encode(&buf, img)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := DecodeQRFile(path)
			if err != nil {
				t.Fatalf("DecodeQRFile: %v", err)
			}
			if got != tok {
				t.Errorf("DecodeQRFile = %q, want %q", got, tok)
			}
		})
	}
}

// TestDecodeQRLargePhoto finds a code in a 12-megapixel grainy image,
// the size of a phone photo.
func TestDecodeQRLargePhoto(t *testing.T) {
	tok := mustEncode(t, testReply())
	b, err := QRPNG(tok, -12)
	if err != nil {
		t.Fatal(err)
	}
	qr := decodePNG(t, b)
	img := image.NewGray(image.Rect(0, 0, 4000, 3000))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(90 + rng.IntN(120))
	}
	draw.Draw(img, qr.Bounds().Add(image.Pt(1733, 1211)), qr, qr.Bounds().Min, draw.Src)
	got, err := DecodeQRImage(img)
	if err != nil || got != tok {
		t.Errorf("DecodeQRImage = %q, %v; want %q", got, err, tok)
	}
}

func TestDecodeQRNoCode(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	if _, err := DecodeQRImage(img); !errors.Is(err, ErrNoQRCode) {
		t.Errorf("DecodeQRImage(blank) error %v, want ErrNoQRCode", err)
	}
	if _, err := DecodeQRImage(image.NewRGBA(image.Rectangle{})); !errors.Is(err, ErrNoQRCode) {
		t.Errorf("DecodeQRImage(empty) error %v, want ErrNoQRCode", err)
	}
	dir := t.TempDir()
	if _, err := DecodeQRFile(filepath.Join(dir, "missing.png")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DecodeQRFile(missing) error %v, want ErrNotExist", err)
	}
	txt := filepath.Join(dir, "not-an-image.png")
	if err := os.WriteFile(txt, []byte("WGP1I-ABC"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeQRFile(txt); err == nil || !strings.Contains(err.Error(), "PNG and JPEG") {
		t.Errorf("DecodeQRFile(text file) error %v, want one naming PNG and JPEG", err)
	}
	// A PNG header announcing 20000x20000 pixels is refused before decoding.
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	huge := buf.Bytes()
	copy(huge[16:24], []byte{0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20}) // IHDR width, height
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	bomb := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(bomb, huge, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeQRFile(bomb); err == nil || !strings.Contains(err.Error(), "too big") {
		t.Errorf("DecodeQRFile(20000x20000) error %v, want too big", err)
	}
}
