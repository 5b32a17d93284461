package vakt_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The domain packages hold types and rules only: they must not reach storage, HTTP or any
// driver, so that every engine and surface shares them unchanged (STYLE.md, "Imports point
// inwards").
func TestDomainPackagesDoNoIO(t *testing.T) {
	domain := []string{".", "./ident", "./tenant", "./auth", "./account", "./accesslog", "./synth", "./merkle", "./audit", "./register", "./logcontrol"}
	forbidden := []string{
		"database/sql", "net/http", "os/exec",
		"github.com/vakt/vakt/sqlite", "github.com/vakt/vakt/rest", "github.com/vakt/vakt/server",
		"github.com/mattn/go-sqlite3",
	}
	consultSources(t)
	for _, pkg := range domain {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		for _, d := range deps {
			for _, f := range forbidden {
				if d == f {
					t.Errorf("%s imports %s (directly or indirectly); domain packages must not", pkg, f)
				}
			}
		}
	}
}

// consultSources stats every Go source file of the module. These tests judge the sources
// through other programs, which go test cannot see; the stats tell its test cache which files
// the result depends on, so that a changed or new file makes the test run again.
func consultSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod") {
			_, err = os.Stat(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGofmt(t *testing.T) {
	consultSources(t)
	out, err := exec.Command("gofmt", "-l", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("files need gofmt:\n%s", s)
	}
}

// staticcheckVersion is pinned so that CI results do not change under us.
const staticcheckVersion = "v0.8.2"

func TestStaticcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("staticcheck is slow; skipped with -short")
	}
	consultSources(t)
	cmd := exec.Command("go", "run", "honnef.co/go/tools/cmd/staticcheck@"+staticcheckVersion, "./...")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if os.Getenv("CI") != "true" && strings.Contains(out.String(), "dial tcp") {
			t.Skipf("staticcheck cannot be fetched here (no module proxy): %v", err)
		}
		t.Fatalf("staticcheck: %v\n%s", err, out.String())
	}
}
