package conf

import "testing"

func BenchmarkParse(b *testing.B) {
	data := fullConfig().Marshal()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("wgp0", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	c := fullConfig()
	for b.Loop() {
		c.Marshal()
	}
}
