package ident

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// ref is the reference date used by most tests: the day the numbers were "used".
var ref = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// luhnValid is an independent check of a whole number: Luhn as usually described, doubling
// every second digit counted from the right (the check digit itself is not doubled) and
// requiring the sum to be a multiple of 10.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d = d/10 + d%10
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// mk returns the 12-digit number YYYYMMDD NNN C with the check digit that luhnValid accepts
// (found by trying all ten), so that tests never rely on hand-computed check digits.
func mk(yyyymmdd, nnn string) string {
	for c := '0'; c <= '9'; c++ {
		s := yyyymmdd + nnn + string(c)
		if luhnValid(s[2:]) {
			return s
		}
	}
	panic("no check digit")
}

// wrongCheck returns s with its check digit replaced by a wrong one.
func wrongCheck(s string) string {
	c := s[len(s)-1]
	return s[:len(s)-1] + string('0'+(c-'0'+1)%10)
}

func dash12(s string) string { return s[:8] + "-" + s[8:] }
func dash10(s string) string { return s[2:8] + "-" + s[8:] }
func plus10(s string) string { return s[2:8] + "+" + s[8:] }

func TestTestHelpers(t *testing.T) {
	// Skatteverket's published examples (SKV 704, SKV 707) cross-check the test helper.
	if got := mk("19121212", "121"); got != "191212121212" {
		t.Errorf("mk(19121212,121) = %s", got)
	}
	if got := mk("19701063", "239"); got != "197010632391" {
		t.Errorf("mk(19701063,239) = %s, want SKV 707's 701063-2391", got)
	}
	for i := 0; i < 1000; i++ {
		s := fmt.Sprintf("%09d", i*1000003%1000000000)
		if fmt.Sprint(CheckDigit([]byte(s))) != mk("00"+s[:6], s[6:])[11:] {
			t.Fatalf("luhn and test helper disagree on %s", s)
		}
	}
}

