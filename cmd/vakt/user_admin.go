package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/sqlite"
)

// The operator's commands on one account: `vakt user disable|enable|remove|password|roles`.
// They are the break-glass path (the web tool's Konton page is the everyday one): they act with
// the data directory's or database's own authority, as the operator named by --operator, and go
// through account.Admin, so that every change is recorded in the tenant's own log before it is
// made, exactly as a change in the browser is.

// operatorFlags are the flags every account command shares.
type operatorFlags struct {
	data, pg, instance, signingKey *string
	operator, operatorHSA          *string
}

func newOperatorFlags(fs *flag.FlagSet) *operatorFlags {
	return &operatorFlags{
		data:        fs.String("data", "vakt-data", "data directory (with --postgres: where the signing secret is)"),
		pg:          postgresFlag(fs),
		instance:    fs.String("instance", "", "the instance name the servers sign with (as given to vakt serve; default: the one in the data directory)"),
		signingKey:  fs.String("signing-key", "", "the servers' base64 signing secret (as given to vakt serve; default: the one in the data directory)"),
		operator:    fs.String("operator", "", "who makes the change, as the tenant's log records it (\"cli:NAME\"); default: the login of whoever runs the command"),
		operatorHSA: fs.String("operator-hsa-id", "", "the operator's HSA-id, logged as the user of the change (default: the tenant's first care provider's)"),
	}
}

// operatorName is the login of whoever runs the command: under sudo, the person who ran sudo.
func operatorName() string {
	if n := os.Getenv("SUDO_USER"); n != "" {
		return strings.ToLower(n)
	}
	if u, err := user.Current(); err == nil {
		return strings.ToLower(u.Username)
	}
	return ""
}

// accountCommand opens what a change to account username needs, runs change with an Admin and
// a context acting as the operator in the account's tenant, and closes everything.
func accountCommand(ctx context.Context, of *operatorFlags, username string, change func(ctx context.Context, a *account.Admin, before account.User) error) error {
	name := *of.operator
	if name == "" {
		name = operatorName()
	}
	if _, err := account.OperatorID(name); err != nil {
		return fmt.Errorf("--operator %q: %w", name, describe(err))
	}
	dsn := postgresDSN(of.pg)
	if dsn == "" {
		// The embedded tenant log has one writer: not while vakt serve runs on the directory.
		unlock, err := lockData(*of.data)
		if err != nil {
			return err
		}
		defer unlock()
	}
	reg, err := openRegistry(ctx, *of.data, dsn)
	if err != nil {
		return err
	}
	defer reg.Close()
	before, _, err := reg.UserByName(ctx, username)
	if err != nil {
		return fmt.Errorf("account %q: %w", username, describe(err))
	}
	t, err := reg.Tenant(ctx, before.TenantID)
	if err != nil {
		return fmt.Errorf("tenant %q: %w", before.TenantID, err)
	}
	hsa := t.CareProviders[0]
	if *of.operatorHSA != "" {
		if hsa, err = ident.ParseHSAID(*of.operatorHSA); err != nil {
			return fmt.Errorf("--operator-hsa-id: %w", err)
		}
	}
	p, err := account.Operator(name, t.ID, hsa)
	if err != nil {
		return describe(err)
	}
	signing, err := openSigning(*of.data, *of.instance, *of.signingKey)
	if err != nil {
		return err
	}
	var logs interface {
		accesslog.Stores
		Close() error
	}
	if dsn != "" {
		if logs, err = postgres.OpenStores(ctx, dsn, postgres.Signing(signing), postgres.LogOptions{}); err != nil {
			return err
		}
	} else if logs, err = sqlite.NewStores(tenantDir(*of.data), sqlite.Options{}, signing); err != nil {
		return err
	}
	defer logs.Close()
	admin := &account.Admin{Store: reg, Tenants: reg, Recorder: &accesslog.Service{Stores: logs, Tenants: reg}}
	return change(vakt.WithPrincipal(ctx, p), admin, before)
}

// explain turns an Admin guardrail into a sentence for the operator.
func explain(err error) error {
	switch {
	case errors.Is(err, account.ErrLastAdmin):
		return errors.New("refused: the tenant would be left without an enabled account that may administer accounts or grant roles; give another account those roles first")
	case err != nil:
		return describe(err)
	}
	return nil
}

// runUserState disables or enables an account.
func runUserState(ctx context.Context, args []string, disable bool, stderr io.Writer) error {
	cmd := "user enable"
	if disable {
		cmd = "user disable"
	}
	fs := newFlags(cmd, cmd+" USERNAME [flags]", stderr)
	of := newOperatorFlags(fs)
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	return accountCommand(ctx, of, username, func(ctx context.Context, a *account.Admin, _ account.User) error {
		if _, err := a.SetDisabled(ctx, username, disable); err != nil {
			return explain(err)
		}
		if disable {
			fmt.Fprintf(stderr, "disabled account %s; its open sessions end at their next request\n", username)
		} else {
			fmt.Fprintf(stderr, "enabled account %s\n", username)
		}
		return nil
	})
}

// runUserRemove removes an account; its past reads stay in the log under its HSA-id.
func runUserRemove(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("user remove", "user remove USERNAME [flags]", stderr)
	of := newOperatorFlags(fs)
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	return accountCommand(ctx, of, username, func(ctx context.Context, a *account.Admin, _ account.User) error {
		if err := a.Remove(ctx, username); err != nil {
			return explain(err)
		}
		fmt.Fprintf(stderr, "removed account %s\n", username)
		return nil
	})
}

