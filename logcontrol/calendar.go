package logcontrol

import (
	"time"

	"github.com/vakt/vakt/register"
)

// Holiday returns the Swedish name of the public holiday or "afton" day that d is, and whether
// it is one. Public holidays are those of lagen (1989:253) om allmänna helgdagar; Sundays are not
// listed (every Sunday is a holiday by that act, and weekends are off by the working hours
// anyway). The afton days that Swedish workplaces keep free by collective agreement and custom —
// julafton, nyårsafton, midsommarafton (and påskafton, pingstafton, which fall on Saturdays) —
// count as holidays here, since an access on midsommarafton is as unusual as one on
// midsommardagen.
func Holiday(d register.Date) (string, bool) {
	y, m, day := d.Parts()
	switch {
	case m == time.January && day == 1:
		return "nyårsdagen", true
	case m == time.January && day == 6:
		return "trettondedag jul", true
	case m == time.May && day == 1:
		return "första maj", true
	case m == time.June && day == 6:
		return "Sveriges nationaldag", true
	case m == time.December && day == 24:
		return "julafton", true
	case m == time.December && day == 25:
		return "juldagen", true
	case m == time.December && day == 26:
		return "annandag jul", true
	case m == time.December && day == 31:
		return "nyårsafton", true
	}
	// Midsommardagen is the Saturday of 20–26 June, midsommarafton the day before; alla helgons
	// dag the Saturday of 31 October – 6 November.
	switch wd := d.Weekday(); {
	case m == time.June && wd == time.Saturday && 20 <= day && day <= 26:
		return "midsommardagen", true
	case m == time.June && wd == time.Friday && 19 <= day && day <= 25:
		return "midsommarafton", true
	case wd == time.Saturday && (m == time.October && day == 31 || m == time.November && day <= 6):
		return "alla helgons dag", true
	}
	easter := Easter(y)
	switch int(d.Compare(easter)) {
	case 0:
		return "påskdagen", true
	}
	for _, h := range []struct {
		offset int
		name   string
	}{{-2, "långfredagen"}, {-1, "påskafton"}, {1, "annandag påsk"}, {39, "Kristi himmelsfärdsdag"}, {48, "pingstafton"}, {49, "pingstdagen"}} {
		if d == easter.AddDays(h.offset) {
			return h.name, true
		}
	}
	return "", false
}

// Easter returns Easter Sunday of year y in the Gregorian calendar (the anonymous Gregorian
// algorithm, Meeus/Jones/Butcher).
func Easter(y int) register.Date {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return register.NewDate(y, time.Month(month), day)
}
