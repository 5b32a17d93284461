package register

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is a working period within one day, in minutes after midnight local time: [From, To).
// To may be 1440 (24:00). The zero Span is a day off.
type Span struct {
	From, To int
}

// Open reports whether the span covers any time.
func (s Span) Open() bool { return s.To > s.From }

// Contains reports whether minute m of the day lies in the span.
func (s Span) Contains(m int) bool { return s.From <= m && m < s.To }

// String returns "HH:MM-HH:MM", or "" for a day off.
func (s Span) String() string {
	if !s.Open() {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)
}

// WorkingHours says when a care unit works: a span per weekday and one for public holidays and
// the "afton" days that Swedish workplaces keep free (see logcontrol's calendar).
type WorkingHours struct {
	Days    [7]Span // indexed by time.Weekday: Sunday first
	Holiday Span
}

// DefaultHours is the working time of a unit that registered none: 07:00–18:00 Monday to
// Friday, closed on weekends and public holidays.
func DefaultHours() WorkingHours {
	var h WorkingHours
	for d := time.Monday; d <= time.Friday; d++ {
		h.Days[d] = Span{From: 7 * 60, To: 18 * 60}
	}
	return h
}

// dayKeys are the JSON names of WorkingHours' days, indexed by time.Weekday.
var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseSpan parses "HH:MM-HH:MM" (24:00 allowed as the end, which must come after the start);
// "" is a day off.
func ParseSpan(s string) (Span, error) {
	if s == "" {
		return Span{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("not HH:MM-HH:MM")
	}
	from, err := parseClock(a)
	if err != nil {
		return Span{}, err
	}
	to, err := parseClock(b)
	if err != nil {
		return Span{}, err
	}
	if to <= from {
		return Span{}, fmt.Errorf("must end after it starts")
	}
	return Span{From: from, To: to}, nil
}

func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("not HH:MM-HH:MM")
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("not a time of day")
	}
	return h*60 + m, nil
}