func TestParsePersonIDValid(t *testing.T) {
	snr := mk("19701063", "239")        // born 1970-10-03
	snr91 := mk("20000191", "456")      // born 2000-01-31
	leap := mk("20000229", "123")       // 2000 is a leap year (divisible by 400)
	leap24 := mk("20240229", "987")     // ordinary leap year
	snrLeap := mk("20040289", "246")    // samordningsnummer born 2004-02-29
	future := mk("20261223", "321")     // later in ref's year than ref
	turning := mk("19260101", "111")    // turns 100 in ref's year
	turnsLater := mk("19271231", "222") // turns 100 the year after ref
	old := mk("18991231", "333")
	tests := []struct {
		name  string
		in    string
		ref   time.Time
		ext   string
		kind  Kind
		birth string
	}{
		{"12 digits with dash", "19121212-1212", ref, "191212121212", PersonalIdentityNumber, "1912-12-12"},
		{"12 digits", "191212121212", ref, "191212121212", PersonalIdentityNumber, "1912-12-12"},
		{"12 digits with plus", "19121212+1212", ref, "191212121212", PersonalIdentityNumber, "1912-12-12"},
		{"12 digits, zero ref", "191212121212", time.Time{}, "191212121212", PersonalIdentityNumber, "1912-12-12"},
		{"10 digits dash is under 100", "121212-1212", ref, "201212121212", PersonalIdentityNumber, "2012-12-12"},
		{"10 digits no separator is dash", "1212121212", ref, "201212121212", PersonalIdentityNumber, "2012-12-12"},
		{"10 digits plus is 100 or older", "121212+1212", ref, "191212121212", PersonalIdentityNumber, "1912-12-12"},
		{"surrounding whitespace", " \t19121212-1212\r\n", ref, "191212121212", PersonalIdentityNumber, "1912-12-12"},
		{"leap day 2000", dash12(leap), ref, leap, PersonalIdentityNumber, "2000-02-29"},
		{"leap day 2000 short", dash10(leap), ref, leap, PersonalIdentityNumber, "2000-02-29"},
		{"leap day 2024", leap24, ref, leap24, PersonalIdentityNumber, "2024-02-29"},
		{"samordningsnummer 12", snr, ref, snr, CoordinationNumber, "1970-10-03"},
		{"samordningsnummer SKV 707 example", "701063-2391", ref, "197010632391", CoordinationNumber, "1970-10-03"},
		{"samordningsnummer day 91", dash12(snr91), ref, snr91, CoordinationNumber, "2000-01-31"},
		{"samordningsnummer leap day", dash10(snrLeap), ref, snrLeap, CoordinationNumber, "2004-02-29"},
		{"same year as ref, after ref", dash10(future), ref, future, PersonalIdentityNumber, "2026-12-23"},
		{"turns 100 in ref year uses plus", plus10(turning), ref, turning, PersonalIdentityNumber, "1926-01-01"},
		{"turns 100 next year uses dash", dash10(turnsLater), ref, turnsLater, PersonalIdentityNumber, "1927-12-31"},
		{"plus a century back", plus10(mk("18271231", "222")), ref, mk("18271231", "222"), PersonalIdentityNumber, "1827-12-31"},
		{"1800s", dash12(old), ref, old, PersonalIdentityNumber, "1899-12-31"},
		{"ref at new year", dash10(mk("19991231", "444")), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), mk("19991231", "444"), PersonalIdentityNumber, "1999-12-31"},
		{"ref year same as yy", dash10(mk("20000101", "444")), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), mk("20000101", "444"), PersonalIdentityNumber, "2000-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePersonID(tt.in, tt.ref)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if p.Extension() != tt.ext || p.Kind() != tt.kind {
				t.Fatalf("got %s %s, want %s %s", p.Kind(), p.Extension(), tt.kind, tt.ext)
			}
			wantRoot := OIDPersonalIdentityNumber
			if tt.kind == CoordinationNumber {
				wantRoot = OIDCoordinationNumber
			}
			if p.Root() != wantRoot {
				t.Errorf("Root() = %s, want %s", p.Root(), wantRoot)
			}
			if p.Formatted() != dash12(tt.ext) {
				t.Errorf("Formatted() = %s", p.Formatted())
			}
			if fmt.Sprintf("%012d", p.Key()) != tt.ext {
				t.Errorf("Key() = %d", p.Key())
			}
			b, ok := p.BirthDate()
			if !ok || b.Format(time.DateOnly) != tt.birth || b.Location() != time.UTC {
				t.Errorf("BirthDate() = %v %v, want %s", b, ok, tt.birth)
			}
			if p.IsZero() {
				t.Error("IsZero() = true")
			}
			q, err := ParsePersonID(p.Extension(), time.Time{})
			if err != nil || q != p || !q.Equal(p) {
				t.Errorf("re-parse of extension: %v, equal %v", err, q == p)
			}
		})
	}
}

