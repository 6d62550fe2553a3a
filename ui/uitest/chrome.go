// Package uitest is what the tests of the pages, the console and the
// end-to-end tests share, so that each does it one way: headless Chromium
// (Chrome), and an HTTP client with a cookie jar that browses like one
// (Browser) with the HTML form readers it needs. Only tests import it.
package uitest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// Chrome starts headless Chromium for t with a window of width × height and
// returns its first tab. Without Chromium on PATH it skips t, or fails it
// under COGNATE_REQUIRE_BROWSER=1, as CI sets.
func Chrome(t testing.TB, width, height int) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("COGNATE_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium on PATH (chromium, chromium-browser, google-chrome) and COGNATE_REQUIRE_BROWSER=1")
		}
		t.Skip("browser test skipped: no chromium, chromium-browser or google-chrome on PATH (set COGNATE_REQUIRE_BROWSER=1 to fail instead)")
	}
	// Without the background-networking flags Chromium keeps trying hosts
	// this machine's closed network refuses.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first call starts the browser and binds it to ctx: no deadline here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// AllowClipboard lets the pages of the tab of ctx write and read the
// clipboard, which headless Chromium would otherwise ask a person about:
// a test can then press a Copy button and read what it copied.
func AllowClipboard(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, name := range []string{"clipboard-write", "clipboard-read"} {
			_, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted})
			if err != nil {
				return fmt.Errorf("allow %s: %w", name, err)
			}
		}
		return nil
	}))
}

// WaitUntil waits until the loaded page of the tab of ctx makes the
// JavaScript condition true. It asks again after an error, since a
// question put while the page navigates fails.
func WaitUntil(ctx context.Context, condition string) error {
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+condition+`)`))
		if err == nil && ok {
			return nil
		}
		last = err
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return fmt.Errorf("waited in vain for %s (at %s): %v", condition, loc, last)
}
