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
// accept time (Argon2id over both messages), beside the key-only code of
// older links (SHA-256 of the two keys) as the baseline, in one run.
func BenchmarkExchangeCode(b *testing.B) {
	i, r := testInvite(), testReply()
	r.Answer(i)
	b.Run("argon2id-exchange", func(b *testing.B) {
		for b.Loop() {
			if _, err := ExchangeCode(i, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-keys-only", func(b *testing.B) {
		for b.Loop() {
			if SafetyCode(i.PublicKey, r.PublicKey) == "" {
				b.Fatal("empty code")
			}
		}
	})
}

// BenchmarkUpdateEncode is the sender's cost of one update token (one
// X25519, HKDF and HMAC-SHA256).
func BenchmarkUpdateEncode(b *testing.B) {
	u := testUpdate()
	for b.Loop() {
		if _, err := u.Encode(privA, pubB, &testPSK); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateVerify is the receiver's cost of checking a decoded
// update (the same primitives).
func BenchmarkUpdateVerify(b *testing.B) {
	u := decodeUpdate(b, encodeUpdate(b, testUpdate(), &testPSK))
	for b.Loop() {
		if err := u.Verify(privB, pubA, &testPSK, 0, updateNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeUpdate(b *testing.B) {
	tok := encodeUpdate(b, testUpdate(), &testPSK)
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		if _, err := DecodeUpdate(tok); err != nil {
			b.Fatal(err)
		}
	}
}
