package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"modconsole/backend/httpapi"
)

// The desktop window must never show a page other than the console's own:
// Wails v2.9.2 does not check where a binding call comes from, so any page
// loaded into the window could call SaveAccount or Act. Links open in the
// system browser (Browser.OpenURL), the webview takes no drops, and the
// frontend refuses navigation away from the app (docs/security.md).

// Options returns the Wails options of the desktop window over a and the
// built frontend: the console's size and colours, the bindings (the App
// and a Browser), and what keeps foreign pages out of the window.
func Options(a *App, assets fs.FS) *options.App {
	return &options.App{
		Title:            "Moderation console",
		Width:            1280,
		Height:           800,
		MinWidth:         720,
		MinHeight:        480,
		AssetServer:      &assetserver.Options{Assets: assets, Middleware: withCSP},
		BackgroundColour: &options.RGBA{R: 17, G: 19, B: 24, A: 1},
		OnStartup:        Startup(a),
		Bind:             []interface{}{a, NewBrowser(a)},
		// A file or link dropped on the webview would load it in place of
		// the console; Wails' own file drop is not used either.
		DragAndDrop: &options.DragAndDrop{DisableWebViewDrop: true, EnableFileDrop: false},
		// No "Open link in new window", "Back" or "Reload" menu: the
		// default context menu stays off (it is on in dev builds only).
		EnableDefaultContextMenu: false,
	}
}

// withCSP gives every response of the window's asset server browser mode's
// Content-Security-Policy: no inline script or style, no plugins, no base
// or form targets elsewhere. Wails' own runtime and bindings come as
// /wails/*.js files of the same origin, which 'self' admits.
func withCSP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", httpapi.CSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// Browser is bound to the desktop window beside App: it opens links in the
// system's browser, never in the window.
type Browser struct {
	app  *App
	open func(ctx context.Context, url string) // runtime.BrowserOpenURL; tests replace it
}

// NewBrowser returns the Browser of a's window.
func NewBrowser(a *App) *Browser { return &Browser{app: a, open: runtime.BrowserOpenURL} }

// ErrNotWebURL is returned by OpenURL for anything but an absolute http(s) URL.
var ErrNotWebURL = errors.New("app: only http and https links open")

// maxURL bounds the length of a URL handed to the system browser.
const maxURL = 2048

// OpenURL opens raw in the system's default browser. Only absolute http and
// https URLs with a host are opened; anything else (file:, javascript:, a
// custom scheme, credentials in the URL) gives ErrNotWebURL.
func (b *Browser) OpenURL(raw string) error {
	u, err := WebURL(raw)
	if err != nil {
		return err
	}
	b.app.mu.RLock()
	ctx, ready := b.app.ctx, b.app.ready
	b.app.mu.RUnlock()
	if !ready {
		return errors.New("app: the window is not ready")
	}
	b.open(ctx, u)
	return nil
}

// WebURL checks that raw is an absolute http(s) URL with a host and no user
// information, and returns it normalized.
func WebURL(raw string) (string, error) {
	if len(raw) > maxURL || strings.ContainsAny(raw, "\x00\r\n\t ") {
		return "", fmt.Errorf("%w: malformed", ErrNotWebURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotWebURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%w: scheme %q", ErrNotWebURL, u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: no host", ErrNotWebURL)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: credentials in the URL", ErrNotWebURL)
	}
	return u.String(), nil
}
