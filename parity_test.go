package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"modconsole/app"
	"modconsole/backend/httpapi"
	"modconsole/backend/service"
)

// TestBindingsAndRoutesInParity keeps the two edges over the service in
// step: every service.API method is a browser-mode route and a bound Wails
// method with the same arguments (less the context) and results, and the
// App binds nothing else.
func TestBindingsAndRoutesInParity(t *testing.T) {
	api := reflect.TypeOf((*service.API)(nil)).Elem()
	appT := reflect.TypeOf(&app.App{})
	routes := map[string]bool{}
	for _, r := range httpapi.New(httpapi.Options{API: &service.Service{}}).Routes() {
		routes[r] = true
	}
	if len(routes) != api.NumMethod() {
		t.Errorf("%d routes for %d API methods", len(routes), api.NumMethod())
	}
	for i := 0; i < api.NumMethod(); i++ {
		m := api.Method(i)
		if !routes[m.Name] {
			t.Errorf("API method %s has no route", m.Name)
		}
		am, ok := appT.MethodByName(m.Name)
		if !ok {
			t.Errorf("API method %s is not bound in app.App", m.Name)
			continue
		}
		// am.Type has the receiver first; m.Type has the context first.
		if am.Type.NumIn() != m.Type.NumIn() {
			t.Errorf("%s: App takes %d arguments, API %d (plus context)", m.Name, am.Type.NumIn()-1, m.Type.NumIn()-1)
			continue
		}
		for j := 1; j < m.Type.NumIn(); j++ {
			if am.Type.In(j) != m.Type.In(j) {
				t.Errorf("%s argument %d: App %v, API %v", m.Name, j, am.Type.In(j), m.Type.In(j))
			}
		}
		if am.Type.NumOut() != m.Type.NumOut() {
			t.Errorf("%s: App returns %d values, API %d", m.Name, am.Type.NumOut(), m.Type.NumOut())
			continue
		}
		for j := 0; j < m.Type.NumOut(); j++ {
			if am.Type.Out(j) != m.Type.Out(j) {
				t.Errorf("%s result %d: App %v, API %v", m.Name, j, am.Type.Out(j), m.Type.Out(j))
			}
		}
	}
	for i := 0; i < appT.NumMethod(); i++ {
		if name := appT.Method(i).Name; !routes[name] {
			t.Errorf("app.App binds %s, which is not in service.API", name)
		}
	}
}

// TestAPIDocListsEveryMethod keeps docs/api.md in step with the routes.
func TestAPIDocListsEveryMethod(t *testing.T) {
	doc, err := os.ReadFile("docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range httpapi.New(httpapi.Options{API: &service.Service{}}).Routes() {
		if !strings.Contains(string(doc), "| `"+r+"` |") {
			t.Errorf("docs/api.md does not document %s", r)
		}
	}
}
