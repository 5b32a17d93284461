package ident

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unique"
)

// Kind tells which scheme a PersonID belongs to. The zero Kind belongs to the zero PersonID only.
type Kind uint8

// Kinds of person identifiers accepted in PDL log entries.
const (
	// PersonalIdentityNumber is a personnummer, assigned by Skatteverket to everyone who is or
	// has been registered in the Swedish population register (folkbokföringslagen 18 §).
	PersonalIdentityNumber Kind = iota + 1
	// CoordinationNumber is a samordningsnummer, assigned by Skatteverket to people who are not
	// and have not been registered (folkbokföringslagen 18 a §). It looks like a personnummer
	// whose day of birth is increased by 60.
	CoordinationNumber
	// ReserveNumber is a care provider's local reserve number (reservnummer) for a patient whose
	// identity is not (yet) known. Its format is the issuer's business, so it is kept verbatim.
	ReserveNumber
)

// String returns the Swedish name of the kind, as used in the domain and in masked output.
func (k Kind) String() string {
	switch k {
	case PersonalIdentityNumber:
		return "personnummer"
	case CoordinationNumber:
		return "samordningsnummer"
	case ReserveNumber:
		return "reservnummer"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Root OIDs of the national person identifiers, as used in the root attribute of the RIV-TA
// IIType (the "root/extension" object form of an identifier).
const (
	// OIDPersonalIdentityNumber is the root OID of personnummer.
	OIDPersonalIdentityNumber = "1.2.752.129.2.1.3.1"
	// OIDCoordinationNumber is the root OID of samordningsnummer.
	OIDCoordinationNumber = "1.2.752.129.2.1.3.3"
)

// Limits for reserve numbers. They are not national standards; they keep stored keys bounded
// and every byte printable so that a reserve number cannot smuggle control characters into logs.
const (
	maxOIDLen     = 64
	maxReserveLen = 64
)

// Errors returned by ParsePersonID and NewPersonID, directly or wrapped; test with errors.Is.
// Their texts are short reasons meant for API error responses (a vakt.Problem's Reason). They
// never contain the input, because the input may be a personnummer.
var (
	// ErrEmpty means the value was empty or only whitespace. ParseHSAID returns it too.
	ErrEmpty = errors.New("must not be empty")
	// ErrFormat means the value is not one of the accepted shapes of a personnummer.
	ErrFormat = errors.New("must be 12 digits YYYYMMDDNNNC or 10 digits YYMMDD-NNNC")
	// ErrDate means the birth date (for a samordningsnummer: the day minus 60) does not exist.
	ErrDate = errors.New("birth date is not a real calendar date")
	// ErrChecksum means the last digit is not the Luhn check digit of the preceding nine.
	ErrChecksum = errors.New("check digit does not match (Luhn)")
	// ErrReference means a 10-digit number was given with a zero reference date, so its
	// century cannot be inferred.
	ErrReference = errors.New("a reference date is needed to infer the century of a 10-digit number")
	// ErrRootMismatch means the root OID names one kind of number and the extension is the
	// other (a samordningsnummer under the personnummer OID, or the reverse).
	ErrRootMismatch = errors.New("root OID does not match the kind of number")
	// ErrRoot means the root of a reserve number is not a plausible OID.
	ErrRoot = errors.New("root must be an OID: numeric arcs separated by dots, no leading zeros, at most 64 characters")
	// ErrReserveNotAllowed means the root is not a national OID and the caller does not accept
	// reserve numbers.
	ErrReserveNotAllowed = errors.New("reserve numbers are not allowed here")
	// ErrReserveFormat means a reserve number is empty, too long or has characters other than
	// printable ASCII.
	ErrReserveFormat = errors.New("reserve number must be 1 to 64 printable ASCII characters without spaces")

	errCoordinationUnderPNR = fmt.Errorf("%w: a samordningsnummer under the personnummer root", ErrRootMismatch)
	errPNRUnderCoordination = fmt.Errorf("%w: a personnummer under the samordningsnummer root", ErrRootMismatch)
)

// PersonID identifies the person behind a log entry: a personnummer, a samordningsnummer or a
// reserve number. The zero value identifies nobody (IsZero).
//
// PersonIDs are comparable with == (equal numbers give equal values, so they work as map keys).
// Reflection-based printing of a struct that holds a PersonID in an unexported field (where fmt
// cannot call Format) must not show the number either: a personnummer or samordningsnummer is
// held as its 12 digits XOR a random per-process key, so such output shows noise, and a reserve
// number sits behind a unique.Handle, which prints as a pointer. Parsing a personnummer
// allocates nothing.
type PersonID struct {
	kind Kind
	root string
	num  uint64                // personnummer and samordningsnummer: the 12 digits ^ scramble
	ext  unique.Handle[string] // reserve numbers: the extension as given
}

// scramble hides numbers from reflection; it never leaves the process.
var scramble = func() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.LittleEndian.Uint64(b[:]) | 1
}()

// ParsePersonID parses a personnummer or samordningsnummer as written by people and systems:
//
//	YYYYMMDDNNNC, YYYYMMDD-NNNC, YYYYMMDD+NNNC   (12 digits, century given)
//	YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC         (10 digits, century inferred)
//
// Surrounding whitespace is trimmed; nothing else is tolerated. For the 10-digit forms the
// century is inferred from ref, the date on which the number was used, by Skatteverket's rule
// (folkbokföringslagen 18 § second paragraph, SKV 704): the '-' is replaced by '+' from the
// calendar year in which the person turns 100. So '-' (or no separator) picks the latest birth
// year not after ref's year, and '+' the one a hundred years earlier. The rule counts calendar
// years, not birthdays, and no check is made that the birth date lies before ref. In the
// 12-digit forms the separator carries no meaning and is not checked against ref.
//
// The birth date must exist in the (proleptic Gregorian) calendar. A day of 61–91 marks a
// samordningsnummer (SKV 707: the day of birth increased by 60); its date minus 60 days must
// exist. The last digit must be the Luhn check digit (weights 2,1,2,… over YYMMDDNNN).
func ParsePersonID(s string, ref time.Time) (PersonID, error) {
	s = strings.TrimSpace(s)
	var full [12]byte
	switch {
	case s == "":
		return PersonID{}, ErrEmpty
	case len(s) == 12 && allDigits(s):
		copy(full[:], s)
	case len(s) == 13 && isSeparator(s[8]) && allDigits(s[:8]) && allDigits(s[9:]):
		copy(full[:8], s[:8])
		copy(full[8:], s[9:])
	case len(s) == 10 && allDigits(s):
		if err := fillCentury(&full, s, '-', ref); err != nil {
			return PersonID{}, err
		}
	case len(s) == 11 && isSeparator(s[6]) && allDigits(s[:6]) && allDigits(s[7:]):
		if err := fillCentury(&full, s[:6]+s[7:], s[6], ref); err != nil {
			return PersonID{}, err
		}
	default:
		return PersonID{}, ErrFormat
	}
	return fromDigits(full)
}

// NewPersonID builds a PersonID from the RIV-TA IIType object form: root OID and extension.
//
// Under OIDPersonalIdentityNumber or OIDCoordinationNumber the extension is parsed like
// ParsePersonID (ref serves the same purpose) and must be of the kind the root names. Any other
// root denotes a reserve number: it is accepted only if allowReserve is set, the root looks like
// an OID and the extension is 1–64 printable, non-space ASCII characters; both are kept exactly
// as given, since only the issuer knows their structure.
func NewPersonID(root, extension string, ref time.Time, allowReserve bool) (PersonID, error) {
	switch root {
	case OIDPersonalIdentityNumber, OIDCoordinationNumber:
		p, err := ParsePersonID(extension, ref)
		if err != nil {
			return PersonID{}, err
		}
		if p.root != root {
			if p.kind == CoordinationNumber {
				return PersonID{}, errCoordinationUnderPNR
			}
			return PersonID{}, errPNRUnderCoordination
		}
		return p, nil
	}
	if !validOID(root) {
		return PersonID{}, ErrRoot
	}
	if !allowReserve {
		return PersonID{}, ErrReserveNotAllowed
	}
	if !validReserve(extension) {
		return PersonID{}, ErrReserveFormat
	}
	return PersonID{kind: ReserveNumber, root: strings.Clone(root), ext: unique.Make(extension)}, nil
}

// Kind returns the scheme of p; 0 for the zero PersonID.
func (p PersonID) Kind() Kind { return p.kind }

// Root returns the root OID of p: the national OID for personnummer and samordningsnummer, the
// issuer's OID for reserve numbers, "" for the zero PersonID.
func (p PersonID) Root() string { return p.root }

// Extension returns the number itself: 12 digits YYYYMMDDNNNC without separator for
// personnummer and samordningsnummer, the reserve number as given, "" for the zero PersonID.
// This is the explicit way to reveal the number; use it only where the number must leave the
// process (storage, an authorised API response).
func (p PersonID) Extension() string {
	switch p.kind {
	case PersonalIdentityNumber, CoordinationNumber:
		d := p.digits()
		return string(d[:])
	case ReserveNumber:
		return p.ext.Value()
	}
	return ""
}

// AppendExtension appends Extension to dst without allocating.
func (p PersonID) AppendExtension(dst []byte) []byte {
	switch p.kind {
	case PersonalIdentityNumber, CoordinationNumber:
		d := p.digits()
		return append(dst, d[:]...)
	case ReserveNumber:
		return append(dst, p.ext.Value()...)
	}
	return dst
}

// Formatted returns the number the way people write it: YYYYMMDD-NNNC for personnummer and
// samordningsnummer, the reserve number as given, "" for the zero PersonID. Like Extension it
// reveals the number.
func (p PersonID) Formatted() string {
	switch p.kind {
	case PersonalIdentityNumber, CoordinationNumber:
		d := p.digits()
		return string(d[:8]) + "-" + string(d[8:])
	}
	return p.Extension()
}

// BirthDate returns the birth date (midnight UTC) encoded in a personnummer or samordningsnummer,
// with 60 subtracted from a samordningsnummer's day. It reports false for reserve numbers and
// the zero PersonID.
func (p PersonID) BirthDate() (time.Time, bool) {
	if p.kind != PersonalIdentityNumber && p.kind != CoordinationNumber {
		return time.Time{}, false
	}
	e := p.digits()
	y, m, d := atoiBytes(e[0:4]), atoiBytes(e[4:6]), atoiBytes(e[6:8])
	if p.kind == CoordinationNumber {
		d -= 60
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
}

// IsZero reports whether p is the zero PersonID, which identifies nobody.
func (p PersonID) IsZero() bool { return p.kind == 0 }

// Key returns a compact integer for storage indexes: the 12 digits of a personnummer or
// samordningsnummer as an int64 (191212121212 for 19121212-1212). The kind is implied, since a
// samordningsnummer's day (61–91) never collides with a personnummer's. Reserve numbers and the
// zero PersonID return 0; storage keys those by root and extension instead.
func (p PersonID) Key() int64 {
	if p.kind != PersonalIdentityNumber && p.kind != CoordinationNumber {
		return 0
	}
	return int64(p.num ^ scramble)
}

// Equal reports whether p and o identify the same number under the same root. It is the same
// as p == o and exists for readability and for generic code.
func (p PersonID) Equal(o PersonID) bool { return p == o }

// String returns a masked text such as "personnummer(masked)" so that a PersonID passed to a
// log or error message by mistake does not reveal the number. Use Extension or Formatted to
// reveal it on purpose.
func (p PersonID) String() string {
	if p.kind == 0 {
		return "none"
	}
	return p.kind.String() + "(masked)"
}

// GoString returns the masked Go-syntax form used by %#v.
func (p PersonID) GoString() string {
	if p.kind == 0 {
		return "ident.PersonID{}"
	}
	return "ident.PersonID{" + p.String() + "}"
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %s, %q, %d, %x, …) prints the
// masked text of String; %#v prints GoString. Width and flags are honoured.
func (p PersonID) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			_, _ = io.WriteString(f, p.GoString())
			return
		}
	case 'q':
		_, _ = fmt.Fprintf(f, fmt.FormatString(f, 'q'), p.String())
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, 's'), p.String())
}

