package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"modconsole/backend/httpapi"
)

// TestOptionsKeepForeignPagesOut: the window takes no drops (a dropped file
// or link would replace the console), Wails' file drop and the default
// context menu are off, and exactly the App and a Browser are bound.
func TestOptionsKeepForeignPagesOut(t *testing.T) {
	a := New(nil)
	o := Options(a, fstest.MapFS{"index.html": {Data: []byte("x")}})
	if o.DragAndDrop == nil || !o.DragAndDrop.DisableWebViewDrop {
		t.Errorf("webview drops are enabled: %+v", o.DragAndDrop)
	}
	if o.DragAndDrop != nil && o.DragAndDrop.EnableFileDrop {
		t.Error("Wails file drop is enabled")
	}
	if o.EnableDefaultContextMenu {
		t.Error("the default context menu (open link in new window, reload) is enabled")
	}
	if o.AssetServer == nil || o.AssetServer.Assets == nil || o.OnStartup == nil || o.AssetServer.Middleware == nil {
		t.Fatal("the window has no assets, no startup hook or no CSP middleware")
	}
	// The page gets the strict CSP.
	h := o.AssetServer.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<!doctype html>")) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Get("Content-Security-Policy"); got != httpapi.CSP || !strings.Contains(got, "script-src 'self'") {
		t.Errorf("window CSP = %q", got)
	}
	if len(o.Bind) != 2 || o.Bind[0] != a {
		t.Fatalf("bound %v, want the App and a Browser", o.Bind)
	}
	if b, ok := o.Bind[1].(*Browser); !ok || b.app != a {
		t.Errorf("second binding %T is not the App's Browser", o.Bind[1])
	}
}

// TestBrowserBindsOnlyOpenURL: every exported method of Browser becomes
// callable from the window; only OpenURL may be.
func TestBrowserBindsOnlyOpenURL(t *testing.T) {
	bt := reflect.TypeOf(&Browser{})
	if bt.NumMethod() != 1 || bt.Method(0).Name != "OpenURL" {
		var names []string
		for i := 0; i < bt.NumMethod(); i++ {
			names = append(names, bt.Method(i).Name)
		}
		t.Errorf("Browser binds %v, want only OpenURL", names)
	}
}

// TestOpenURLGoesToTheSystemBrowser: an http(s) link goes to the opener
// (the system browser) once the window is ready; anything else is refused
// and never reaches it.
func TestOpenURLGoesToTheSystemBrowser(t *testing.T) {
	a := New(nil)
	var opened []string
	b := NewBrowser(a)
	b.open = func(_ context.Context, u string) { opened = append(opened, u) }

	if err := b.OpenURL("https://example.com/"); err == nil || len(opened) != 0 {
		t.Errorf("before the window is ready: err=%v opened=%v", err, opened)
	}
	a.startup(context.Background())
	for _, u := range []string{"https://example.com/clip?t=1#x", "http://velora.tv/lumen"} {
		if err := b.OpenURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if want := []string{"https://example.com/clip?t=1#x", "http://velora.tv/lumen"}; !reflect.DeepEqual(opened, want) {
		t.Errorf("opened %v, want %v", opened, want)
	}
	opened = nil
	for _, u := range []string{
		"javascript:alert(1)", "file:///etc/passwd", "data:text/html,<script>1</script>", "ftp://example.com/",
		"wails://wails/index.html", "//example.com/x", "/local", "https://", "http:///path", "https://user:pw@example.com/",
		"https://example.com/\nx", "-https://example.com", "smb://host/share", "https:example.com",
	} {
		if err := b.OpenURL(u); !errors.Is(err, ErrNotWebURL) {
			t.Errorf("%q: err = %v, want ErrNotWebURL", u, err)
		}
	}
	if len(opened) != 0 {
		t.Errorf("refused URLs reached the browser: %v", opened)
	}
}
