package winsvc

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSeal(t *testing.T) {
	text := []byte("[Interface]\nPrivateKey = secret\n")
	sealed, err := Seal(fakeProtector{}, "office", text)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Error("sealed config contains the plain private key")
	}
	back, err := fakeProtector{}.Unprotect(sealed, "office")
	if err != nil || !bytes.Equal(back, text) {
		t.Errorf("round trip = %q, %v; want %q", back, err, text)
	}
	if _, err := (fakeProtector{}).Unprotect(sealed, "home"); err == nil {
		t.Error("a config sealed for office opened as home")
	}
}

func TestSealErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Protector
		text string
		want string
	}{
		{"empty", fakeProtector{}, "", "empty"},
		{"protect fails", fakeProtector{failProtect: true}, "x", "encrypt config"},
		{"round trip differs", fakeProtector{corrupt: true}, "x", "differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Seal(tt.p, "office", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Seal error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := Seal(fakeProtector{}, "office", nil); !errors.Is(err, ErrEmptyConfig) {
		t.Errorf("Seal(nil) = %v, want ErrEmptyConfig", err)
	}
}
