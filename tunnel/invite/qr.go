package invite

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif"  // DecodeQRFile reads GIF (the GUI's file dialog offers it),
	_ "image/jpeg" // JPEG
	"image/png"    // and PNG
	"io"
	"os"
	"strings"

	"github.com/makiuchi-d/gozxing"
	mqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// DefaultQRSize is the image size QRPNG uses when size is 0.
const DefaultQRSize = 320

// QRPNG renders token as a QR code PNG with medium error correction, black
// on white with at least the standard 4-module quiet zone. size is the
// width and height in pixels (0: DefaultQRSize); every module is drawn the
// same whole number of pixels wide and the rest is white margin, so
// scanners see crisp modules. If size is too small for one pixel per
// module, a larger image is returned. A negative size -n draws each module
// n pixels wide. A token from Encode is all upper-case base32, so the QR
// code uses the compact alphanumeric mode.
func QRPNG(token string, size int) ([]byte, error) {
	if token == "" {
		return nil, errors.New("qr code: empty token")
	}
	q, err := qrcode.New(token, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	bits := q.Bitmap() // includes the quiet zone
	n := len(bits)
	if size == 0 {
		size = DefaultQRSize
	}
	scale := size / n
	if size < 0 {
		scale = -size
	}
	scale = max(scale, 1)
	size = max(size, n*scale)
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	off := (size - n*scale) / 2
	for y, row := range bits {
		for x, black := range row {
			if black {
				draw.Draw(img, image.Rect(off+x*scale, off+y*scale, off+(x+1)*scale, off+(y+1)*scale), image.Black, image.Point{}, draw.Src)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return buf.Bytes(), nil
}

// qrVersion is the QR code version (1..40) QRPNG uses for token.
func qrVersion(token string) (int, error) {
	q, err := qrcode.New(token, qrcode.Medium)
	if err != nil {
		return 0, err
	}
	return q.VersionNumber, nil
}

// ErrNoQRCode is returned (wrapped) when an image holds no readable QR code.
var ErrNoQRCode = errors.New("no readable QR code found")

// DecodeQRImage finds a QR code in img (which may be a screenshot with
// other things around it, or a photo) and returns its text. If there are
// several, one that holds a WG Punch token wins. The text is returned as
// is: pass it to Decode.
//
// It works on a grayscale copy (one byte per pixel) and refuses images of
// more than MaxQRImagePixels, so memory stays bounded.
func DecodeQRImage(img image.Image) (string, error) {
	if img == nil || img.Bounds().Empty() {
		return "", fmt.Errorf("read qr code: %w: the image is empty", ErrNoQRCode)
	}
	if err := checkQRSize(img.Bounds().Dx(), img.Bounds().Dy()); err != nil {
		return "", fmt.Errorf("read qr code: %w", err)
	}
	gray := toGray(img)
	img = nil // the caller may drop its copy; ours is not needed any more
	full, err := graySource(gray)
	if err != nil {
		return "", fmt.Errorf("read qr code: %w", err)
	}
	sources := []gozxing.LuminanceSource{full}
	if small := shrink(gray, maxQRScanSide); small != nil {
		// Big photos: the shrunk copy is much faster and usually enough.
		if s, err := graySource(small); err == nil {
			sources = []gozxing.LuminanceSource{s, full}
		}
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	binarizers := []func(gozxing.LuminanceSource) gozxing.Binarizer{
		gozxing.NewHybridBinarizer,
		gozxing.NewGlobalHistgramBinarizer,
	}
	var found []string
	for _, src := range sources {
		for _, s := range []gozxing.LuminanceSource{src, src.Invert()} { // then light on dark
			for _, nb := range binarizers {
				if t, ok := scanQR(s, nb, hints, &found); ok {
					return t, nil
				}
			}
		}
	}
	if len(found) > 0 {
		return found[0], nil
	}
	return "", fmt.Errorf("read qr code: %w; take a sharper, closer screenshot or photo, or paste the invite text instead", ErrNoQRCode)
}

// maxQRScanSide is the longest side of the shrunk copy DecodeQRImage scans
// first.
const maxQRScanSide = 1600

// MaxQRImagePixels is the largest image (width × height) DecodeQRImage and
// DecodeQRFile read: 16 megapixels, more than a phone photo or a 4K
// screenshot. Decoding needs a few bytes per pixel, so this bounds memory;
// a small file that claims a huge image (a "decompression bomb") is
// refused from its header, before anything is decoded.
const MaxQRImagePixels = 16 << 20

// ErrImageTooBig is returned (wrapped) for an image over MaxQRImagePixels.
var ErrImageTooBig = errors.New("the image is too big")

func checkQRSize(w, h int) error {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxQRImagePixels {
		return fmt.Errorf("%w: %dx%d pixels (%.0f megapixels), at most %d megapixels are read; crop it to the QR code, or take a screenshot of just the code", ErrImageTooBig, w, h, float64(w)*float64(h)/1e6, MaxQRImagePixels/1_000_000)
	}
	return nil
}

// graySource is a gozxing luminance source on g's pixels, without a copy.
func graySource(g *image.Gray) (gozxing.LuminanceSource, error) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	return gozxing.NewPlanarYUVLuminanceSource(g.Pix, g.Stride, h, 0, 0, w, h, false)
}

// toGray returns img's luminance, one byte per pixel, with gozxing's
// weights ((R+2G+B)/4) and transparent parts over white, with fast paths
// for the types the image decoders return.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := image.NewGray(image.Rect(0, 0, w, h))
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			copy(g.Pix[y*w:(y+1)*w], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr: // JPEG: Y is the luminance
		for y := range h {
			copy(g.Pix[y*w:(y+1)*w], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.NRGBA:
		for y := range h {
			row, out := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], g.Pix[y*w:(y+1)*w]
			for x := range out {
				p := row[4*x : 4*x+4]
				lum := (uint32(p[0]) + 2*uint32(p[1]) + uint32(p[2])) / 4
				out[x] = uint8(lum*uint32(p[3])/255 + 255 - uint32(p[3]))
			}
		}
	case *image.RGBA: // premultiplied: over white is c + (255 - alpha)
		for y := range h {
			row, out := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], g.Pix[y*w:(y+1)*w]
			for x := range out {
				p := row[4*x : 4*x+4]
				out[x] = uint8((uint32(p[0])+2*uint32(p[1])+uint32(p[2]))/4 + 255 - uint32(p[3]))
			}
		}
	case *image.Paletted: // PNG with a palette, GIF
		var lut [256]uint8
		for i, c := range m.Palette {
			lut[i] = lumOf(c)
		}
		for y := range h {
			row, out := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], g.Pix[y*w:(y+1)*w]
			for x := range out {
				out[x] = lut[row[x]]
			}
		}
	default:
		for y := range h {
			out := g.Pix[y*w : (y+1)*w]
			for x := range out {
				out[x] = lumOf(img.At(b.Min.X+x, b.Min.Y+y))
			}
		}
	}
	return g
}

// lumOf is c's luminance over white; c.RGBA is alpha-premultiplied.
func lumOf(c color.Color) uint8 {
	r, g, b, a := c.RGBA()
	return uint8(((r+2*g+b)/4 + 0xffff - a) >> 8)
}

// scanQR decodes the codes in s, appends their texts to found and returns
// one that holds a WG Punch token.
func scanQR(s gozxing.LuminanceSource, nb func(gozxing.LuminanceSource) gozxing.Binarizer, hints map[gozxing.DecodeHintType]any, found *[]string) (string, bool) {
	bmp, err := gozxing.NewBinaryBitmap(nb(s))
	if err != nil {
		return "", false
	}
	var texts []string
	if res, err := mqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints); err == nil {
		for _, r := range res {
			texts = append(texts, r.GetText())
		}
	}
	if len(texts) == 0 {
		if r, err := gzqr.NewQRCodeReader().Decode(bmp, hints); err == nil {
			texts = append(texts, r.GetText())
		}
	}
	*found = append(*found, texts...)
	for _, t := range texts {
		if strings.Contains(strings.ToUpper(t), "WGP") {
			return t, true
		}
	}
	return "", false
}

// shrink returns g scaled down by a whole factor (box average) so that its
// longer side is at most limit, or nil if it already is.
func shrink(g *image.Gray, limit int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	f := (max(w, h) + limit - 1) / limit
	if f <= 1 {
		return nil
	}
	sw, sh := w/f, h/f
	dst := image.NewGray(image.Rect(0, 0, sw, sh))
	for y := range sh {
		for x := range sw {
			sum := 0
			for dy := range f {
				row := g.Pix[(y*f+dy)*g.Stride+x*f:]
				for dx := range f {
					sum += int(row[dx])
				}
			}
			dst.Pix[y*dst.Stride+x] = uint8(sum / (f * f))
		}
	}
	return dst
}

// DecodeQRFile reads a PNG, JPEG or GIF file and returns the text of
// the QR code in it (see DecodeQRImage).
func DecodeQRFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read qr code: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return "", fmt.Errorf("read qr code image %q: %w (GIF, PNG and JPEG are supported)", path, err)
	}
	if err := checkQRSize(cfg.Width, cfg.Height); err != nil {
		return "", fmt.Errorf("read qr code image %q: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("read qr code: %w", err)
	}
	img, format, err := image.Decode(f)
	if err != nil {
		return "", fmt.Errorf("read qr code image %q: %w (GIF, PNG and JPEG are supported)", path, err)
	}
	s, err := DecodeQRImage(img)
	if err != nil {
		return "", fmt.Errorf("%s image %q: %w", format, path, err)
	}
	return s, nil
}
