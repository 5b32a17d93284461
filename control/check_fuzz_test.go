package control

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/vakt/vakt"
)

// checked fails t unless s is what a stored text may be: trimmed, valid UTF-8, at most max
// characters, no control characters but line breaks and tabs.
func checked(t *testing.T, s string, max int) {
	t.Helper()
	if s != strings.TrimSpace(s) || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max ||
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0 {
		t.Fatalf("%q accepted", s)
	}
}

// problemsIn fails t unless err is invalid input naming only fields of fields.
func problemsIn(t *testing.T, err error, fields ...string) {
	t.Helper()
	ve, ok := err.(*vakt.Error)
	if !ok || ve.Code != vakt.CodeInvalid || len(ve.Problems) == 0 {
		t.Fatalf("error %v is not invalid input", err)
	}
	for _, p := range ve.Problems {
		if !strings.Contains(" "+strings.Join(fields, " ")+" ", " "+p.Field+" ") {
			t.Fatalf("problem names the field %q", p.Field)
		}
	}
}

// FuzzCheckAssessment: an accepted assessment is a known one, its comment a clean text within
// the limit, present unless the access is in order.
func FuzzCheckAssessment(f *testing.F) {
	f.Add("i_ordning", "")
	f.Add("obehorig", "Ingen vårdrelation")
	f.Add("behover_uppfoljning", "  \n ")
	f.Add("nonsense", "a\x00b")
	f.Add("obehorig", strings.Repeat("å", MaxCommentLen+1))
	f.Add("i_ordning", "\xff")
	f.Fuzz(func(t *testing.T, a, comment string) {
		got, err := CheckAssessment(Assessment(a), comment)
		if err != nil {
			problemsIn(t, err, "assessment", "comment")
			return
		}
		if !Assessment(a).Valid() || Assessment(a) != InOrder && got == "" {
			t.Fatalf("%q with %q accepted", a, comment)
		}
		checked(t, got, MaxCommentLen)
	})
}

// FuzzCheckClosing: accepted findings and conclusion are both present and clean texts within
// the limit.
func FuzzCheckClosing(f *testing.F) {
	f.Add("Inget att anmärka", "Klart")
	f.Add("", " ")
	f.Add("a\x1bb", strings.Repeat("x", MaxSummaryLen+1))
	f.Fuzz(func(t *testing.T, findings, conclusion string) {
		fi, co, err := CheckClosing(findings, conclusion)
		if err != nil {
			problemsIn(t, err, "findings", "conclusion")
			return
		}
		if fi == "" || co == "" {
			t.Fatal("an empty text accepted")
		}
		checked(t, fi, MaxSummaryLen)
		checked(t, co, MaxSummaryLen)
	})
}
