// Command vakt is the whole service in one binary: the server (serve), administration of
// tenants and tokens, synthetic data (gen), thin API clients (ingest, query) and benchmarks.
// It only wires: flags and environment become a Config, stores are opened, the server started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `vakt – open access-log service for Swedish health care (PDL)

usage: vakt <command> [flags]

  serve            run the service (embedded SQLite store in --data)
  tenant create    create a tenant (customer instance) owning care providers
  tenant list      list tenants
  token create     create a bearer token for a system (prints it once)
  token list       list tokens
  token revoke     revoke a token
  user create      create a person's account for the web tool (password from stdin or generated)
  user list        list people's accounts
  user disable     disable an account (enable: again); recorded in the tenant's log
  user remove      remove an account; recorded in the tenant's log
  user password    set an account's password (from stdin, or generated and printed once)
  user roles       grant, revoke or set an account's roles and care units
  registers import import a reference register (staff, persons, watchlist, cases, units) for log controls
  export           write a tenant's whole log as a verifiable bundle
  verify           check a log against its signed checkpoints (bundle, data or live)
  gen              write realistic synthetic log entries as NDJSON
  ingest           send NDJSON log entries to a running service
  query            search or export log entries from a running service
  bench            measure ingest and query performance
  version          print the version

Run 'vakt <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "vakt:", err)
		}
		if errors.Is(err, errDamaged) {
			os.Exit(1) // the check ran and found damage, unlike a usage or I/O error
		}
		os.Exit(2)
	}
}

// run executes one command; tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string) {
		if len(rest) == 0 {
			return "", nil
		}
		return rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "tenant":
		switch s, r := sub(); s {
		case "create":
			return runTenantCreate(ctx, r, stdout, stderr)
		case "list":
			return runTenantList(ctx, r, stdout, stderr)
		}
		return fmt.Errorf("usage: vakt tenant create|list")
	case "token":
		switch s, r := sub(); s {
		case "create":
			return runTokenCreate(ctx, r, stdout, stderr)
		case "list":
			return runTokenList(ctx, r, stdout, stderr)
		case "revoke":
			return runTokenRevoke(ctx, r, stdout, stderr)
		}
		return fmt.Errorf("usage: vakt token create|list|revoke")
	case "user":
		switch s, r := sub(); s {
		case "create":
			return runUserCreate(ctx, r, stdin, stdout, stderr)
		case "list":
			return runUserList(ctx, r, stdout, stderr)
		case "disable", "enable":
			return runUserState(ctx, r, s == "disable", stderr)
		case "remove":
			return runUserRemove(ctx, r, stderr)
		case "password":
			return runUserPassword(ctx, r, stdin, stdout, stderr)
		case "roles":
			return runUserRoles(ctx, r, stderr)
		}
		return fmt.Errorf("usage: vakt user create|list|disable|enable|remove|password|roles")
	case "registers":
		switch s, r := sub(); s {
		case "import":
			return runRegistersImport(ctx, r, stdin, stdout, stderr)
		}
		return fmt.Errorf("usage: vakt registers import")
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, stdout, stderr)
	case "gen":
		return runGen(ctx, rest, stdout, stderr)
	case "ingest":
		return runIngest(ctx, rest, stdout, stderr)
	case "query":
		return runQuery(ctx, rest, stdin, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "vakt", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
