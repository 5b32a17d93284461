// Package client is a Go client of vakt's REST API for producing systems and tools: append
// entries (retrying safely, since appends are idempotent per logId), search and export. It is
// one of the few packages meant to be imported by other programs.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Client talks to one vakt service with one token.
type Client struct {
	BaseURL string       // e.g. http://localhost:8080
	Token   string       // bearer token of a writer or reader credential
	HTTP    *http.Client // http.DefaultClient if nil
	// MaxAttempts bounds retries of an append after network errors and 503s (default 8).
	MaxAttempts int
}

// Problem is one broken rule reported by the service.
type Problem struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Error is an error answer of the service.
type Error struct {
	Status   int
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Problems []Problem `json:"errors"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("vakt: %d %s: %s", e.Status, e.Code, e.Message)
	for i, p := range e.Problems {
		if i == 10 {
			s += fmt.Sprintf("\n  … and %d more", len(e.Problems)-10)
			break
		}
		s += fmt.Sprintf("\n  entry %d, %s: %s", p.Index, p.Field, p.Reason)
	}
	return s
}

// Retryable reports whether a request that failed with err may succeed later unchanged.
func Retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// AppendResult is the answer to an append.
type AppendResult struct {
	Accepted         int     `json:"accepted"`
	Duplicates       int     `json:"duplicates"`
	Seqs             []int64 `json:"seqs"`
	DuplicateIndexes []int   `json:"duplicateIndexes"`
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		e := &Error{Status: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, e) != nil || e.Code == "" {
			e.Code, e.Message = "http", strings.TrimSpace(string(b))
		}
		return nil, e
	}
	return resp, nil
}

// AppendNDJSON stores the entries in body (one JSON object per line). It retries network errors
// and 503 answers with backoff: a batch is stored whole or not at all, and re-sending a stored
// entry is harmless, so a retry can never duplicate.
func (c *Client) AppendNDJSON(ctx context.Context, body []byte) (AppendResult, error) {
	attempts := c.MaxAttempts
	if attempts == 0 {
		attempts = 8
	}
	delay := 100 * time.Millisecond
	for i := 1; ; i++ {
		res, err := c.appendOnce(ctx, body)
		if err == nil || !Retryable(err) || i == attempts {
			return res, err
		}
		sleep := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return AppendResult{}, ctx.Err()
		case <-time.After(sleep):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

func (c *Client) appendOnce(ctx context.Context, body []byte) (AppendResult, error) {
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/logs", "application/x-ndjson", body)
	if err != nil {
		return AppendResult{}, err
	}
	defer resp.Body.Close()
	var res AppendResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return AppendResult{}, fmt.Errorf("vakt: reading append answer: %w", err)
	}
	return res, nil
}

// Query selects entries; see the OpenAPI document. PatientID may be a string or an object with
// root and extension.
type Query struct {
	PatientID      any    `json:"patientId,omitempty"`
	UserID         string `json:"userId,omitempty"`
	CareUnitID     string `json:"careUnitId,omitempty"`
	CareProviderID string `json:"careProviderId,omitempty"`
	ActivityType   string `json:"activityType,omitempty"`
	From           string `json:"from,omitempty"`
	To             string `json:"to,omitempty"`
	Limit          int    `json:"limit,omitempty"`
	Cursor         string `json:"cursor,omitempty"`
}

// Page is one page of search results; entries are raw canonical JSON.
type Page struct {
	Entries    []json.RawMessage `json:"entries"`
	NextCursor string            `json:"nextCursor"`
}

// Search returns one page.
func (c *Client) Search(ctx context.Context, q Query) (Page, error) {
	b, err := json.Marshal(q)
	if err != nil {
		return Page{}, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/logs/search", "application/json", b)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	var p Page
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return Page{}, fmt.Errorf("vakt: reading search answer: %w", err)
	}
	return p, nil
}

// Export calls fn with every matching entry's JSON, streaming. The slice is reused after fn
// returns. A stream that the service ended with an error line returns that error.
func (c *Client) Export(ctx context.Context, q Query, fn func(entry []byte) error) error {
	q.Limit, q.Cursor = 0, ""
	b, err := json.Marshal(q)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/logs/export", "application/json", b)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte(`{"error":`)) {
			var e struct{ Error Error }
			if json.Unmarshal(line, &e) == nil {
				e.Error.Status = http.StatusOK
				return &e.Error
			}
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return sc.Err()
}
