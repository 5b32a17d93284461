package account_test

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

// cheap keeps the tests fast; the parameters travel in the hash, so verification is the same code.
var cheap = account.Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestValidate(t *testing.T) {
	good := account.User{Username: "anna.a", TenantID: "t1", HSAID: "SE2321000016-1234", Roles: []vakt.Role{vakt.RoleReviewer},
		CareUnits: []ident.HSAID{"SE2321000016-7P5P"}}
	cases := []struct {
		name  string
		edit  func(*account.User)
		field string
	}{
		{"valid", func(*account.User) {}, ""},
		{"no username", func(u *account.User) { u.Username = "" }, "username"},
		{"upper case", func(u *account.User) { u.Username = "Anna" }, "username"},
		{"leading dash", func(u *account.User) { u.Username = "-a" }, "username"},
		{"space", func(u *account.User) { u.Username = "a b" }, "username"},
		{"too long", func(u *account.User) { u.Username = strings.Repeat("a", 65) }, "username"},
		{"no tenant", func(u *account.User) { u.TenantID = "" }, "tenant"},
		{"bad HSA-id", func(u *account.User) { u.HSAID = "x" }, "hsaId"},
		{"no role", func(u *account.User) { u.Roles = nil }, ""},
		{"system role", func(u *account.User) { u.Roles = []vakt.Role{vakt.RoleReader} }, "roles"},
		{"role twice", func(u *account.User) { u.Roles = []vakt.Role{vakt.RoleManager, vakt.RoleManager} }, "roles"},
		{"bad unit", func(u *account.User) { u.CareUnits = []ident.HSAID{"nope"} }, "careUnits"},
		{"unit twice", func(u *account.User) { u.CareUnits = append(u.CareUnits, u.CareUnits[0]) }, "careUnits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := good.Clone()
			c.edit(&u)
			err := u.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if probs := vakt.ErrorProblems(err); vakt.ErrorCode(err) != vakt.CodeInvalid || len(probs) == 0 || probs[0].Field != c.field {
				t.Fatalf("err %v, want a problem with field %s", err, c.field)
			}
		})
	}
	p := good.Principal()
	if p.Kind != vakt.PrincipalPerson || p.ID != "anna.a" || p.Name != "anna.a" || p.HSAID != "SE2321000016-1234" ||
		!p.Limited() || !p.InUnits("SE2321000016-7P5P") || p.InUnits("SE2321000016-0002") || !p.Has(vakt.RoleReviewer) {
		t.Fatalf("principal %+v", p)
	}
}

// TestAllowed pins the permission matrix that docs/UI.md shows.
func TestAllowed(t *testing.T) {
	// permissions in account.Permissions order: F(ollow up), E(xport), C(ontrols), A(ccounts:
	// view), M(anage accounts), G(rant roles), O(verview of controls), P(ermission list),
	// W(atch list)
	want := map[vakt.Role]string{
		vakt.RoleReviewer:        "FEC---OPW",
		vakt.RoleManager:         "FE----OPW",
		vakt.RoleLogAdmin:        "FEC---OPW",
		vakt.RoleLocalAdmin:      "---AM--P-",
		vakt.RolePermissionAdmin: "---A-G-P-",
		vakt.RoleReader:          "---------",
		vakt.RoleWriter:          "---------",
	}
	for role, w := range want {
		p := &vakt.Principal{Kind: vakt.PrincipalPerson, Roles: []vakt.Role{role}}
		got := ""
		for i, perm := range account.Permissions() {
			if account.Allowed(p, perm) {
				got += string("FECAMGOPW"[i])
			} else {
				got += "-"
			}
		}
		if got != w {
			t.Errorf("%s: %s, want %s", role, got, w)
		}
	}
	sys := &vakt.Principal{Kind: vakt.PrincipalSystem, Roles: []vakt.Role{vakt.RoleReviewer}}
	if account.Allowed(sys, account.FollowUp) || account.Allowed(nil, account.FollowUp) {
		t.Fatal("a system or nobody holds a person's permission")
	}
	if len(vakt.PersonRoles()) != len(want)-2 {
		t.Fatal("a person role is missing from this test")
	}
	// Only the behorighetsadministrator grants, every person role; a system never.
	for _, role := range vakt.PersonRoles() {
		p := &vakt.Principal{Kind: vakt.PrincipalPerson, Roles: []vakt.Role{role}}
		got := account.Grantable(p)
		if role == vakt.RolePermissionAdmin && !slices.Equal(got, vakt.PersonRoles()) || role != vakt.RolePermissionAdmin && got != nil {
			t.Errorf("%s may grant %v", role, got)
		}
	}
	if account.Grantable(&vakt.Principal{Kind: vakt.PrincipalSystem, Roles: []vakt.Role{vakt.RolePermissionAdmin}}) != nil || account.Grantable(nil) != nil {
		t.Fatal("a system or nobody grants roles")
	}
}

func TestPassword(t *testing.T) {
	pw := account.GeneratePassword()
	if len(pw) != 29 || account.CheckPassword(pw) != nil {
		t.Fatalf("generated password %q", pw)
	}
	if account.GeneratePassword() == pw {
		t.Fatal("GeneratePassword repeated itself")
	}
	enc := account.HashPassword(pw, cheap)
	h, err := account.ParseHash(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Verify(pw) || h.Verify(pw+"x") || h.Verify("") {
		t.Fatal("Verify is wrong")
	}
	if enc2 := account.HashPassword(pw, cheap); enc2 == enc {
		t.Fatal("two hashes of one password share a salt")
	}
	if !strings.HasPrefix(account.HashPassword("x", account.DefaultParams), "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatal("default parameters changed")
	}
	for _, short := range []string{"", "elva tecken"} {
		if account.CheckPassword(short) == nil {
			t.Errorf("%q accepted", short)
		}
	}
	if account.CheckPassword(strings.Repeat("å", 256)) != nil || account.CheckPassword(strings.Repeat("å", 257)) == nil {
		t.Fatal("length counts characters, up to 256")
	}
}

func TestParseHashRejects(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
	key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	for _, s := range []string{
		"",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=" + strconv.Itoa(2<<20) + ",t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
	} {
		if _, err := account.ParseHash(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzParseHash: ParseHash never panics, and whatever it accepts is within the bounds that keep
// one login's hashing bounded, and reads the same every time.
func FuzzParseHash(f *testing.F) {
	f.Add(account.HashPassword("correct horse battery", cheap))
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$t=3,m=65536,p=2$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := account.ParseHash(s)
		if err != nil {
			return
		}
		p := h.Params
		if p.MemoryKiB > 1<<20 || p.Time == 0 || p.Time > 64 || p.Threads == 0 || len(h.Salt) < 8 || len(h.Key) < 16 {
			t.Fatalf("out of bounds: %+v", h)
		}
		again, err := account.ParseHash(s)
		if err != nil || again.Params != h.Params || string(again.Salt) != string(h.Salt) || string(again.Key) != string(h.Key) {
			t.Fatal("ParseHash is not deterministic")
		}
	})
}

func TestLocalHSAID(t *testing.T) {
	a, err := account.LocalHSAID("SE2321000016-0001")
	if err != nil || !strings.HasPrefix(string(a), "SE2321000016-VAKT") || len(a) != len("SE2321000016-VAKT")+8 {
		t.Fatalf("%q %v", a, err)
	}
	if b, _ := account.LocalHSAID("SE2321000016-0001"); a == b {
		t.Fatal("LocalHSAID repeated itself")
	}
}
