package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/postgres"
	"github.com/vakt/vakt/register"
	"github.com/vakt/vakt/sqlite"
)

// runRegistersImport imports a reference register from a file, with the data directory's or
// database's own authority (like tenant and token), while servers may run.
func runRegistersImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("registers import", "registers import --tenant ID --kind staff|persons|watchlist|cases|units --file FILE [--mode replace|upsert] [flags]", stderr)
	data := fs.String("data", "vakt-data", "data directory")
	pg := postgresFlag(fs)
	tenantID := fs.String("tenant", "", "tenant whose register to import")
	kindFlag := fs.String("kind", "", "register: staff, persons, watchlist, cases or units")
	file := fs.String("file", "", "JSON array or NDJSON of records; - reads standard input")
	modeFlag := fs.String("mode", "replace", "replace (the register holds exactly the file's records) or upsert (add and update)")
	if err := parse(fs, args, "postgres"); err != nil {
		return err
	}
	if *tenantID == "" || *kindFlag == "" || *file == "" {
		fs.Usage()
		return errors.New("--tenant, --kind and --file are required")
	}
	kind, err := register.ParseKind(*kindFlag)
	if err != nil {
		return describe(err)
	}
	mode, err := register.ParseMode(*modeFlag)
	if err != nil {
		return describe(err)
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	dsn := postgresDSN(pg)
	reg, err := openRegistry(ctx, *data, dsn)
	if err != nil {
		return err
	}
	defer reg.Close()
	if _, err := reg.Tenant(ctx, *tenantID); err != nil {
		return describe(err)
	}
	var stores interface {
		register.Stores
		Close() error
	}
	if dsn != "" {
		if stores, err = postgres.OpenRegisters(ctx, dsn); err != nil {
			return err
		}
	} else {
		stores = sqlite.NewRegisters(tenantDir(*data))
	}
	defer stores.Close()
	svc := register.Service{Stores: stores}
	rep, err := svc.ImportTenant(ctx, *tenantID, kind, mode, in)
	if err != nil {
		return importError(kind, err)
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(rep)
}

// importError lists an import's problems one per line, as kind[index].field: reason.
func importError(kind register.Kind, err error) error {
	probs := vakt.ErrorProblems(err)
	if len(probs) == 0 {
		return describe(err)
	}
	var b strings.Builder
	b.WriteString(vakt.ErrorMessage(err))
	for _, p := range probs {
		loc := string(kind)
		if p.Index >= 0 {
			loc += fmt.Sprintf("[%d]", p.Index)
		}
		if p.Field != "" {
			loc += "." + p.Field
		}
		fmt.Fprintf(&b, "\n  %s: %s", loc, p.Reason)
	}
	return errors.New(b.String())
}