func TestParsePersonIDInvalid(t *testing.T) {
	good := "191212121212"
	tests := []struct {
		name string
		in   string
		ref  time.Time
		want error
	}{
		{"empty", "", ref, ErrEmpty},
		{"only whitespace", " \t\n", ref, ErrEmpty},
		{"wrong check digit", "19121212-1213", ref, ErrChecksum},
		{"wrong check digit 12", wrongCheck(good), ref, ErrChecksum},
		{"wrong check digit short", "121212-1213", ref, ErrChecksum},
		{"wrong check digit snr", wrongCheck(mk("19701063", "239")), ref, ErrChecksum},
		{"transposed digits", "19121212-2112", ref, ErrChecksum},
		{"leap day 1900", mk("19000229", "123"), ref, ErrDate},
		{"leap day 1900 via plus", plus10(mk("19000229", "123")), ref, ErrDate},
		{"leap day 2023", mk("20230229", "123"), ref, ErrDate},
		{"leap day 2100", mk("21000229", "123"), ref, ErrDate},
		{"month 13", mk("19121312", "121"), ref, ErrDate},
		{"month 00", mk("19120012", "121"), ref, ErrDate},
		{"day 00", mk("19121200", "121"), ref, ErrDate},
		{"day 32", mk("19121232", "121"), ref, ErrDate},
		{"April 31", mk("19120431", "121"), ref, ErrDate},
		{"day 60", mk("19121260", "121"), ref, ErrDate},
		{"snr day 92", mk("19121292", "121"), ref, ErrDate},
		{"snr day 99", mk("19121299", "121"), ref, ErrDate},
		{"snr April 31", mk("19120491", "121"), ref, ErrDate},
		{"snr leap day 2023", mk("20230289", "121"), ref, ErrDate},
		{"snr day 60 + 00", mk("19121260", "121"), ref, ErrDate},
		{"year 0000", mk("00001212", "121"), ref, ErrDate},
		{"ten digits with zero ref", "121212-1212", time.Time{}, ErrReference},
		{"ten digits no sep zero ref", "1212121212", time.Time{}, ErrReference},
		{"century before year 1", "121212+1212", time.Date(50, 1, 1, 0, 0, 0, 0, time.UTC), ErrDate},
		{"letters", "19121212-12a2", ref, ErrFormat},
		{"letters 12", "1912121212I2", ref, ErrFormat},
		{"fullwidth digits", "１９１２１２１２-１２１２", ref, ErrFormat},
		{"9 digits", "121212121", ref, ErrFormat},
		{"11 digits", "19121212121", ref, ErrFormat},
		{"13 digits", "1912121212120", ref, ErrFormat},
		{"14 chars", "19121212-12120", ref, ErrFormat},
		{"short with sep 3 digits", "121212-121", ref, ErrFormat},
		{"separator at 7", "1912121-21212", ref, ErrFormat},
		{"separator at 6 of 12 digits", "191212-121212", ref, ErrFormat},
		{"separator at 5", "12121-21212", ref, ErrFormat},
		{"two separators", "19121212--1212", ref, ErrFormat},
		{"slash separator", "19121212/1212", ref, ErrFormat},
		{"space separator", "19121212 1212", ref, ErrFormat},
		{"spaced dash", "121212 - 1212", ref, ErrFormat},
		{"inner space", "1912 1212-1212", ref, ErrFormat},
		{"en dash", "19121212–1212", ref, ErrFormat},
		{"trailing dash", "191212121212-", ref, ErrFormat},
		{"leading plus", "+191212121212", ref, ErrFormat},
		{"negative", "-191212121212", ref, ErrFormat},
		{"NUL inside", "19121212\x001212", ref, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePersonID(tt.in, tt.ref)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !p.IsZero() {
				t.Errorf("non-zero PersonID on error")
			}
			checkErrorText(t, tt.in, err)
		})
	}
}

