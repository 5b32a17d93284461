package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/tenant"
)

// The tenant and token commands open the registry directly: the data directory's file, or with
// --postgres the database the nodes share. Both let them do so while servers run, and servers
// notice every change before the next request, so changes take effect at once.

func runTenantCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tenant create", "tenant create ID --name NAME --care-provider HSAID [--care-provider HSAID ...] [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	name := fs.String("name", "", "the tenant's name, e.g. \"Region Exempel\"")
	var cps stringList
	fs.Var(&cps, "care-provider", "HSA-id of a care provider (vårdgivare) whose entries the tenant holds; repeat for several")
	reserve := fs.Bool("allow-reserve-ids", false, "accept reserve numbers (reservnummer) as person identifiers")
	id, rest := splitID(args)
	if err := parse(fs, rest, "postgres"); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	if id == "" {
		fs.Usage()
		return fmt.Errorf("tenant id missing")
	}
	t := tenant.Tenant{ID: id, Name: *name, AllowReserveIDs: *reserve, CreatedAt: time.Now()}
	for _, c := range cps {
		h, err := ident.ParseHSAID(c)
		if err != nil {
			return fmt.Errorf("--care-provider: %w", err)
		}
		t.CareProviders = append(t.CareProviders, h)
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	if err := reg.CreateTenant(ctx, t); err != nil {
		return describe(err)
	}
	fmt.Fprintf(stderr, "created tenant %s\n", t.ID)
	return nil
}

// splitID takes a leading positional argument (the Go flag package stops at the first one).
func splitID(args []string) (string, []string) {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return args[0], args[1:]
	}
	return "", args
}

// describe turns a vakt error into a message listing its problems.
func describe(err error) error {
	probs := vakt.ErrorProblems(err)
	if len(probs) == 0 {
		return err
	}
	msg := vakt.ErrorMessage(err)
	for _, p := range probs {
		msg += fmt.Sprintf("\n  %s: %s", p.Field, p.Reason)
	}
	return fmt.Errorf("%s", msg)
}

func runTenantList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tenant list", "tenant list [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, "postgres"); err != nil {
		return err
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	ts, err := reg.Tenants(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		type out struct {
			ID              string        `json:"id"`
			Name            string        `json:"name"`
			CareProviders   []ident.HSAID `json:"careProviders"`
			AllowReserveIDs bool          `json:"allowReserveIds"`
			CreatedAt       time.Time     `json:"createdAt"`
		}
		list := make([]out, len(ts))
		for i, t := range ts {
			list[i] = out{t.ID, t.Name, t.CareProviders, t.AllowReserveIDs, t.CreatedAt}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCARE PROVIDERS\tCREATED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", t.ID, t.Name, t.CareProviders, t.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func runTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", "token create --tenant ID --role writer|reader [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	tenantID := fs.String("tenant", "", "tenant the token acts in")
	role := fs.String("role", "", "writer (store entries) or reader (search and export)")
	label := fs.String("label", "", "what the token is for, e.g. the system's name")
	if err := parse(fs, args, "postgres"); err != nil {
		return err
	}
	r, err := vakt.ParseRole(*role)
	if err != nil {
		return err
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	if _, err := reg.Tenant(ctx, *tenantID); err != nil {
		return fmt.Errorf("tenant %q: %w", *tenantID, err)
	}
	token, id := auth.NewToken()
	c := auth.Credential{ID: id, TenantID: *tenantID, Role: r, Label: *label, CreatedAt: time.Now()}
	if err := reg.CreateCredential(ctx, c, auth.HashToken(token)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created %s token %s for tenant %s; it is shown only now\n", r, id, *tenantID)
	fmt.Fprintln(stdout, token)
	return nil
}

func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", "token list [--tenant ID] [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	tenantID := fs.String("tenant", "", "only this tenant's tokens")
	if err := parse(fs, args, "postgres"); err != nil {
		return err
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	cs, err := reg.Credentials(ctx, *tenantID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tROLE\tLABEL\tCREATED\tREVOKED")
	for _, c := range cs {
		revoked := "-"
		if !c.RevokedAt.IsZero() {
			revoked = c.RevokedAt.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.TenantID, c.Role, c.Label, c.CreatedAt.Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

func runTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", "token revoke ID [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	id, rest := splitID(args)
	if err := parse(fs, rest, "postgres"); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	if id == "" {
		return fmt.Errorf("token id missing")
	}
	reg, err := openRegistry(ctx, *data, postgresDSN(pg))
	if err != nil {
		return err
	}
	defer reg.Close()
	if err := reg.RevokeCredential(ctx, id, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "revoked token %s\n", id)
	return nil
}
