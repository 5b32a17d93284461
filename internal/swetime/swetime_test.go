package swetime_test

import (
	"testing"
	"time"

	"github.com/vakt/vakt/internal/swetime"
)

// TestStockholm: the zone follows Swedish summer time (CEST from the last Sunday of March).
func TestStockholm(t *testing.T) {
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), 3600},
		{time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), 7200},
		{time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), 3600},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), 7200},
	} {
		if _, off := c.at.In(swetime.Stockholm).Zone(); off != c.want {
			t.Errorf("%s: offset %d, want %d", c.at, off, c.want)
		}
	}
}