func TestNewPersonID(t *testing.T) {
	pnr := "191212121212"
	snr := mk("19701063", "239")
	longRoot := "1." + strings.Repeat("2.", 31) + "3" // 65 bytes
	tests := []struct {
		name         string
		root, ext    string
		allowReserve bool
		want         error
		kind         Kind
		wantExt      string
	}{
		{"pnr", OIDPersonalIdentityNumber, pnr, false, nil, PersonalIdentityNumber, pnr},
		{"pnr formatted", OIDPersonalIdentityNumber, "19121212-1212", false, nil, PersonalIdentityNumber, pnr},
		{"pnr 10 digits", OIDPersonalIdentityNumber, "121212+1212", true, nil, PersonalIdentityNumber, pnr},
		{"snr", OIDCoordinationNumber, snr, false, nil, CoordinationNumber, snr},
		{"snr under pnr OID", OIDPersonalIdentityNumber, snr, true, ErrRootMismatch, 0, ""},
		{"pnr under snr OID", OIDCoordinationNumber, pnr, true, ErrRootMismatch, 0, ""},
		{"bad pnr", OIDPersonalIdentityNumber, wrongCheck(pnr), true, ErrChecksum, 0, ""},
		{"bad snr", OIDCoordinationNumber, mk("19121292", "121"), true, ErrDate, 0, ""},
		{"empty extension", OIDPersonalIdentityNumber, "", true, ErrEmpty, 0, ""},
		{"reserve allowed", "1.2.752.97.3.1.3", "ABC-123/x", true, nil, ReserveNumber, "ABC-123/x"},
		{"reserve any printable", "2.16.840.1", "!~#", true, nil, ReserveNumber, "!~#"},
		{"reserve 64 chars", "1.2", strings.Repeat("Z", 64), true, nil, ReserveNumber, strings.Repeat("Z", 64)},
		{"reserve with pnr-like ext kept", "1.2.752.129.2.1.3.2", "19121212-1212", true, nil, ReserveNumber, "19121212-1212"},
		{"reserve not allowed", "1.2.752.97.3.1.3", "ABC123", false, ErrReserveNotAllowed, 0, ""},
		{"reserve empty ext", "1.2.3", "", true, ErrReserveFormat, 0, ""},
		{"reserve space", "1.2.3", "AB C", true, ErrReserveFormat, 0, ""},
		{"reserve leading space", "1.2.3", " ABC", true, ErrReserveFormat, 0, ""},
		{"reserve control", "1.2.3", "AB\x01", true, ErrReserveFormat, 0, ""},
		{"reserve DEL", "1.2.3", "AB\x7f", true, ErrReserveFormat, 0, ""},
		{"reserve non-ASCII", "1.2.3", "ÅÄÖ", true, ErrReserveFormat, 0, ""},
		{"reserve 65 chars", "1.2.3", strings.Repeat("Z", 65), true, ErrReserveFormat, 0, ""},
		{"root empty", "", "ABC", true, ErrRoot, 0, ""},
		{"root empty not allowed", "", "ABC", false, ErrRoot, 0, ""},
		{"root one arc", "1", "ABC", true, ErrRoot, 0, ""},
		{"root empty arc", "1..2", "ABC", true, ErrRoot, 0, ""},
		{"root leading dot", ".1.2", "ABC", true, ErrRoot, 0, ""},
		{"root trailing dot", "1.2.", "ABC", true, ErrRoot, 0, ""},
		{"root leading zero", "1.02", "ABC", true, ErrRoot, 0, ""},
		{"root letters", "1.2.a", "ABC", true, ErrRoot, 0, ""},
		{"root urn", "urn:oid:1.2.3", "ABC", true, ErrRoot, 0, ""},
		{"root with space", " " + OIDPersonalIdentityNumber, pnr, true, ErrRoot, 0, ""},
		{"root too long", longRoot, "ABC", true, ErrRoot, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPersonID(tt.root, tt.ext, ref, tt.allowReserve)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
				if !p.IsZero() {
					t.Error("non-zero PersonID on error")
				}
				checkErrorText(t, tt.root, err)
				checkErrorText(t, tt.ext, err)
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if p.Kind() != tt.kind || p.Extension() != tt.wantExt {
				t.Fatalf("got %s %q, want %s %q", p.Kind(), p.Extension(), tt.kind, tt.wantExt)
			}
			if tt.kind == ReserveNumber {
				if p.Root() != tt.root || p.Key() != 0 || p.Formatted() != tt.ext {
					t.Errorf("reserve: root %q key %d formatted %q", p.Root(), p.Key(), p.Formatted())
				}
				if _, ok := p.BirthDate(); ok {
					t.Error("reserve number has a birth date")
				}
			}
			q, err := NewPersonID(p.Root(), p.Extension(), time.Time{}, tt.allowReserve)
			if err != nil || q != p {
				t.Errorf("round trip: %v, equal %v", err, q == p)
			}
		})
	}
	if len(longRoot) != 65 {
		t.Fatalf("longRoot has %d bytes", len(longRoot))
	}
	if _, err := NewPersonID("1."+strings.Repeat("2.", 30)+"34", "X", ref, true); err != nil {
		t.Errorf("64-byte root: %v", err)
	}
}

func TestEqualAndMapKey(t *testing.T) {
	a, _ := ParsePersonID("19121212-1212", ref)
	b, _ := ParsePersonID("121212+1212", ref)
	c, _ := NewPersonID(OIDPersonalIdentityNumber, "191212121212", ref, false)
	d, _ := ParsePersonID("121212-1212", ref) // born 2012: another person
	r1, _ := NewPersonID("1.2.3", "X1", ref, true)
	r2, _ := NewPersonID("1.2.4", "X1", ref, true)
	if a != b || !a.Equal(c) || a.Equal(d) || r1.Equal(r2) || a.Equal(PersonID{}) {
		t.Errorf("equality wrong")
	}
	m := map[PersonID]int{a: 1}
	if m[b] != 1 || m[d] != 0 {
		t.Errorf("map lookup wrong")
	}
	var z PersonID
	if !z.IsZero() || z.Kind() != 0 || z.Root() != "" || z.Extension() != "" || z.Formatted() != "" || z.Key() != 0 {
		t.Errorf("zero PersonID not empty")
	}
	if _, ok := z.BirthDate(); ok {
		t.Error("zero PersonID has a birth date")
	}
	if z.String() != "none" || fmt.Sprintf("%#v", z) != "ident.PersonID{}" {
		t.Errorf("zero PersonID prints %q %#v", z.String(), z)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		PersonalIdentityNumber: "personnummer",
		CoordinationNumber:     "samordningsnummer",
		ReserveNumber:          "reservnummer",
		0:                      "Kind(0)",
		9:                      "Kind(9)",
	} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), k.String(), want)
		}
	}
}

