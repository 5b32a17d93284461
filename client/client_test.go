package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/vakt/vakt/client"
)

// TestAppendRetries: 503 and dropped connections are retried with the same body (safe because
// appends are idempotent), a 400 is not, and the answer's problems come back typed.
func TestAppendRetries(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if string(body) != "{}\n" || r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("request %d: body %q, headers %v", n, body, r.Header)
		}
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"code":"unavailable","message":"busy"}`)
		case 2:
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // the connection drops mid-request
		default:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"accepted":1,"duplicates":0,"seqs":[7]}`)
		}
	}))
	defer ts.Close()
	c := &client.Client{BaseURL: ts.URL, Token: "tok"}
	res, err := c.AppendNDJSON(context.Background(), []byte("{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || res.Accepted != 1 || len(res.Seqs) != 1 || res.Seqs[0] != 7 {
		t.Fatalf("after %d calls: %+v", calls.Load(), res)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":"invalid","message":"request has invalid entries","errors":[{"index":0,"field":"logId","reason":"is required"}]}`)
	}))
	defer bad.Close()
	calls.Store(0)
	_, err = (&client.Client{BaseURL: bad.URL, Token: "tok"}).AppendNDJSON(context.Background(), []byte("{}\n"))
	e, ok := err.(*client.Error)
	if !ok || e.Status != 400 || e.Code != "invalid" || len(e.Problems) != 1 || e.Problems[0].Field != "logId" || calls.Load() != 1 {
		t.Fatalf("400: err %#v after %d calls", err, calls.Load())
	}
	if client.Retryable(err) {
		t.Fatal("a 400 must not be retried")
	}
}