// LogValue implements slog.LogValuer with the masked text of String, so that structured logs
// never carry the number.
func (p PersonID) LogValue() slog.Value { return slog.StringValue(p.String()) }

var (
	_ fmt.Stringer   = PersonID{}
	_ fmt.GoStringer = PersonID{}
	_ fmt.Formatter  = PersonID{}
	_ slog.LogValuer = PersonID{}
)

// fillCentury writes the 12-digit form of the 10 digits d into full, choosing the century by
// the separator sep and the reference date ref (see ParsePersonID).
func fillCentury(full *[12]byte, d string, sep byte, ref time.Time) error {
	if ref.IsZero() {
		return ErrReference
	}
	refYear := ref.Year()
	yy := atoi(d[:2])
	year := refYear - ((refYear-yy)%100+100)%100 // latest year ≤ refYear ending in yy
	if sep == '+' {
		year -= 100
	}
	if year < 1 || year > 9999 {
		return ErrDate
	}
	y := strconv.Itoa(year)
	copy(full[:4], strings.Repeat("0", 4-len(y))+y)
	copy(full[4:], d[2:])
	return nil
}

// fromDigits validates the normalised 12 digits and builds the PersonID.
func fromDigits(full [12]byte) (PersonID, error) {
	s := full[:]
	year, month, day := atoiBytes(s[0:4]), atoiBytes(s[4:6]), atoiBytes(s[6:8])
	kind, root := PersonalIdentityNumber, OIDPersonalIdentityNumber
	if day > 60 {
		kind, root = CoordinationNumber, OIDCoordinationNumber
		day -= 60
	}
	// There is no year 0 in the Gregorian calendar; 1 BC is followed by AD 1.
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return PersonID{}, ErrDate
	}
	if int(s[11]-'0') != CheckDigit(s[2:11]) {
		return PersonID{}, ErrChecksum
	}
	return PersonID{kind: kind, root: root, num: uint64(atoiBytes(s)) ^ scramble}, nil
}

