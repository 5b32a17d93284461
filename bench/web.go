package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// webReviewer is a reviewer logged in to the web tool, driving it as a browser does: forms
// posted with the session's CSRF token, redirects followed by hand so that each step is timed on
// its own.
type webReviewer struct {
	srv    *Server
	client *http.Client
	csrf   string
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	resultCount = regexp.MustCompile(`id="result-count"><strong>(\d+)</strong>`)
)

// newWebReviewer logs in as the server's reviewer.
func newWebReviewer(ctx context.Context, srv *Server) (*webReviewer, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	w := &webReviewer{srv: srv, client: &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if _, err := w.page(ctx, "/login"); err != nil {
		return nil, err
	}
	loc, err := w.post(ctx, "/login", url.Values{"username": {srv.Reviewer}, "password": {srv.ReviewerPassword}})
	if err != nil {
		return nil, fmt.Errorf("bench: web login: %w", err)
	}
	if strings.HasPrefix(loc, "/login") {
		return nil, fmt.Errorf("bench: web login refused")
	}
	// Login starts a new session with a new CSRF token.
	if _, err := w.page(ctx, "/logguppfoljning/invanare"); err != nil {
		return nil, err
	}
	return w, nil
}

// page GETs path, keeps the CSRF token it carries and returns the body.
func (w *webReviewer) page(ctx context.Context, path string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.srv.URL+path, nil)
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: GET %s: status %d", path, resp.StatusCode)
	}
	if m := csrfField.FindSubmatch(b); m != nil {
		w.csrf = string(m[1])
	}
	return b, nil
}

// post submits a form with the CSRF token and returns where the server redirects to.
func (w *webReviewer) post(ctx context.Context, path string, form url.Values) (string, error) {
	form.Set("csrf", w.csrf)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("bench: POST %s: status %d", path, resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// searchCitizen runs the Invånare tab's search for a personnummer over [from, to] and opens
// its result page. It returns the time of each step and the number of accesses found.
func (w *webReviewer) searchCitizen(ctx context.Context, personnummer string, from, to time.Time) (search, result time.Duration, found int, err error) {
	t := time.Now()
	loc, err := w.post(ctx, "/logguppfoljning/sok", url.Values{
		"tab": {"invanare"}, "subject": {personnummer},
		"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)},
	})
	if err != nil {
		return 0, 0, 0, err
	}
	search = time.Since(t)
	if !strings.HasPrefix(loc, "/logguppfoljning/resultat/") {
		return 0, 0, 0, fmt.Errorf("bench: search went to %q, not a result", loc)
	}
	t = time.Now()
	b, err := w.page(ctx, loc)
	if err != nil {
		return 0, 0, 0, err
	}
	result = time.Since(t)
	m := resultCount.FindSubmatch(b)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("bench: result page without a count")
	}
	found, _ = strconv.Atoi(string(m[1]))
	return search, result, found, nil
}