// runUserPassword sets an account's password: the first line of standard input, or with
// --generate-password a one-time password printed once on standard output, which the person
// must change at their next login.
func runUserPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user password", "user password USERNAME [--generate-password] [flags]", stderr)
	of := newOperatorFlags(fs)
	generate := fs.Bool("generate-password", false, "generate a one-time password, print it once and require a new one at the next login (default: read the password from standard input)")
	mustChange := fs.Bool("one-time", false, "with a password from standard input: require a new one at the next login")
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	pw, once := "", *mustChange
	if *generate {
		pw, once = account.GeneratePassword(), true
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
	return accountCommand(ctx, of, username, func(ctx context.Context, a *account.Admin, _ account.User) error {
		if err := a.SetPassword(ctx, username, pw, once); err != nil {
			return explain(err)
		}
		fmt.Fprintf(stderr, "set the password of account %s\n", username)
		if *generate {
			fmt.Fprintf(stderr, "its one-time password is shown only now; it must be changed at the next login\n")
			fmt.Fprintln(stdout, pw)
		}
		return nil
	})
}

// runUserRoles changes an account's roles (--grant, --revoke, or --role for the whole set) and
// care units (--care-unit for the whole set, --all-units for none: the whole tenant).
func runUserRoles(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("user roles", "user roles USERNAME [--grant ROLE ...] [--revoke ROLE ...] [--role ROLE ...] [--care-unit HSAID ... | --all-units] [flags]", stderr)
	of := newOperatorFlags(fs)
	var grant, revoke, set, units stringList
	fs.Var(&grant, "grant", "give the account this role; repeat for several")
	fs.Var(&revoke, "revoke", "take this role from the account; repeat for several")
	fs.Var(&set, "role", "the account's roles are exactly these; repeat for several (not with --grant or --revoke)")
	fs.Var(&units, "care-unit", "the account is limited to exactly these care units (vårdenheter); repeat for several")
	allUnits := fs.Bool("all-units", false, "the account is limited to no care unit: it covers the whole tenant")
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	if len(set) > 0 && len(grant)+len(revoke) > 0 {
		return errors.New("--role sets all roles; give it alone, or --grant and --revoke")
	}
	if len(units) > 0 && *allUnits {
		return errors.New("--care-unit and --all-units exclude each other")
	}
	if len(set)+len(grant)+len(revoke)+len(units) == 0 && !*allUnits {
		fs.Usage()
		return errors.New("nothing to change: give --grant, --revoke, --role, --care-unit or --all-units")
	}
	parseRoles := func(flagName string, in []string) ([]vakt.Role, error) {
		var out []vakt.Role
		for _, r := range in {
			role, err := vakt.ParsePersonRole(r)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", flagName, err)
			}
			out = append(out, role)
		}
		return out, nil
	}
	grants, err := parseRoles("grant", grant)
	if err != nil {
		return err
	}
	revokes, err := parseRoles("revoke", revoke)
	if err != nil {
		return err
	}
	sets, err := parseRoles("role", set)
	if err != nil {
		return err
	}
	var newUnits []ident.HSAID
	for _, c := range units {
		h, err := ident.ParseHSAID(c)
		if err != nil {
			return fmt.Errorf("--care-unit: %w", err)
		}
		newUnits = append(newUnits, h)
	}
	return accountCommand(ctx, of, username, func(ctx context.Context, a *account.Admin, before account.User) error {
		if len(units) > 0 || *allUnits {
			d := account.Details{Name: before.Name, HSAID: before.HSAID, Title: before.Title, CareUnits: newUnits}
			if _, err := a.UpdateDetails(ctx, username, d); err != nil {
				return explain(err)
			}
		}
		if len(sets)+len(grants)+len(revokes) > 0 {
			roles := sets
			if len(sets) == 0 {
				roles = slices.Clone(before.Roles)
				for _, r := range grants {
					if !slices.Contains(roles, r) {
						roles = append(roles, r)
					}
				}
				roles = slices.DeleteFunc(roles, func(r vakt.Role) bool { return slices.Contains(revokes, r) })
			}
			// In vakt.PersonRoles order, as the browser gives them.
			slices.SortFunc(roles, func(x, y vakt.Role) int {
				return slices.Index(vakt.PersonRoles(), x) - slices.Index(vakt.PersonRoles(), y)
			})
			if _, err := a.SetRoles(ctx, username, roles); err != nil {
				return explain(err)
			}
		}
		after, _, err := a.Store.UserByName(ctx, username)
		if err != nil {
			return err
		}
		units := "(all)"
		if len(after.CareUnits) > 0 {
			units = fmt.Sprint(after.CareUnits)
		}
		fmt.Fprintf(stderr, "account %s: roles %v, care units %s\n", username, after.Roles, units)
		return nil
	})
}

// oneUsername parses args, which name exactly one account (before or after the flags).
func oneUsername(fs *flag.FlagSet, args []string) (string, error) {
	username, rest := splitID(args)
	if err := parse(fs, rest, "postgres", "signing-key"); err != nil {
		return "", err
	}
	if username == "" && fs.NArg() == 1 {
		username = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fs.Usage()
		return "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if username == "" {
		fs.Usage()
		return "", errors.New("username missing")
	}
	return username, nil
}
