package tenant_test

import (
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

func TestValidate(t *testing.T) {
	good := tenant.Tenant{ID: "region-exempel", Name: "Region Exempel", CareProviders: []ident.HSAID{"SE2321000016-0001"}}
	cases := []struct {
		name  string
		edit  func(*tenant.Tenant)
		field string // "" means valid
	}{
		{"valid", func(*tenant.Tenant) {}, ""},
		{"empty id", func(t *tenant.Tenant) { t.ID = "" }, "id"},
		{"upper case id", func(t *tenant.Tenant) { t.ID = "Region" }, "id"},
		{"id starting with dash", func(t *tenant.Tenant) { t.ID = "-x" }, "id"},
		{"id with slash", func(t *tenant.Tenant) { t.ID = "a/b" }, "id"},
		{"id too long", func(t *tenant.Tenant) { t.ID = strings.Repeat("a", 64) }, "id"},
		{"no name", func(t *tenant.Tenant) { t.Name = "" }, "name"},
		{"name too long", func(t *tenant.Tenant) { t.Name = strings.Repeat("å", 257) }, "name"},
		{"no care provider", func(t *tenant.Tenant) { t.CareProviders = nil }, "careProviders"},
		{"bad HSA-id", func(t *tenant.Tenant) { t.CareProviders = []ident.HSAID{"nope"} }, "careProviders"},
		{"care provider twice", func(t *tenant.Tenant) {
			t.CareProviders = []ident.HSAID{"SE2321000016-0001", "SE2321000016-0001"}
		}, "careProviders"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := good
			tn.CareProviders = append([]ident.HSAID(nil), good.CareProviders...)
			c.edit(&tn)
			err := tn.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid tenant rejected: %v", err)
				}
				return
			}
			if vakt.ErrorCode(err) != vakt.CodeInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			if probs := vakt.ErrorProblems(err); len(probs) == 0 || probs[0].Field != c.field {
				t.Fatalf("problems %+v, want field %s", probs, c.field)
			}
		})
	}
	tn := good
	if !tn.Owns("SE2321000016-0001") || tn.Owns("SE2321000016-0002") {
		t.Fatal("Owns is wrong")
	}
}
