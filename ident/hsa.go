package ident

import (
	"errors"
	"strings"
	"unicode"
)

// maxHSAIDLen is the longest HSA-id accepted: RIV-TA's HsaId type has maxLength 32.
const maxHSAIDLen = 32

// Errors returned by ParseHSAID (besides ErrEmpty); test with errors.Is. Like the person
// errors they never contain the input.
var (
	// ErrHSATooLong means the HSA-id is longer than RIV-TA's HsaId maxLength.
	ErrHSATooLong = errors.New("HSA-id is too long (max 32 characters)")
	// ErrHSASpace means the HSA-id has whitespace inside it.
	ErrHSASpace = errors.New("HSA-id must not contain whitespace")
	// ErrHSAPrefix means the HSA-id does not start with an issuer prefix of 2–10 upper-case
	// ASCII letters (such as "SE").
	ErrHSAPrefix = errors.New("HSA-id must start with an issuer prefix of 2 to 10 upper-case letters")
	// ErrHSAOrgNumber means the digits after the issuer prefix are not an organisation number
	// of 10 or 12 digits.
	ErrHSAOrgNumber = errors.New("HSA-id organisation number must be 10 or 12 digits")
	// ErrHSASeparator means the organisation number is not followed by '-'.
	ErrHSASeparator = errors.New("HSA-id is missing '-' after the organisation number")
	// ErrHSALocalPart means the part after '-' is empty or has characters other than ASCII
	// letters and digits.
	ErrHSALocalPart = errors.New("HSA-id local part after '-' must be one or more letters or digits")
)

// HSAID is an HSA-id, the identifier that the national catalogue service HSA gives employees,
// care units, care providers and systems. HSA-ids are not secret: String returns the id as is.
//
// An HSAID obtained from ParseHSAID has the shape
//
//	PREFIX ORGNUMBER '-' LOCAL
//
// where PREFIX is the issuer (2–10 upper-case ASCII letters, "SE" for production ids, e.g.
// "TSTNMT" for test ids), ORGNUMBER the issuing organisation's number (10 digits, or 12 with a
// century-like "16" prefix), and LOCAL one or more ASCII letters and digits; at most 32
// characters in all (RIV-TA HsaId maxLength). Example: "SE2321000016-7P5P".
type HSAID string

// ParseHSAID validates s as an HSA-id. Surrounding whitespace is trimmed; the id is otherwise
// kept exactly as given (case included), because HSA-ids are compared as strings.
func ParseHSAID(s string) (HSAID, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrEmpty
	case len(s) > maxHSAIDLen:
		return "", ErrHSATooLong
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "", ErrHSASpace
	}
	i := upperPrefixLen(s)
	if i < 2 || i > 10 {
		return "", ErrHSAPrefix
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if n := j - i; n != 10 && n != 12 {
		return "", ErrHSAOrgNumber
	}
	if j == len(s) || s[j] != '-' {
		return "", ErrHSASeparator
	}
	local := s[j+1:]
	if local == "" {
		return "", ErrHSALocalPart
	}
	for k := 0; k < len(local); k++ {
		c := local[k]
		if !isDigit(c) && !('A' <= c && c <= 'Z') && !('a' <= c && c <= 'z') {
			return "", ErrHSALocalPart
		}
	}
	return HSAID(s), nil
}

// String returns the HSA-id unchanged.
func (h HSAID) String() string { return string(h) }

// OrganisationNumber returns the organisation number embedded in the HSA-id: the 10 or 12
// digits between the issuer prefix and '-' (e.g. "2321000016" for "SE2321000016-7P5P"). It
// returns "" if h does not have that shape, which cannot happen for an HSAID from ParseHSAID.
func (h HSAID) OrganisationNumber() string {
	s := string(h)
	i := upperPrefixLen(s)
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if n := j - i; i == 0 || (n != 10 && n != 12) || j == len(s) || s[j] != '-' {
		return ""
	}
	return s[i:j]
}

// upperPrefixLen returns the number of leading upper-case ASCII letters in s.
func upperPrefixLen(s string) int {
	i := 0
	for i < len(s) && 'A' <= s[i] && s[i] <= 'Z' {
		i++
	}
	return i
}