// TestMasking checks that no ordinary way of printing or logging a PersonID, alone or inside
// other values, reveals the number.
func TestMasking(t *testing.T) {
	pnrExt := mk("19640823", "323")
	snrExt := mk("19640883", "323")
	pnr, err := ParsePersonID(pnrExt, ref)
	if err != nil {
		t.Fatal(err)
	}
	snr, err := ParsePersonID(snrExt, ref)
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewPersonID("1.2.3.4", "QRESERVQ", ref, true)
	if err != nil {
		t.Fatal(err)
	}
	type exported struct {
		Patient PersonID
		Ptr     *PersonID
	}
	type unexported struct {
		patient PersonID
		list    []PersonID
	}
	for _, tc := range []struct {
		p      PersonID
		masked string
		secret []string
	}{
		{pnr, "personnummer(masked)", secretsOf(pnrExt)},
		{snr, "samordningsnummer(masked)", secretsOf(snrExt)},
		{res, "reservnummer(masked)", []string{"QRESERVQ", "RESERV"}},
	} {
		p := tc.p
		if p.String() != tc.masked {
			t.Errorf("String() = %q, want %q", p.String(), tc.masked)
		}
		outputs := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%30s", "%-30v|", "%.3s", "%U", "%c", "%t", "%p"} {
			outputs[verb] = fmt.Sprintf(verb, p)
			outputs["ptr "+verb] = fmt.Sprintf(verb, &p)
			outputs["exported "+verb] = fmt.Sprintf(verb, exported{p, &p})
			outputs["unexported "+verb] = fmt.Sprintf(verb, unexported{p, []PersonID{p}})
			outputs["slice "+verb] = fmt.Sprintf(verb, []PersonID{p})
			outputs["map "+verb] = fmt.Sprintf(verb, map[PersonID]PersonID{p: p})
			outputs["any "+verb] = fmt.Sprintf(verb, []any{p, &p})
		}
		outputs["Sprint"] = fmt.Sprint(p, &p)
		outputs["Sprintln"] = fmt.Sprintln(p, &p)
		outputs["GoString"] = p.GoString()
		outputs["error %v"] = fmt.Errorf("patient %v: %w", p, ErrChecksum).Error()
		for i, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		} {
			var buf bytes.Buffer
			l := slog.New(h(&buf))
			l.Info("read", "patient", p, slog.Any("ptr", &p), slog.Any("exported", exported{p, &p}),
				slog.Any("unexported", unexported{p, nil}), slog.Group("g", "p", p))
			l.With("patient", p).Info("with")
			outputs[fmt.Sprint("slog ", i)] = buf.String()
			if !strings.Contains(buf.String(), tc.masked) {
				t.Errorf("slog output lacks the masked text: %s", buf.String())
			}
		}
		if got := p.LogValue(); got.Kind() != slog.KindString || got.String() != tc.masked {
			t.Errorf("LogValue() = %v", got)
		}
		for name, out := range outputs {
			for _, s := range tc.secret {
				if strings.Contains(out, s) {
					t.Errorf("%s: %s output %q reveals %q", p.Kind(), name, out, s)
				}
			}
		}
		if got := fmt.Sprintf("%q", p); got != `"`+tc.masked+`"` {
			t.Errorf("%%q = %s", got)
		}
		if got := fmt.Sprintf("%-25s|", p); got != fmt.Sprintf("%-25s|", tc.masked) {
			t.Errorf("width not honoured: %s", got)
		}
	}
}

