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

// BenchmarkAddressWatchIdleHour reports the STUN queries one idle up
// tunnel sends in an hour (simulated clock): the watch's cost.
func BenchmarkAddressWatchIdleHour(b *testing.B) {
	n := 0
	for b.Loop() {
		n = idleHourProbes(b)
	}
	b.ReportMetric(float64(n), "stun-queries/tunnel-hour")
}
