package rest_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/auth"
)

// apiCalls returns one valid request of each /api/v1 operation.
func apiCalls(t *testing.T, logID string) map[string]call {
	return map[string]call{
		"append": {method: "POST", path: "/api/v1/logs", body: mustJSON(t, []any{entry(logID)})},
		"search": {method: "POST", path: "/api/v1/logs/search", body: []byte(`{}`)},
		"export": {method: "POST", path: "/api/v1/logs/export", body: []byte(`{}`)},
		"get":    {method: "GET", path: "/api/v1/logs/" + logID},
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	writer := e.token(t, tenantA, vakt.RoleWriter)
	revoked := e.token(t, tenantA, vakt.RoleReader)
	creds, err := e.reg.Credentials(context.Background(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	// The revoked token works until it is revoked.
	wantStatus(t, e.search(t, revoked, map[string]any{}), http.StatusOK)
	for _, c := range creds {
		if c.Role == vakt.RoleReader {
			if err := e.reg.RevokeCredential(context.Background(), c.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	unknown, _ := auth.NewToken()

	const (
		challenge = `Bearer realm="vakt"`
		invalid   = `Bearer realm="vakt", error="invalid_token"`
	)
	for _, c := range []struct {
		name          string
		authorization string // "" sends none
		challenge     string
	}{
		{"no Authorization", "", challenge},
		{"another scheme", "Basic dXNlcjpwYXNz", challenge},
		{"empty bearer", "Bearer ", challenge},
		{"not a vakt token", "Bearer abc.def.ghi", invalid},
		{"unknown token", "Bearer " + unknown, invalid},
		{"revoked token", "Bearer " + revoked, invalid},
		{"overlong token", "Bearer vakt_" + string(bytes.Repeat([]byte("A"), 200)), invalid},
	} {
		for op, call := range apiCalls(t, logID(t.Name(), 1)) {
			t.Run(c.name+"/"+op, func(t *testing.T) {
				if c.authorization != "" {
					call.header = map[string]string{"Authorization": c.authorization}
				}
				r := e.do(t, call)
				er := wantError(t, r, http.StatusUnauthorized, vakt.CodeUnauthorized)
				if got := r.header.Get("WWW-Authenticate"); got != c.challenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
				}
				if len(er.Errors) != 0 {
					t.Errorf("problems in a 401: %+v", er.Errors)
				}
			})
		}
	}
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		c := apiCalls(t, logID(t.Name(), 1))["append"]
		c.header = map[string]string{"Authorization": "bearer " + writer}
		wantStatus(t, e.do(t, c), http.StatusCreated)
	})
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	writer, reader := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	id := logID(t.Name(), 1)
	wantStatus(t, e.appendJSON(t, writer, entry(id)), http.StatusCreated)

	for _, c := range []struct {
		op, token string
		status    int
		message   string
	}{
		{"append", reader, http.StatusForbidden, "this credential lacks the writer role"},
		{"search", writer, http.StatusForbidden, "this credential lacks the reader role"},
		{"export", writer, http.StatusForbidden, "this credential lacks the reader role"},
		{"get", writer, http.StatusForbidden, "this credential lacks the reader role"},
		{"search", reader, http.StatusOK, ""},
		{"export", reader, http.StatusOK, ""},
		{"get", reader, http.StatusOK, ""},
	} {
		t.Run(c.op+" with "+map[string]string{writer: "writer", reader: "reader"}[c.token], func(t *testing.T) {
			call := apiCalls(t, id)[c.op]
			if c.op == "append" {
				call.body = mustJSON(t, []any{entry(logID(t.Name(), 2))})
			}
			call.token = c.token
			r := e.do(t, call)
			if c.status == http.StatusOK {
				wantStatus(t, r, http.StatusOK)
				return
			}
			er := wantError(t, r, c.status, vakt.CodeForbidden)
			if er.Message != c.message {
				t.Errorf("message %q, want %q", er.Message, c.message)
			}
			if r.header.Get("WWW-Authenticate") != "" {
				t.Errorf("a 403 with WWW-Authenticate")
			}
		})
	}
	// The reader's refused append stored nothing.
	page := decode[searchPage](t, e.search(t, reader, map[string]any{}))
	if ids := logIDs(t, page.Entries); !slices.Equal(ids, []string{id}) {
		t.Errorf("stored %v, want only %s", ids, id)
	}
}

// TestTenantIsolation checks that a token never writes into or reads from another tenant, and
// that nothing it receives tells it whether another tenant holds an entry.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	writerA, readerA := e.token(t, tenantA, vakt.RoleWriter), e.token(t, tenantA, vakt.RoleReader)
	writerB, readerB := e.token(t, tenantB, vakt.RoleWriter), e.token(t, tenantB, vakt.RoleReader)
	id := func(n int) string { return logID(t.Name(), n) }

	t.Run("append of a foreign care provider", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			batch []map[string]any
			want  []vakt.Problem
		}{
			{"B's entry with A's token", []map[string]any{entryB(id(100))},
				[]vakt.Problem{{Index: 0, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"}}},
			{"mixed with A's own entries", []map[string]any{entry(id(101)), entryB(id(102)), entry(id(103)), entryB(id(104))},
				[]vakt.Problem{
					{Index: 1, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"},
					{Index: 3, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"},
				}},
			{"an unknown care provider", []map[string]any{entry(id(105), set("user.careProvider.careProviderId", "SE2321000099-0001"))},
				[]vakt.Problem{{Index: 0, Field: "user.careProvider.careProviderId", Reason: "is not a care provider of this credential's tenant"}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.appendJSON(t, writerA, c.batch...)
				er := wantError(t, r, http.StatusForbidden, vakt.CodeForbidden)
				if er.Message != "entries belong to a care provider outside this credential's tenant; nothing was stored" {
					t.Errorf("message %q", er.Message)
				}
				if !slices.Equal(er.Errors, c.want) {
					t.Errorf("problems %+v, want %+v", er.Errors, c.want)
				}
			})
		}
		// A batch that is also invalid lists the foreign entries among its problems.
		r := e.do(t, call{method: "POST", path: "/api/v1/logs", token: writerA, request: violates,
			body: mustJSON(t, []any{entryB(id(106)), entry(id(107), set("activity.purpose", ""))})})
		er := wantError(t, r, http.StatusBadRequest, vakt.CodeInvalid)
		want := []string{"0 user.careProvider.careProviderId: is not a care provider of this credential's tenant", "1 activity.purpose: is required"}
		if got := problemSet(er.Errors); !slices.Equal(got, want) {
			t.Errorf("problems %v, want %v", got, want)
		}
		// Nothing was stored in either tenant.
		for _, reader := range []string{readerA, readerB} {
			if page := decode[searchPage](t, e.search(t, reader, map[string]any{})); len(page.Entries) != 0 {
				t.Errorf("stored after refused batches: %v", logIDs(t, page.Entries))
			}
			for n := 100; n <= 107; n++ {
				wantError(t, e.get(t, reader, id(n)), http.StatusNotFound, vakt.CodeNotFound)
			}
		}
	})

	// Each tenant stores its own entries. B reuses one of A's logIds with other content: the
	// tenants' logs are apart, so that is no conflict (a 409 would tell B that A holds it).
	shared := id(1)
	a := []map[string]any{entry(shared), entry(id(2), patient(pnrThird)), entry(id(3), set("user.careProvider.careProviderId", cpA2))}
	b := []map[string]any{entryB(shared), entryB(id(12)), entryB(id(13), patient(pnrTolvan))}
	wantStatus(t, e.appendJSON(t, writerA, a...), http.StatusCreated)
	r := e.appendJSON(t, writerB, b...)
	wantStatus(t, r, http.StatusCreated)
	if got := decode[appendResponse](t, r); got.Accepted != 3 || !slices.Equal(got.Seqs, []int64{1, 2, 3}) {
		t.Errorf("B's append %s: each tenant has its own sequence", r.body)
	}
	owned := map[string][]string{
		readerA: {shared, id(2), id(3)},
		readerB: {shared, id(12), id(13)},
	}
	ownUser := map[string]string{readerA: userA1, readerB: userB}

	for _, c := range []struct {
		name   string
		reader string
		other  string // the other tenant's reader
	}{{"A", readerA, readerB}, {"B", readerB, readerA}} {
		t.Run("reads of "+c.name, func(t *testing.T) {
			own := owned[c.reader]
			// Everything the token sees is its own.
			page := decode[searchPage](t, e.search(t, c.reader, map[string]any{}))
			if got := logIDs(t, page.Entries); !sameSet(got, own) {
				t.Errorf("search {} gave %v, want %v", got, own)
			}
			x := e.export(t, c.reader, map[string]any{})
			wantStatus(t, x, http.StatusOK)
			var exported []string
			for line := range bytes.Lines(x.body) {
				exported = append(exported, parseStored(t, bytes.TrimSuffix(line, []byte("\n"))).LogID)
			}
			if !sameSet(exported, own) {
				t.Errorf("export {} gave %v, want %v", exported, own)
			}
			// Searching by the other tenant's identifiers finds nothing.
			otherUser := ownUser[c.other]
			for _, q := range []map[string]any{
				{"userId": otherUser},
				{"careProviderId": map[string]string{readerA: cpB, readerB: cpA}[c.reader]},
				{"careUnitId": map[string]string{readerA: unitB, readerB: unitA1}[c.reader]},
				{"patientId": map[string]string{readerA: pnrOther, readerB: pnrThird}[c.reader]},
			} {
				if page := decode[searchPage](t, e.search(t, c.reader, q)); len(page.Entries) != 0 {
					t.Errorf("search %v found %v", q, logIDs(t, page.Entries))
				}
				if x := e.export(t, c.reader, q); len(x.body) != 0 {
					t.Errorf("export %v gave %s", q, x.body)
				}
			}
			// A patient both tenants logged: each sees only its own entries about them.
			page = decode[searchPage](t, e.search(t, c.reader, map[string]any{"patientId": pnrTolvan}))
			for _, got := range logIDs(t, page.Entries) {
				if !slices.Contains(own, got) {
					t.Errorf("search by a shared patient found %s", got)
				}
			}
			// The shared logId is served from the token's own tenant.
			r := e.get(t, c.reader, shared)
			wantStatus(t, r, http.StatusOK)
			if !bytes.Contains(r.body, []byte(map[string]string{readerA: cpA, readerB: cpB}[c.reader])) {
				t.Errorf("GET %s served another tenant's entry: %s", shared, r.body)
			}
			// The other tenant's entry is not found, exactly like one that does not exist.
			missing := e.get(t, c.reader, id(99))
			wantError(t, missing, http.StatusNotFound, vakt.CodeNotFound)
			for _, foreign := range owned[c.other] {
				if foreign == shared {
					continue
				}
				r := e.get(t, c.reader, foreign)
				wantError(t, r, http.StatusNotFound, vakt.CodeNotFound)
				if !bytes.Equal(r.body, missing.body) || r.header.Get("Content-Type") != missing.header.Get("Content-Type") {
					t.Errorf("GET of a foreign entry %q differs from GET of a missing one %q", r.body, missing.body)
				}
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