// secretsOf lists fragments of a 12-digit number that must never be printed: the number in all
// its written forms, the 10-digit form, and the birth date with and without century. Fragments
// shorter than six digits are left out because they may occur by chance in pointer addresses.
func secretsOf(ext string) []string {
	return []string{ext, ext[2:], dash12(ext), dash10(ext), ext[:8], ext[2:8], ext[6:]}
}

// knownMessages is every error text the package can produce. An error outside this set would
// mean a text that is built at run time, which could carry the input.
var knownMessages = func() map[string]bool {
	m := map[string]bool{}
	for _, err := range []error{
		ErrEmpty, ErrFormat, ErrDate, ErrChecksum, ErrReference, ErrRootMismatch, ErrRoot,
		ErrReserveNotAllowed, ErrReserveFormat, errCoordinationUnderPNR, errPNRUnderCoordination,
		ErrHSATooLong, ErrHSASpace, ErrHSAPrefix, ErrHSAOrgNumber, ErrHSASeparator, ErrHSALocalPart,
	} {
		m[err.Error()] = true
	}
	return m
}()

// longestDigitRun returns the length of the longest run of consecutive ASCII digits in s.
func longestDigitRun(s string) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// checkErrorText fails if err's text could carry in. The text must be one of the static
// messages (so it cannot depend on the input), and must not contain in itself, its digits, or
// any run of three or more of its digits. Static messages have no digit run longer than two
// (TestErrorMessagesAreStatic), which is what makes the digit checks meaningful; an input of
// letters only may of course coincide with static words such as "must", so whole-input
// containment is checked only for inputs with a run of three or more digits.
func checkErrorText(t testing.TB, in string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !knownMessages[msg] {
		t.Errorf("error text %q is not one of the static messages", msg)
	}
	if longestDigitRun(in) < 3 {
		return
	}
	if strings.Contains(msg, strings.TrimSpace(in)) {
		t.Errorf("error text %q contains the input", msg)
	}
	if d := digitsOf(in); strings.Contains(msg, d) {
		t.Errorf("error text %q contains the input's digits", msg)
	}
	if longestDigitRun(msg) >= 3 {
		t.Errorf("error text %q contains a run of digits", msg)
	}
}

func TestErrorMessagesAreStatic(t *testing.T) {
	for msg := range knownMessages {
		if msg == "" || longestDigitRun(msg) > 2 {
			t.Errorf("message %q is empty or has a run of three or more digits", msg)
		}
	}
	if len(knownMessages) != 17 {
		t.Errorf("duplicate messages: %d distinct", len(knownMessages))
	}
	if !errors.Is(errCoordinationUnderPNR, ErrRootMismatch) || !errors.Is(errPNRUnderCoordination, ErrRootMismatch) {
		t.Error("mismatch errors do not wrap ErrRootMismatch")
	}
}

// TestErrorsNeverContainInput runs many invalid inputs through both constructors and checks
// that no error text reveals their digits.
func TestErrorsNeverContainInput(t *testing.T) {
	base := []string{
		mk("19640823", "323"), mk("19701063", "239"), mk("20000229", "123"), mk("19000229", "123"),
		mk("19121292", "121"), mk("19121312", "121"), mk("00001212", "121"), "191212121212",
	}
	var inputs []string
	for _, b := range base {
		w := wrongCheck(b)
		inputs = append(inputs, b, w, dash12(w), dash10(w), plus10(w), w[2:],
			b[:11], b+"0", b[:8]+"/"+b[8:], b[:7]+"-"+b[7:], b[:6]+"-"+b[6:], "x"+b, b+"x",
			b[:4]+" "+b[4:], b[:10]+"a"+b[11:], " "+dash12(w)+" ", "+"+b, b[2:8]+"--"+b[8:])
	}
	for _, in := range inputs {
		for _, r := range []time.Time{ref, {}} {
			_, err := ParsePersonID(in, r)
			checkErrorText(t, in, err)
			for _, root := range []string{OIDPersonalIdentityNumber, OIDCoordinationNumber, "1.2.3", in} {
				for _, allow := range []bool{false, true} {
					_, err := NewPersonID(root, in, r, allow)
					checkErrorText(t, in, err)
					if root == in {
						checkErrorText(t, root, err)
					}
				}
			}
		}
	}
}
