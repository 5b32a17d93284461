package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistersImport imports registers with the CLI while the server runs, and finds their
// flags through the API.
func TestRegistersImport(t *testing.T) {
	data := t.TempDir()
	_, url := startMain(t, data, nil)
	cli(t, "", "tenant", "create", "region-exempel", "--name", "Region Exempel", "--care-provider", "SE2321000016-0001", "--data", data)
	writer := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region-exempel", "--role", "writer", "--data", data))
	reader := strings.TrimSpace(cli(t, "", "token", "create", "--tenant", "region-exempel", "--role", "reader", "--data", data))

	dir := t.TempDir()
	persons := filepath.Join(dir, "persons.ndjson")
	os.WriteFile(persons, []byte(`{"personId":"19121212-1212","familyName":"Tolvansson","protectedIdentity":true}`+"\n"), 0o600)
	out := cli(t, "", "registers", "import", "--tenant", "region-exempel", "--kind", "persons", "--file", persons, "--data", data)
	if !strings.Contains(out, `"imported":1`) || !strings.Contains(out, `"total":1`) {
		t.Fatalf("import: %s", out)
	}
	// Standard input, upsert.
	out = cli(t, `[{"personId":"194107086995","familyName":"Ek"}]`, "registers", "import", "--tenant", "region-exempel", "--kind", "persons", "--file", "-", "--mode", "upsert", "--data", data)
	if !strings.Contains(out, `"total":2`) {
		t.Fatalf("upsert: %s", out)
	}
	// A bad record: the error names register, record and field, never the value.
	bad := `{"hsaId":"SE2321000016-A1","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001"}
{"hsaId":"SE2321000016-A2","personId":"19121212-1212","familyName":"B","careProviderId":"SE2321000016-0001","units":[{"careUnitId":"SE2321000016-U1","from":"1 maj"}]}
`
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"registers", "import", "--tenant", "region-exempel", "--kind", "staff", "--file", "-", "--data", data}, strings.NewReader(bad), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "staff[1].units[0].from: is not a date (YYYY-MM-DD)") || strings.Contains(err.Error(), "1212") {
		t.Fatalf("bad import: %v", err)
	}
	if err := run(context.Background(), []string{"registers", "import", "--tenant", "nobody", "--kind", "staff", "--file", "-", "--data", data}, strings.NewReader("[]"), &stdout, &stderr); err == nil {
		t.Fatal("import into an unknown tenant succeeded")
	}

	// An access to the protected person is flagged.
	entry := `[{"logId":"6f1c0d2e-0000-4000-8000-000000000001","system":{"systemId":"SE2321000016-SYS1"},
	  "activity":{"activityType":"Läsa","startDate":"2026-11-18T10:00:00+01:00","purpose":"Vård och behandling"},
	  "user":{"userId":"SE2321000016-A1","careProvider":{"careProviderId":"SE2321000016-0001"},"careUnit":{"careUnitId":"SE2321000016-U1"}},
	  "resources":[{"resourceType":"Journalanteckning","patient":{"patientId":"191212121212"},"careProvider":{"careProviderId":"SE2321000016-0001"}}]}]`
	post := func(path, token, body string) (int, []byte) {
		req, _ := http.NewRequest("POST", url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes()
	}
	if status, body := post("/api/v1/logs", writer, entry); status != 201 {
		t.Fatalf("append: %d %s", status, body)
	}
	status, body := post("/api/v1/controls/flags/search", reader, `{"from":"2026-11-01T00:00:00+01:00","to":"2026-12-01T00:00:00+01:00"}`)
	var res struct {
		Flags []struct{ Kind, Reason string }
	}
	if status != 200 || json.Unmarshal(body, &res) != nil || len(res.Flags) != 1 || res.Flags[0].Kind != "protected_identity" {
		t.Fatalf("flags: %d %s", status, body)
	}
}