func atoiBytes(s []byte) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// CheckDigit returns the Luhn check digit of a personnummer's or samordningsnummer's nine digits
// YYMMDDNNN (weights 2,1,2,… from the left, the digits of each product summed), as
// Skatteverket computes it. Code that makes numbers (synthetic data) uses it so that the rule
// lives in one place.
func CheckDigit(nine []byte) int {
	sum := 0
	for i, c := range nine {
		v := int(c - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return (10 - sum%10) % 10
}

// digits returns the 12 digits of a personnummer or samordningsnummer.
func (p PersonID) digits() [12]byte {
	var d [12]byte
	n := p.num ^ scramble
	for i := 11; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return d
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// validOID reports whether s looks like an OID in dotted form: at least two arcs, each a decimal
// number without leading zeros (so that one OID has one spelling and compares equal as a
// string), at most maxOIDLen bytes.
func validOID(s string) bool {
	if len(s) == 0 || len(s) > maxOIDLen {
		return false
	}
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 {
		return false
	}
	for _, a := range arcs {
		if a == "" || !allDigits(a) || (len(a) > 1 && a[0] == '0') {
			return false
		}
	}
	return true
}

// validReserve reports whether s is 1..maxReserveLen printable ASCII characters other than space.
func validReserve(s string) bool {
	if len(s) == 0 || len(s) > maxReserveLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func isSeparator(c byte) bool { return c == '-' || c == '+' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// atoi converts a short run of ASCII digits already checked by allDigits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
