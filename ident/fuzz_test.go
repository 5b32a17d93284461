package ident

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fuzzRef turns a fuzzed number into a reference date. Zero gives the zero time so that the
// ErrReference path is reached; anything else a date between year 1 and about year 10000.
func fuzzRef(days int64) time.Time {
	if days == 0 {
		return time.Time{}
	}
	const span = 3652425 // days in ten thousand years
	return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int((days%span+span)%span))
}

// daysSinceYear1 is the inverse of fuzzRef for seeding.
func daysSinceYear1(t time.Time) int64 {
	return int64(t.Sub(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// checkPersonID checks the invariants of a successfully built PersonID.
func checkPersonID(t *testing.T, p PersonID) {
	t.Helper()
	ext := p.Extension()
	switch p.Kind() {
	case PersonalIdentityNumber, CoordinationNumber:
		if len(ext) != 12 || !allDigits(ext) {
			t.Fatalf("extension is not 12 digits")
		}
		if !luhnValid(ext[2:]) {
			t.Fatalf("extension fails Luhn")
		}
		if fmt.Sprintf("%012d", p.Key()) != ext {
			t.Fatalf("Key does not round-trip")
		}
		wantRoot := OIDPersonalIdentityNumber
		if p.Kind() == CoordinationNumber {
			wantRoot = OIDCoordinationNumber
		}
		if p.Root() != wantRoot {
			t.Fatalf("root does not match kind")
		}
		b, ok := p.BirthDate()
		if !ok {
			t.Fatalf("no birth date")
		}
		day := b.Day()
		if p.Kind() == CoordinationNumber {
			day += 60
		}
		if fmt.Sprintf("%04d%02d%02d", b.Year(), int(b.Month()), day) != ext[:8] {
			t.Fatalf("birth date does not match the number")
		}
		for _, s := range []string{ext, p.Formatted()} {
			q, err := ParsePersonID(s, time.Time{})
			if err != nil || q != p || !q.Equal(p) {
				t.Fatalf("normalised form does not re-parse to an equal value: %v", err)
			}
		}
		q, err := NewPersonID(p.Root(), ext, time.Time{}, false)
		if err != nil || q != p {
			t.Fatalf("root/extension does not rebuild an equal value: %v", err)
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v %s %q", p, p, p, p, p), ext[2:]) {
			t.Fatalf("formatting reveals the number")
		}
	case ReserveNumber:
		if p.Key() != 0 || !validOID(p.Root()) || !validReserve(ext) {
			t.Fatalf("bad reserve number")
		}
		q, err := NewPersonID(p.Root(), ext, time.Time{}, true)
		if err != nil || q != p {
			t.Fatalf("reserve number does not rebuild an equal value: %v", err)
		}
	default:
		t.Fatalf("success with kind %v", p.Kind())
	}
	if p.IsZero() || p.String() != p.Kind().String()+"(masked)" {
		t.Fatalf("bad String or IsZero")
	}
}

// checkFuzzError checks an error from a fuzzed input: a static message that does not contain
// the input (for inputs of four characters or more; see checkErrorText for the digit rule).
func checkFuzzError(t *testing.T, in string, err error) {
	t.Helper()
	msg := err.Error()
	if !knownMessages[msg] {
		t.Fatalf("error text %q is not a static message", msg)
	}
	if len(strings.TrimSpace(in)) >= 4 && longestDigitRun(in) >= 3 && strings.Contains(msg, strings.TrimSpace(in)) {
		t.Fatalf("error text %q contains the input", msg)
	}
	checkErrorText(t, in, err)
}

func FuzzParsePersonID(f *testing.F) {
	r := daysSinceYear1(ref)
	for _, s := range []string{
		"19121212-1212", "191212121212", "19121212+1212", "121212-1212", "121212+1212", "1212121212",
		" 19121212-1212 ", "701063-2391", "197010632391", mk("20000229", "123"), mk("19000229", "123"),
		mk("20000191", "456"), mk("19121292", "121"), "19121212-1213", "19121312-1212", "191212-121212",
		"1912121-21212", "", " ", "abcdefghijkl", "１９１２１２１２-１２１２", "19121212–1212", "00000000-0000",
		"99999999+9999", "000229+1234", "+19121212121", "19121212\x001212",
	} {
		f.Add(s, r)
		f.Add(s, int64(0))
	}
	f.Add("991231-9999", int64(1))
	f.Add("000101+0000", int64(-1))
	f.Fuzz(func(t *testing.T, s string, days int64) {
		p, err := ParsePersonID(s, fuzzRef(days))
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("non-zero PersonID with error")
			}
			checkFuzzError(t, s, err)
			return
		}
		if p.Kind() == ReserveNumber {
			t.Fatalf("ParsePersonID returned a reserve number")
		}
		checkPersonID(t, p)
	})
}

func FuzzNewPersonID(f *testing.F) {
	r := daysSinceYear1(ref)
	for _, s := range [][2]string{
		{OIDPersonalIdentityNumber, "191212121212"},
		{OIDPersonalIdentityNumber, "19121212-1212"},
		{OIDPersonalIdentityNumber, "121212+1212"},
		{OIDCoordinationNumber, "197010632391"},
		{OIDPersonalIdentityNumber, "197010632391"},
		{OIDCoordinationNumber, "191212121212"},
		{"1.2.752.97.3.1.3", "ABC-123/x"},
		{"1.2.752.129.2.1.3.2", "191212121212"},
		{"1.02", "X"},
		{"1..2", "X"},
		{"", ""},
		{"1.2", " X"},
		{"1.2", strings.Repeat("Z", 65)},
		{"1." + strings.Repeat("2.", 31) + "3", "X"},
	} {
		f.Add(s[0], s[1], r, true)
		f.Add(s[0], s[1], int64(0), false)
	}
	f.Fuzz(func(t *testing.T, root, ext string, days int64, allowReserve bool) {
		p, err := NewPersonID(root, ext, fuzzRef(days), allowReserve)
		if err != nil {
			if !p.IsZero() {
				t.Fatalf("non-zero PersonID with error")
			}
			checkFuzzError(t, root, err)
			checkFuzzError(t, ext, err)
			return
		}
		if p.Kind() == ReserveNumber {
			if !allowReserve || p.Root() != root || p.Extension() != ext {
				t.Fatalf("reserve number not kept as given or not allowed")
			}
		} else if p.Root() != root {
			t.Fatalf("root changed")
		}
		checkPersonID(t, p)
	})
}

func FuzzParseHSAID(f *testing.F) {
	for _, s := range []string{
		"SE2321000016-7P5P", "SE2321000016-E2DF", "SE162321000255-O12345", "TSTNMT2321000156-B7S",
		"SE5565594230-B9P", " SE2321000016-7P5P ", "se2321000016-7P5P", "SE2321000016", "SE2321000016-",
		"SE23210000160-X", "ABCDEFGHIJK2321000016-X", "SE2321000016-7P 5P", "SE2321000016-" + strings.Repeat("A", 20),
		"SE2321000016-ÅÄÖ", "", "HSA-id",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHSAID(s)
		if err != nil {
			if h != "" {
				t.Fatalf("non-empty HSAID with error")
			}
			checkFuzzError(t, s, err)
			return
		}
		if string(h) != strings.TrimSpace(s) || h.String() != string(h) || len(h) > maxHSAIDLen {
			t.Fatalf("HSAID %q not the trimmed input or too long", h)
		}
		again, err := ParseHSAID(string(h))
		if err != nil || again != h {
			t.Fatalf("does not re-parse: %v", err)
		}
		org := h.OrganisationNumber()
		if (len(org) != 10 && len(org) != 12) || !allDigits(org) || !strings.Contains(string(h), org+"-") {
			t.Fatalf("bad organisation number %q", org)
		}
	})
}
