package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vakt/vakt/sqlite"
)

// verifyOut runs `vakt verify` and returns its output and whether it judged the log intact.
func verifyOut(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"verify"}, args...), strings.NewReader(""), &out, &errOut)
	switch {
	case err == nil:
		return out.String(), true
	case errors.Is(err, errDamaged):
		return out.String(), false
	}
	t.Fatalf("vakt verify %v: %v\n%s%s", args, err, out.String(), errOut.String())
	return "", false
}

// copyDir copies a data directory (the server is stopped) so that each tampering starts from the
// same intact log.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE, fi.Mode())
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// tamper runs SQL directly on a tenant's database file, as an operator with database access
// could.
func tamper(t *testing.T, data, tenant string, statements ...string) {
	t.Helper()
	db, err := sqlite.OpenRaw(sqlite.TenantPath(tenantDir(data), tenant))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyNamesTampering stores a log through the service, then changes, deletes and reorders
// rows directly in the database file, and checks that `vakt verify` names the damage, from the
// data directory and from an export bundle.
func TestVerifyNamesTampering(t *testing.T) {
	data := t.TempDir()
	cli(t, "", "tenant", "create", "t1", "--name", "T1", "--care-provider", "SE2321000016-0001", "--data", data)
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "t1", "--role", "writer", "--data", data))
	reader := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "t1", "--role", "reader", "--data", data))
	file := filepath.Join(t.TempDir(), "log.ndjson")
	cli(t, "", "gen", "--entries", "3000", "--seed", "5", "--out", file)
	r, url := startMainNoCleanup(t, data)
	cli(t, "", "ingest", "--addr", url, "--token", writer, "--batch", "500", file)

	// Live: the service's own key, its latest checkpoint and its log in sequence order.
	saved := filepath.Join(t.TempDir(), "checkpoint.txt")
	if out, ok := verifyOut(t, "--addr", url, "--token", reader); !ok {
		t.Fatalf("live verification of an intact log:\n%s", out)
	}
	cp := getWithToken(t, url+"/api/v1/checkpoint", reader)
	key := strings.TrimSpace(getWithToken(t, url+"/api/v1/checkpoint/key", reader))
	if err := os.WriteFile(saved, []byte(cp), 0o600); err != nil {
		t.Fatal(err)
	}
	r.stop(t) // the final checkpoint covers every entry

	if out, ok := verifyOut(t, "--data", data, "--tenant", "t1", "--checkpoint", saved); !ok || !strings.Contains(out, "OK") {
		t.Fatalf("intact log:\n%s", out)
	}
	bundleFile := filepath.Join(t.TempDir(), "t1.vakt.tar.gz")
	cli(t, "", "export", "--tenant", "t1", "--data", data, "--out", bundleFile)
	if out, ok := verifyOut(t, bundleFile, "--key", key); !ok || !strings.Contains(out, "3000 entries") {
		t.Fatalf("intact bundle:\n%s", out)
	}
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"verify", bundleFile, "--key", "other.vakt/t1+12345678+AW0yZTg0YmFmNjY5NDM5ZTI0NjdkYzM3ODQ4OGI3MmI="}, strings.NewReader(""), io.Discard, &errOut); err == nil {
		t.Fatal("a bundle verified against a key it does not carry")
	}

	for _, c := range []struct {
		name  string
		sql   []string
		want  string
		viaDB bool // verify the data directory (else an export bundle of it)
	}{
		{"an entry edited", []string{`UPDATE entries SET head = replace(head, '"purpose":"', '"purpose":"Ändrat: ') WHERE seq = 1234`},
			"DAMAGED: entry 1234 (logId", true},
		{"an entry deleted", []string{`DELETE FROM entries WHERE seq = 777`},
			"DAMAGED: entry 777: is missing or out of place", true},
		{"two entries swapped", []string{
			`UPDATE entries SET seq = -100 WHERE seq = 100`, `UPDATE entries SET seq = 100 WHERE seq = 200`, `UPDATE entries SET seq = 200 WHERE seq = -100`},
			"DAMAGED: entry 100 (logId", true},
		{"the newest entries removed", []string{`DELETE FROM entries WHERE seq > 2990`},
			"DAMAGED: entry 2991: is missing: the log ends at 2990 entries but a signed checkpoint covers 3000", true},
		{"an entry and its leaf hash rewritten", []string{
			`UPDATE entries SET head = replace(head, '"purpose":"', '"purpose":"Ändrat: ') WHERE seq = 42`,
			`UPDATE tree SET hashes = zeroblob(length(hashes)) WHERE id = 0`},
			"DAMAGED: entry 1: entries 1 to", true},
		{"an entry edited, seen in a bundle", []string{`UPDATE entries SET head = replace(head, '"purpose":"', '"purpose":"Ändrat: ') WHERE seq = 2500`},
			"DAMAGED: entry 2500 (logId", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t, data)
			tamper(t, d, "t1", c.sql...)
			var out string
			var ok bool
			if c.viaDB {
				out, ok = verifyOut(t, "--data", d, "--tenant", "t1")
			} else {
				b := filepath.Join(t.TempDir(), "tampered.vakt.tar.gz")
				cli(t, "", "export", "--tenant", "t1", "--data", d, "--out", b)
				out, ok = verifyOut(t, b)
			}
			if ok || !strings.Contains(out, c.want) {
				t.Fatalf("verify after %s:\n%s\nwant %q", c.name, out, c.want)
			}
		})
	}
}

func getWithToken(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b)
}
