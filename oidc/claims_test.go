package oidc

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

const hsa = "SE2321000016-A1B2"

func claimsWith(roles any) map[string]any {
	return map[string]any{"employeeHsaId": hsa, "name": "Greta Granskare", "title": "Sjuksköterska", "vakt_roles": roles}
}

func TestUsers(t *testing.T) {
	us, err := Users(claimsWith([]any{"granskare@region-a", "chef@region-a", "behorighetsadministrator@region-b/SE2321000131-E1"}), ClaimMapping{})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].TenantID != "region-a" || us[1].TenantID != "region-b" {
		t.Fatalf("users %+v", us)
	}
	a, b := us[0], us[1]
	if a.Username != hsa || a.HSAID != hsa || a.Name != "Greta Granskare" || a.Title != "Sjuksköterska" {
		t.Errorf("identity %+v", a)
	}
	if !slices.Equal(a.Roles, []vakt.Role{vakt.RoleReviewer, vakt.RoleManager}) || len(a.CareUnits) != 0 {
		t.Errorf("tenant A: roles %v units %v", a.Roles, a.CareUnits)
	}
	if !slices.Equal(b.Roles, []vakt.Role{vakt.RolePermissionAdmin}) || !slices.Equal(b.CareUnits, []ident.HSAID{"SE2321000131-E1"}) {
		t.Errorf("tenant B: roles %v units %v", b.Roles, b.CareUnits)
	}

	// a space-separated string, units of two roles the same, a tenant-wide grant covering a unit grant
	us, err = Users(claimsWith("granskare@region-a/SE2321000016-U2 chef@region-a/SE2321000016-U1 granskare@region-a/SE2321000016-U1 chef@region-a/SE2321000016-U2"), ClaimMapping{})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || !slices.Equal(us[0].CareUnits, []ident.HSAID{"SE2321000016-U1", "SE2321000016-U2"}) {
		t.Errorf("units %+v", us)
	}
	us, err = Users(claimsWith([]any{"granskare@region-a/SE2321000016-U1", "granskare@region-a"}), ClaimMapping{})
	if err != nil || len(us[0].CareUnits) != 0 {
		t.Errorf("tenant-wide grant: %+v %v", us, err)
	}

	// other claim names, an HSA-id in a one-element array, a name from its parts
	c := map[string]any{"hsa": []any{hsa}, "roller": []any{"loggadministrator@region-a"}, "given_name": "Greta", "family_name": "Granskare"}
	us, err = Users(c, ClaimMapping{HSAID: "hsa", Roles: "roller"})
	if err != nil || us[0].Name != "Greta Granskare" || us[0].HSAID != hsa {
		t.Errorf("mapped claims: %+v %v", us, err)
	}
}

func TestUsersRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]any
		claim  string
		reason Reason
	}{
		{"no HSA-id", map[string]any{"vakt_roles": "granskare@region-a"}, "employeeHsaId", ReasonNoHSAID},
		{"bad HSA-id", map[string]any{"employeeHsaId": "19121212-1212", "vakt_roles": "granskare@region-a"}, "employeeHsaId", ReasonBadHSAID},
		{"HSA-id with spaces", map[string]any{"employeeHsaId": " " + hsa, "vakt_roles": "granskare@region-a"}, "employeeHsaId", ReasonBadHSAID},
		{"two HSA-ids", map[string]any{"employeeHsaId": []any{hsa, hsa}, "vakt_roles": "granskare@region-a"}, "employeeHsaId", ReasonBadHSAID},
		{"no roles", claimsWith(nil), "vakt_roles", ReasonNoRoles},
		{"empty roles", claimsWith([]any{}), "vakt_roles", ReasonNoRoles},
		{"roles not strings", claimsWith([]any{1.0}), "vakt_roles", ReasonBadRoles},
		{"roles an object", claimsWith(map[string]any{"granskare": "region-a"}), "vakt_roles", ReasonBadRoles},
		{"unknown role", claimsWith([]any{"granskare@region-a", "superuser@region-a"}), "vakt_roles", ReasonUnknownRole},
		{"system role", claimsWith([]any{"writer@region-a"}), "vakt_roles", ReasonUnknownRole},
		{"no tenant", claimsWith([]any{"granskare"}), "vakt_roles", ReasonBadRoles},
		{"bad tenant", claimsWith([]any{"granskare@Region A"}), "vakt_roles", ReasonBadRoles},
		{"empty unit", claimsWith([]any{"granskare@region-a/"}), "vakt_roles", ReasonBadCareUnit},
		{"bad unit", claimsWith([]any{"granskare@region-a/x y"}), "vakt_roles", ReasonBadCareUnit},
		{"units differ", claimsWith([]any{"granskare@region-a/SE2321000016-U1", "chef@region-a/SE2321000016-U2"}), "vakt_roles", ReasonUnitsDiffer},
		{"unit and whole tenant", claimsWith([]any{"granskare@region-a/SE2321000016-U1", "chef@region-a"}), "vakt_roles", ReasonUnitsDiffer},
		{"name not a string", map[string]any{"employeeHsaId": hsa, "name": []any{"a"}, "vakt_roles": "granskare@region-a"}, "name", ReasonBadNameOrTitle},
		{"title too long", map[string]any{"employeeHsaId": hsa, "title": strings.Repeat("x", 257), "vakt_roles": "granskare@region-a"}, "title", ReasonBadNameOrTitle},
		{"too many roles", claimsWith(strings.Repeat("granskare@region-a ", 101)), "vakt_roles", ReasonBadRoles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us, err := Users(tc.claims, ClaimMapping{})
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("got %+v, %v; want a rejection", us, err)
			}
			if r.Claim != tc.claim || r.Reason != tc.reason {
				t.Errorf("rejection %+v, want %s %s", r, tc.claim, tc.reason)
			}
			if strings.Contains(err.Error(), "19121212") {
				t.Error("the error shows the claim's value")
			}
		})
	}
}

// FuzzUsers: whatever JSON claims an IdP sends, Users either refuses them or returns accounts
// that validate, each in one tenant, holding only roles and units that some value granted.
func FuzzUsers(f *testing.F) {
	f.Add(`{"employeeHsaId":"SE2321000016-A1B2","vakt_roles":["granskare@region-a","chef@region-a/SE2321000016-U1"]}`)
	f.Add(`{"employeeHsaId":["SE2321000016-A1B2"],"vakt_roles":"granskare@region-a/SE2321000016-U1 chef@region-a/SE2321000016-U1","name":"X"}`)
	f.Add(`{"employeeHsaId":"SE1","vakt_roles":"@/"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var claims map[string]any
		if json.Unmarshal([]byte(raw), &claims) != nil {
			return
		}
		us, err := Users(claims, ClaimMapping{})
		if err != nil {
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("error %v is no rejection", err)
			}
			return
		}
		values, _ := roleValues(claims, "vakt_roles")
		for _, u := range us {
			probe := u
			probe.Username = "probe"
			if err := probe.Validate(); err != nil {
				t.Fatalf("account %+v does not validate: %v", u, err)
			}
			granted := func(role vakt.Role, cu ident.HSAID) bool {
				for _, v := range values {
					if g, err := ParseRoleValue(v); err == nil && g.Tenant == u.TenantID && g.Role == role && g.CareUnit == cu {
						return true
					}
				}
				return false
			}
			for _, role := range u.Roles {
				if len(u.CareUnits) == 0 && !granted(role, "") {
					t.Fatalf("role %s in all of %s was not granted by %v", role, u.TenantID, values)
				}
				for _, cu := range u.CareUnits {
					if !granted(role, cu) {
						t.Fatalf("role %s in %s at %s was not granted by %v", role, u.TenantID, cu, values)
					}
				}
			}
		}
	})
}

// TestUserinfoMode: only the three modes (or none, for the default) pass Validate.
func TestUserinfoMode(t *testing.T) {
	base := Config{Issuer: "https://idp.example", ClientID: "vakt", ClientSecret: "s", RedirectURL: "https://vakt.example/login/oidc/callback"}
	for _, m := range []UserinfoMode{"", UserinfoMissing, UserinfoAlways, UserinfoNever} {
		c := base
		c.Userinfo = m
		if err := c.Validate(); err != nil {
			t.Errorf("mode %q: %v", m, err)
		}
	}
	c := base
	c.Userinfo = "sometimes"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "userinfo") {
		t.Fatalf("mode sometimes: %v", err)
	}
}
