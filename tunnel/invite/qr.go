package invite

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // DecodeQRFile reads JPEG (and PNG)
	"image/png"
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
func DecodeQRImage(img image.Image) (string, error) {
	if img == nil || img.Bounds().Empty() {
		return "", fmt.Errorf("read qr code: %w: the image is empty", ErrNoQRCode)
	}
	src := gozxing.NewLuminanceSourceFromImage(img)
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	binarizers := []func(gozxing.LuminanceSource) gozxing.Binarizer{
		gozxing.NewHybridBinarizer,
		gozxing.NewGlobalHistgramBinarizer,
	}
	var found []string
	for _, inverted := range []bool{false, true} {
		s := src
		if inverted { // light-on-dark codes (dark mode screenshots)
			s = src.Invert()
		}
		for _, nb := range binarizers {
			bmp, err := gozxing.NewBinaryBitmap(nb(s))
			if err != nil {
				continue
			}
			if res, err := mqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints); err == nil {
				for _, r := range res {
					found = append(found, r.GetText())
				}
			}
			if r, err := gzqr.NewQRCodeReader().Decode(bmp, hints); err == nil {
				found = append(found, r.GetText())
			}
			for _, t := range found {
				if strings.Contains(strings.ToUpper(t), "WGP") {
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

// DecodeQRFile reads a PNG or JPEG file and returns the text of the QR code
// in it (see DecodeQRImage).
func DecodeQRFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read qr code: %w", err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return "", fmt.Errorf("read qr code image %q: %w (PNG and JPEG are supported)", path, err)
	}
	s, err := DecodeQRImage(img)
	if err != nil {
		return "", fmt.Errorf("%s image %q: %w", format, path, err)
	}
	return s, nil
}
