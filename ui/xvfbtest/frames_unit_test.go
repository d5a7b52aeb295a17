package xvfbtest

import "testing"

func TestDiffPixels(t *testing.T) {
	a := make([]byte, 30)
	b := make([]byte, 30)
	if n := diffPixels(a, b); n != 0 {
		t.Errorf("equal frames differ in %d pixels", n)
	}
	b[3], b[5], b[29] = 1, 1, 1 // pixels 1 and 9
	if n := diffPixels(a, b); n != 2 {
		t.Errorf("diffPixels = %d, want 2", n)
	}
	if n := diffPixels(a, b[:27]); n != 10 {
		t.Errorf("frames of other sizes: %d, want 10 (all)", n)
	}
}
