package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vakt/vakt/internal/oidctest"
	"github.com/vakt/vakt/oidc"
)

// TestServeOIDCConfig: OIDC settings that cannot work are refused at start with a message
// naming the flag, and never showing the secret.
func TestServeOIDCConfig(t *testing.T) {
	good := func() ServeConfig {
		return ServeConfig{DataDir: t.TempDir(), MaxBatch: 1, MaxBodyBytes: 1 << 20, CacheMiB: 1, PublicURL: "https://vakt.example.se",
			OIDC: oidc.Config{Issuer: "https://idp.example.se", ClientID: "vakt", ClientSecret: "hemlig-nyckel",
				RedirectURL: "https://vakt.example.se/login/oidc/callback"}}
	}
	if c := good(); c.validate() != nil {
		t.Fatalf("good config refused: %v", c.validate())
	}
	for name, tc := range map[string]struct {
		change func(*ServeConfig)
		want   string
	}{
		"no public URL":      {func(c *ServeConfig) { c.PublicURL = "" }, "--public-url"},
		"http issuer":        {func(c *ServeConfig) { c.OIDC.Issuer = "http://idp.example.se" }, "https"},
		"no client id":       {func(c *ServeConfig) { c.OIDC.ClientID = "" }, "client id"},
		"no secret":          {func(c *ServeConfig) { c.OIDC.ClientSecret = "" }, "client secret"},
		"client without IdP": {func(c *ServeConfig) { c.OIDC.Issuer = "" }, "--oidc-issuer"},
		"nobody could log in": {func(c *ServeConfig) {
			*c = ServeConfig{DataDir: "x", MaxBatch: 1, MaxBodyBytes: 1 << 20, CacheMiB: 1, NoPasswordLogin: true}
		}, "--password-login"},
	} {
		t.Run(name, func(t *testing.T) {
			c := good()
			tc.change(&c)
			err := c.validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hemlig") {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestServeWithOIDC: vakt serve with an IdP shows its button, hides the password form when
// password login is off, sends the browser to the IdP, and never logs the secret.
func TestServeWithOIDC(t *testing.T) {
	idp := oidctest.Start(t)
	var logs bytes.Buffer
	m := &Main{Config: ServeConfig{
		DataDir: t.TempDir(), Addr: "127.0.0.1:0", MaxBatch: 10000, MaxBodyBytes: 64 << 20, CacheMiB: 16,
		SealEntries: 500, Drain: 5 * time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		PublicURL: "http://vakt.test", NoPasswordLogin: true, OIDCLabel: "Logga in med kort",
		OIDC: oidc.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
			RedirectURL: "http://vakt.test/login/oidc/callback", HTTPClient: idp.HTTPClient},
	}}
	if err := m.Open(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		m.Close()
	}()
	base := "http://" + m.Server.Addr()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Logga in med kort") || strings.Contains(string(body), `name="password"`) {
		t.Fatalf("login page:\n%s", body)
	}
	req, _ := http.NewRequest("GET", base+"/login/oidc", nil)
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, idp.Issuer) || !strings.Contains(loc, "code_challenge_method=S256") ||
		!strings.Contains(loc, "redirect_uri=http%3A%2F%2Fvakt.test%2Flogin%2Foidc%2Fcallback") {
		t.Fatalf("start: %d %s", resp.StatusCode, loc)
	}
	if strings.Contains(logs.String(), idp.ClientSecret) {
		t.Fatal("the client secret is in the log")
	}
}
