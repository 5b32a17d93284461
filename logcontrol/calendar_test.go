package logcontrol

import (
	"testing"
	"time"

	"github.com/vakt/vakt/register"
)

func TestEaster(t *testing.T) {
	// Easter Sundays from the Church of Sweden's almanac.
	for y, want := range map[int]string{2019: "2019-04-21", 2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28", 2038: "2038-04-25", 2285: "2285-03-22"} {
		if got := Easter(y).String(); got != want {
			t.Errorf("Easter(%d) = %s, want %s", y, got, want)
		}
	}
}

func TestHolidays2026(t *testing.T) {
	want := map[string]string{
		"2026-01-01": "nyårsdagen", "2026-01-06": "trettondedag jul", "2026-04-03": "långfredagen",
		"2026-04-04": "påskafton", "2026-04-05": "påskdagen", "2026-04-06": "annandag påsk",
		"2026-05-01": "första maj", "2026-05-14": "Kristi himmelsfärdsdag", "2026-05-23": "pingstafton",
		"2026-05-24": "pingstdagen", "2026-06-06": "Sveriges nationaldag", "2026-06-19": "midsommarafton",
		"2026-06-20": "midsommardagen", "2026-10-31": "alla helgons dag", "2026-12-24": "julafton",
		"2026-12-25": "juldagen", "2026-12-26": "annandag jul", "2026-12-31": "nyårsafton",
	}
	d := register.NewDate(2026, time.January, 1)
	for d.Before(register.NewDate(2027, time.January, 1)) {
		name, ok := Holiday(d)
		if w, exp := want[d.String()]; ok != exp || name != w {
			t.Errorf("%s: got %q %v, want %q %v", d, name, ok, w, exp)
		}
		d = d.AddDays(1)
	}
	// Midsommar and alla helgons dag at the edges of their windows.
	for date, wantName := range map[string]string{"2027-06-25": "midsommarafton", "2027-06-26": "midsommardagen", "2025-11-01": "alla helgons dag", "2031-06-20": "midsommarafton", "2029-11-03": "alla helgons dag"} {
		d, _ := register.ParseDate(date)
		if name, _ := Holiday(d); name != wantName {
			t.Errorf("%s: %q, want %q", date, name, wantName)
		}
	}
}
