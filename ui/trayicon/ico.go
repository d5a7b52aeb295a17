package trayicon

import (
	"bytes"
	"encoding/binary"
	"image/png"
)

// pngICO is an .ico file with png as its only image: a 6-byte ICONDIR,
// one 16-byte ICONDIRENTRY, then the PNG bytes.
func pngICO(p []byte) []byte {
	w, h := 0, 0
	if cfg, err := png.DecodeConfig(bytes.NewReader(p)); err == nil {
		w, h = cfg.Width, cfg.Height
	}
	dim := func(n int) byte {
		if n <= 0 || n >= 256 {
			return 0 // 0 means 256 (or larger)
		}
		return byte(n)
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, [3]uint16{0, 1, 1}) // reserved, type icon, one image
	b.WriteByte(dim(w))
	b.WriteByte(dim(h))
	b.WriteByte(0)                                      // no palette
	b.WriteByte(0)                                      // reserved
	binary.Write(&b, le, [2]uint16{1, 32})              // planes, bits per pixel
	binary.Write(&b, le, [2]uint32{uint32(len(p)), 22}) // size, offset
	b.Write(p)
	return b.Bytes()
}
