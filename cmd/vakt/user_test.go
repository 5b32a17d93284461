package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
)

// TestUserCreate: accounts made by the CLI, with a password from standard input or generated,
// can log in against the registry with exactly that password.
func TestUserCreate(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	cli(t, "", "tenant", "create", "region-exempel", "--name", "Region Exempel", "--care-provider", "SE2321000016-0001", "--data", data)
	cli(t, "ett långt lösenord\n", "user", "create", "anna", "--tenant", "region-exempel", "--role", "granskare", "--role", "chef",
		"--care-unit", "SE2321000016-7P5P", "--name", "Anna Andersson", "--hsa-id", "SE2321000016-1234", "--data", data)
	pw := strings.TrimSpace(cli(t, "", "user", "create", "admin", "--tenant", "region-exempel", "--role", "lokal_administrator",
		"--generate-password", "--data", data))
	if account.CheckPassword(pw) != nil || strings.Contains(pw, "\n") {
		t.Fatalf("generated password %q", pw)
	}
	var out, errOut bytes.Buffer
	for _, bad := range [][]string{
		{"user", "create", "bo", "--tenant", "region-exempel", "--role", "admin", "--data", data},
		{"user", "create", "bo", "--tenant", "nobody", "--role", "chef", "--data", data},
		{"user", "create", "anna", "--tenant", "region-exempel", "--role", "chef", "--data", data},
		{"user", "create", "bo", "--tenant", "region-exempel", "--role", "chef", "--data", data}, // too short a password
	} {
		if err := run(ctx, bad, strings.NewReader("kort\n"), &out, &errOut); err == nil {
			t.Errorf("vakt %v succeeded", bad)
		}
	}
	if strings.Contains(errOut.String(), "kort") {
		t.Fatal("an error repeated the password")
	}
	reg, err := openRegistry(ctx, data, "")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	a := &account.Authenticator{Store: reg}
	u, err := a.Login(ctx, "anna", "ett långt lösenord")
	if err != nil || u.TenantID != "region-exempel" || u.Name != "Anna Andersson" || u.HSAID != "SE2321000016-1234" ||
		len(u.Roles) != 2 || len(u.CareUnits) != 1 || u.MustChange {
		t.Fatalf("anna: %+v %v", u, err)
	}
	admin, err := a.Login(ctx, "admin", pw)
	if err != nil || !admin.MustChange || !strings.HasPrefix(string(admin.HSAID), "SE2321000016-VAKT") || admin.Roles[0] != vakt.RoleLocalAdmin {
		t.Fatalf("admin: %+v %v", admin, err)
	}
	if list := cli(t, "", "user", "list", "--data", data); !strings.Contains(list, "anna") || !strings.Contains(list, "admin") || strings.Contains(list, "argon2") ||
		!strings.Contains(list, "one-time-password") || !strings.Contains(list, " active ") {
		t.Fatalf("user list:\n%s", list)
	}
}
