package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

// runUserCreate creates a person's local account. The password comes from the first line of
// standard input, or, with --generate-password, is generated and printed once on standard output;
// it never appears on the command line, where other users of the machine could see it.
func runUserCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user create", "user create USERNAME --tenant ID --role ROLE [--role ROLE ...] [--care-unit HSAID ...] [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	tenantID := fs.String("tenant", "", "tenant the person acts in")
	var roles, units stringList
	fs.Var(&roles, "role", "granskare, chef, loggadministrator, lokal_administrator or behorighetsadministrator; repeat for several")
	fs.Var(&units, "care-unit", "HSA-id of a care unit (vårdenhet) the person is limited to; repeat for several (default: the whole tenant)")
	name := fs.String("name", "", "the person's name, shown in the tool and logged with their searches")
	hsa := fs.String("hsa-id", "", "the person's HSA-id (default: a local id under the tenant's first care provider)")
	title := fs.String("title", "", "the person's title, e.g. Verksamhetschef")
	generate := fs.Bool("generate-password", false, "generate a one-time password, print it once and require a new one at first login (default: read the password from standard input)")
	username, rest := splitID(args)
	if err := parse(fs, rest, "postgres"); err != nil {
		return err
	}
	if username == "" && fs.NArg() == 1 {
		username = fs.Arg(0)
	}
	if username == "" {
		fs.Usage()
		return fmt.Errorf("username missing")
	}
	u := account.User{Username: username, TenantID: *tenantID, Name: *name, Title: *title, CreatedAt: time.Now()}
	for _, r := range roles {
		role, err := vakt.ParsePersonRole(r)
		if err != nil {
			return fmt.Errorf("--role: %w", err)
		}
		u.Roles = append(u.Roles, role)
	}
	for _, c := range units {
		h, err := ident.ParseHSAID(c)
		if err != nil {
			return fmt.Errorf("--care-unit: %w", err)
		}
		u.CareUnits = append(u.CareUnits, h)
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	t, err := reg.Tenant(ctx, *tenantID)
	if err != nil {
		return fmt.Errorf("tenant %q: %w", *tenantID, err)
	}
	if *hsa != "" {
		if u.HSAID, err = ident.ParseHSAID(*hsa); err != nil {
			return fmt.Errorf("--hsa-id: %w", err)
		}
	} else if u.HSAID, err = account.LocalHSAID(t.CareProviders[0]); err != nil {
		return err
	}
	var pw string
	if *generate {
		pw, u.MustChange = account.GeneratePassword(), true
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if err := account.CheckPassword(pw); err != nil {
			return describe(err)
		}
	}
	if err := u.Validate(); err != nil {
		return describe(err)
	}
	if err := reg.CreateUser(ctx, u, account.HashPassword(pw, account.DefaultParams)); err != nil {
		return describe(err)
	}
	fmt.Fprintf(stderr, "created account %s (HSA-id %s) in tenant %s\n", u.Username, u.HSAID, u.TenantID)
	if *generate {
		fmt.Fprintf(stderr, "its one-time password is shown only now; it must be changed at first login\n")
		fmt.Fprintln(stdout, pw)
	}
	return nil
}

func runUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user list", "user list [--tenant ID] [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	tenantID := fs.String("tenant", "", "only this tenant's accounts")
	if err := parse(fs, args, "postgres"); err != nil {
		return err
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	users, err := reg.Users(ctx, *tenantID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tTENANT\tNAME\tHSA-ID\tROLES\tCARE UNITS\tSTATE\tCREATED")
	for _, u := range users {
		units := "(all)"
		if len(u.CareUnits) > 0 {
			units = fmt.Sprint(u.CareUnits)
		}
		state := "active"
		switch {
		case u.Disabled:
			state = "disabled"
		case u.MustChange:
			state = "one-time-password"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", u.Username, u.TenantID, u.Name, u.HSAID, u.Roles, units, state, u.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}
