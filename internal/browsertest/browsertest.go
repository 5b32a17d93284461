// Package browsertest gives tests a real headless Chromium, driven through chromedp: the browser
// named by VAKT_TEST_CHROMIUM, or Debian's chromium from the PATH.
//
// Where Chromium is missing, tests are skipped, except on CI (CI=true), where a missing browser is
// a failure: CI must install it (Debian: chromium).
package browsertest

import (
	"context"
	"os"
	"os/exec"
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

// New starts a fresh headless browser for t (its own profile in a temporary directory) and
// returns a context of its first tab, which ends after timeout or with the test. Downloads go to
// the returned directory.
func New(t testing.TB, timeout time.Duration) (context.Context, string) {
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
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
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
