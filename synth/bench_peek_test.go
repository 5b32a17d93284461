package synth

import "testing"

func BenchmarkPeekNext(b *testing.B) {
	g, err := New(Config{Seed: 1, CareProvider: "SE2321000016-0001", Entries: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		g.Next()
	}
}
