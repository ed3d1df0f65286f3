package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// newExportServer is a browser-mode server over a log of n messages in
// channel "lumen" (the first one a formula), on a fixed local day.
func newExportServer(t *testing.T, n int) (*Server, *httptest.Server, store.Channel, time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	a := &store.Account{Platform: chat.Velora, Name: "mod"}
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	ch, err := st.UpsertChannel(ctx, a.ID, chat.Velora, "lumen")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 20, 9, 0, 0, 0, time.Local)
	for done := 0; done < n; {
		b := &store.Batch{}
		for i := done; i < min(n, done+1000); i++ {
			text := fmt.Sprintf("line %d", i)
			if i == 0 {
				text = `=HYPERLINK("http://evil","x")`
			}
			b.Messages = append(b.Messages, &store.MessageRow{ChannelID: ch.ID, Msg: chat.Message{
				ID: fmt.Sprint("p", i), User: chat.User{ID: "u1", Username: "amy"}, Text: text, At: day.Add(time.Duration(i) * time.Second)}})
		}
		if err := st.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		done += len(b.Messages)
	}
	svc := service.New(service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}, Mode: "browser"})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(Options{API: svc, Token: token})
	ts := httptest.NewServer(s.Handler())
	s.SetAddr(strings.TrimPrefix(ts.URL, "http://"))
	t.Cleanup(func() { ts.Close(); svc.Close(); st.Close() })
	return s, ts, ch, day
}

func get(t *testing.T, ts *httptest.Server, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func exportURL(t *testing.T, req service.ExportRequest) string {
	js, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return service.ExportPath + "?req=" + url.QueryEscape(string(js))
}

func TestExportRouteStreamsWithAuth(t *testing.T) {
	const n = 5000
	s, ts, ch, day := newExportServer(t, n)
	auth := map[string]string{"Cookie": session(s)}
	csvReq := service.ExportRequest{Kind: service.ExportSearch, Format: service.FormatCSV, Search: service.SearchRequest{Query: "platform:velora"}}

	// Refused without the session cookie, or with the token elsewhere.
	for _, hdr := range []map[string]string{nil, {"Cookie": s.CookieName() + "=wrong"}, {"X-Session-Token": token}} {
		if resp := get(t, ts, exportURL(t, csvReq), hdr); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("export with %v: status %d, want 401", hdr, resp.StatusCode)
		}
	}

	// The ticket of POST /api/Export names the URL to GET.
	resp, body := call(t, ts, "Export", mustJSON(t, []any{csvReq}), auth)
	var ticket service.ExportTicket
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &ticket) != nil || !strings.HasPrefix(ticket.URL, service.ExportPath+"?req=") {
		t.Fatalf("Export: %d %s", resp.StatusCode, body)
	}

	resp = get(t, ts, ticket.URL, auth)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET export: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=modconsole-search-") || !strings.HasSuffix(cd, ".csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	// Streamed: no length known up front, the body comes in chunks.
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("not streamed: length %d, transfer encoding %v", resp.ContentLength, resp.TransferEncoding)
	}
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 || recs[0][0] != "id" || recs[0][9] != "text" {
		t.Fatalf("%d CSV records, header %v", len(recs), recs[0])
	}
	if first := recs[len(recs)-1]; first[9] != `'=HYPERLINK("http://evil","x")` || first[4] != "lumen" || first[6] != "u1" {
		t.Errorf("oldest row (the formula) = %v", first)
	}

	// HEAD answers the headers without reading the rows.
	head, _ := http.NewRequest(http.MethodHead, ts.URL+ticket.URL, nil)
	head.Header.Set("Cookie", session(s))
	hr, err := http.DefaultTransport.RoundTrip(head)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 200 || hr.Header.Get("Content-Type") != "text/csv; charset=utf-8" || hr.Header.Get("Content-Disposition") == "" {
		t.Errorf("HEAD: %d %v", hr.StatusCode, hr.Header)
	}

	// JSONL: one object per line.
	resp = get(t, ts, exportURL(t, service.ExportRequest{Kind: service.ExportSearch, Format: service.FormatJSONL, Search: service.SearchRequest{Query: "line 4999"}}), auth)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson; charset=utf-8" {
		t.Errorf("JSONL Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 || lines[0]["text"] != "line 4999" || lines[0]["channel"] != "lumen" || lines[0]["platformId"] != "p4999" {
		t.Errorf("JSONL = %v", lines)
	}

	// The chat log of the day in Chatterino's format.
	resp = get(t, ts, exportURL(t, service.ExportRequest{Kind: service.ExportChatLog, ChannelID: ch.ID, Day: day.Format("2006-01-02")}), auth)
	if cd := resp.Header.Get("Content-Disposition"); cd != "attachment; filename=lumen-2026-11-20.log" {
		t.Errorf("chat log Content-Disposition %q", cd)
	}
	sc = bufio.NewScanner(resp.Body)
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
	}
	if len(log) != n+1 || !strings.HasPrefix(log[0], "# Start logging at 2026-11-20 09:00:00 ") || log[2] != "[09:00:01] amy: line 1" {
		t.Errorf("chat log: %d lines, starting %q", len(log), log[:min(3, len(log))])
	}

	// Bad requests are JSON errors before any byte of a file.
	for _, q := range []string{
		exportURL(t, service.ExportRequest{Kind: "everything"}),
		exportURL(t, service.ExportRequest{Kind: service.ExportSearch, Format: "xlsx"}),
		exportURL(t, service.ExportRequest{Kind: service.ExportSearch, Format: "csv", Search: service.SearchRequest{Query: "is:angry"}}),
		exportURL(t, service.ExportRequest{Kind: service.ExportChatLog, ChannelID: ch.ID, Day: "yesterday"}),
		service.ExportPath + "?req=notjson",
	} {
		resp := get(t, ts, q, auth)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("%s: status %d, disposition %q", q, resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
	}
	if resp := get(t, ts, exportURL(t, service.ExportRequest{Kind: service.ExportChatLog, ChannelID: 999, Day: "2026-11-20"}), auth); resp.StatusCode != http.StatusNotFound {
		t.Errorf("chat log of a missing channel: %d", resp.StatusCode)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
