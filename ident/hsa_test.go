package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHSAIDValid(t *testing.T) {
	tests := []struct {
		in, want, org string
	}{
		{"SE2321000016-7P5P", "SE2321000016-7P5P", "2321000016"},
		{"SE2321000016-E2DF", "SE2321000016-E2DF", "2321000016"},
		{"SE162321000255-O12345", "SE162321000255-O12345", "162321000255"},
		{"TSTNMT2321000156-B7S", "TSTNMT2321000156-B7S", "2321000156"},
		{"SE5565594230-B9P", "SE5565594230-B9P", "5565594230"},
		{" SE2321000016-7P5P\n", "SE2321000016-7P5P", "2321000016"},
		{"SE2321000016-1", "SE2321000016-1", "2321000016"},
		{"SE2321000016-abc", "SE2321000016-abc", "2321000016"},
		{"ABCDEFGHIJ2321000016-X", "ABCDEFGHIJ2321000016-X", "2321000016"},
		{"SE2321000016-" + strings.Repeat("A", 19), "SE2321000016-" + strings.Repeat("A", 19), "2321000016"}, // 32
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			h, err := ParseHSAID(tt.in)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if string(h) != tt.want || h.String() != tt.want || h.OrganisationNumber() != tt.org {
				t.Errorf("got %q org %q", h, h.OrganisationNumber())
			}
		})
	}
}

func TestParseHSAIDInvalid(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrEmpty},
		{"blank", "  \t", ErrEmpty},
		{"too long", "SE2321000016-" + strings.Repeat("A", 20), ErrHSATooLong},
		{"inner space", "SE2321000016 -7P5P", ErrHSASpace},
		{"inner tab", "SE\t2321000016-7P5P", ErrHSASpace},
		{"no-break space", "SE2321000016-7P\u00a05P", ErrHSASpace},
		{"no prefix", "2321000016-7P5P", ErrHSAPrefix},
		{"lower-case prefix", "se2321000016-7P5P", ErrHSAPrefix},
		{"one-letter prefix", "S2321000016-7P5P", ErrHSAPrefix},
		{"11-letter prefix", "ABCDEFGHIJK2321000016-X", ErrHSAPrefix},
		{"non-ASCII prefix", "SÖ2321000016-X", ErrHSAPrefix},
		{"non-ASCII after prefix", "SEÖ2321000016-X", ErrHSAOrgNumber},
		{"9 digits", "SE232100001-7P5P", ErrHSAOrgNumber},
		{"11 digits", "SE23210000160-7P5P", ErrHSAOrgNumber},
		{"13 digits", "SE1623210002550-X", ErrHSAOrgNumber},
		{"no digits", "SE-7P5P", ErrHSAOrgNumber},
		{"prefix only", "SE", ErrHSAOrgNumber},
		{"no dash", "SE2321000016X7P5P", ErrHSASeparator},
		{"plus instead of dash", "SE2321000016+7P5P", ErrHSASeparator},
		{"org only", "SE2321000016", ErrHSASeparator},
		{"underscore", "SE2321000016_7P5P", ErrHSASeparator},
		{"empty local", "SE2321000016-", ErrHSALocalPart},
		{"second dash", "SE2321000016-7P-5P", ErrHSALocalPart},
		{"punctuation", "SE2321000016-7P.5P", ErrHSALocalPart},
		{"non-ASCII local", "SE2321000016-ÅÄÖ", ErrHSALocalPart},
		{"control char", "SE2321000016-7P\x005P", ErrHSALocalPart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHSAID(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if h != "" {
				t.Errorf("non-empty HSAID %q on error", h)
			}
			checkErrorText(t, tt.in, err)
		})
	}
}

func TestHSAIDOrganisationNumberOfUnparsed(t *testing.T) {
	for _, h := range []HSAID{"", "SE", "2321000016-X", "SE232100001-X", "SE2321000016"} {
		if got := h.OrganisationNumber(); got != "" {
			t.Errorf("HSAID(%q).OrganisationNumber() = %q", string(h), got)
		}
	}
}
