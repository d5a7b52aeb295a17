package store

import "testing"

// BenchmarkSave measures one atomic tunnel save (temp file, fsync, rename,
// directory fsync) on the test machine's temporary file system.
func BenchmarkSave(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cfg := newConfig(b, "wgp0")
	for b.Loop() {
		if err := s.Save(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
