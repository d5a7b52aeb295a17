package control_test

import (
	"testing"

	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// BenchmarkStatus is one Status call (what Watch does every second) with
// 10 tunnels, in process.
func BenchmarkStatus(b *testing.B) {
	e := NewLinkedEnv(b, 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Svc.Status(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
}
