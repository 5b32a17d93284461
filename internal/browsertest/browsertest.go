// Package browsertest gives tests a real headless Chromium, driven through chromedp: the browser
// named by VAKT_TEST_CHROMIUM, or Debian's chromium from the PATH.
//
// Where Chromium is missing, tests are skipped, except on CI (CI=true), where a missing browser is
// a failure: CI must install it (Debian: chromium).
package browsertest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// EnvChromium names the browser binary to use instead of the one on the PATH.
const EnvChromium = "VAKT_TEST_CHROMIUM"

// Path returns the Chromium binary, or "" when there is none.
func Path() string {
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Option changes how New starts the browser.
type Option func(*settings)

type settings struct {
	hostRules []string
	spki      []string
	listeners []func(ev any)
}

// MapHost makes the browser reach host (on any port) at addr, a loopback host:port. Tests need
// it where the site matters: cookies' SameSite rules compare sites (scheme and registrable
// domain, never ports), so two servers on 127.0.0.1 are one site to the browser, while a server
// reached as vakt.test is another site than one on 127.0.0.1.
func MapHost(host, addr string) Option {
	return func(s *settings) { s.hostRules = append(s.hostRules, "MAP "+host+" "+addr) }
}

// TrustCertificate makes the browser accept a TLS server that presents cert's public key, such
// as an httptest TLS server's. Only that key: other certificate errors still fail the page.
func TrustCertificate(cert *x509.Certificate) Option {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return func(s *settings) { s.spki = append(s.spki, base64.StdEncoding.EncodeToString(sum[:])) }
}

// Listen passes the tab's protocol events to fn, from the browser's start on; fn must return
// quickly and must not run browser commands (chromedp.WithListener's rules).
func Listen(fn func(ev any)) Option {
	return func(s *settings) { s.listeners = append(s.listeners, fn) }
}

// New starts a fresh headless browser for t (its own profile in a temporary directory) and
// returns a context of its first tab, which ends after timeout or with the test. Downloads go to
// the returned directory.
func New(t testing.TB, timeout time.Duration, options ...Option) (context.Context, string) {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is required on CI and was not found; install chromium or set %s", EnvChromium)
		}
		t.Skipf("Chromium is not available here; install chromium or set %s", EnvChromium)
	}
	// Flags: headless without a sandbox (tests may run as root, which the sandbox refuses), and
	// nothing that reaches the network on its own (updates, sync, QUIC probes), so that a test
	// talks only to the server under test.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	var set settings
	for _, o := range options {
		o(&set)
	}
	if len(set.hostRules) > 0 {
		// A mapped name is served over plain http; the browser must not try https first.
		opts = append(opts, chromedp.Flag("host-resolver-rules", strings.Join(set.hostRules, ",")),
			chromedp.Flag("disable-features", "HttpsUpgrades"))
	}
	if len(set.spki) > 0 {
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(set.spki, ",")))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctxOpts := []chromedp.ContextOption{chromedp.WithLogf(t.Logf)}
	for _, fn := range set.listeners {
		ctxOpts = append(ctxOpts, chromedp.WithListener(fn))
	}
	tab, cancelTab := chromedp.NewContext(actx, ctxOpts...)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first call starts the browser, which lives as long as that call's context: so it gets
	// the tab's context, and only later calls the deadline.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(tab, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, timeout)
	t.Cleanup(cancelTimeout)
	return ctx, downloads
}

// Page drives the browser of ctx (from New) for test t, failing the test at the first step that
// fails, with where the browser was.
type Page struct {
	T   testing.TB
	Ctx context.Context
}

// Run runs steps in order; what names them in a failure.
func (p Page) Run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	if err := chromedp.Do(p.Ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.Ctx, chromedp.Location())
		p.T.Fatalf("%s: %v (at %s)", what, err, loc)
	}
}

// Text returns the text of the element sel (CSS) selects.
func (p Page) Text(sel string) string {
	p.T.Helper()
	s, err := chromedp.Run(p.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.T.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Location returns the page's URL.
func (p Page) Location() string {
	p.T.Helper()
	s, err := chromedp.Run(p.Ctx, chromedp.Location())
	if err != nil {
		p.T.Fatal(err)
	}
	return s
}
