package invite

import (
	"path/filepath"
	"testing"
)

// TestDecodeQRFileGIF: the GUI's "Open image…" dialog and drag and drop
// offer .gif next to .png and .jpg, so DecodeQRFile must read GIF.
// testdata/qr-invite.gif is QRPNG(testInvite's token) converted by
// ImageMagick; this file must not import image/gif itself, or it would
// register the decoder that the package is supposed to register.
func TestDecodeQRFileGIF(t *testing.T) {
	tok := mustEncode(t, testInvite())
	got, err := DecodeQRFile(filepath.Join("testdata", "qr-invite.gif"))
	if err != nil {
		t.Fatalf("DecodeQRFile(GIF): %v", err)
	}
	if got != tok {
		t.Errorf("DecodeQRFile(GIF) = %q, want %q", got, tok)
	}
}
