package invite

import (
	"bytes"
	"image/png"
	"testing"
)

func BenchmarkEncodeInvite(b *testing.B) {
	i := testInvite()
	for b.Loop() {
		if _, err := i.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeInvite(b *testing.B) {
	tok := mustEncode(b, testInvite())
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		if _, err := Decode(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQRPNG(b *testing.B) {
	tok := mustEncode(b, testInvite())
	for b.Loop() {
		if _, err := QRPNG(tok, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeQRImage(b *testing.B) {
	tok := mustEncode(b, testInvite())
	p, err := QRPNG(tok, 0)
	if err != nil {
		b.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if got, err := DecodeQRImage(img); err != nil || got != tok {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkExchangeCode is the time one side spends on the safety code at
// accept time (one Argon2id evaluation, 64 MiB).
func BenchmarkExchangeCode(b *testing.B) {
	i, r := testInvite(), testReply()
	r.Answer(i)
	for b.Loop() {
		if _, err := ExchangeCode(i, r); err != nil {
			b.Fatal(err)
		}
	}
}
