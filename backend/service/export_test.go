package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// logService opens a store with one channel holding n generated messages
// (one a second from day) and a started service over it.
func logService(t testing.TB, n int, day time.Time) (*Service, *store.Store, store.Channel) {
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
	for done := 0; done < n; {
		b := &store.Batch{}
		for i := done; i < min(n, done+2000); i++ {
			b.Messages = append(b.Messages, &store.MessageRow{ChannelID: ch.ID, Msg: chat.Message{
				ID: fmt.Sprint("p", i), User: chat.User{ID: fmt.Sprint("u", i%300), Username: fmt.Sprint("user", i%300)},
				Text: fmt.Sprintf("message number %d with a few words of chat in it, like most lines", i), At: day.Add(time.Duration(i) * time.Second)}})
		}
		if err := st.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		done += len(b.Messages)
	}
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return svc, st, ch
}

// watchWriter records, at each Write, how many rows the export had read.
type watchWriter struct {
	rows    *int64
	writes  int
	atFirst int64
	bytes   int64
	onWrite func()
}

func (w *watchWriter) Write(p []byte) (int, error) {
	if w.writes == 0 {
		w.atFirst = *w.rows
	}
	w.writes++
	w.bytes += int64(len(p))
	if w.onWrite != nil {
		w.onWrite()
	}
	return len(p), nil
}

// TestExportStreamsRows exports 20,000 rows: the writer gets its first
// bytes after a few dozen rows, many writes follow, and the heap in the
// middle of the export holds nothing like the rows read so far.
func TestExportStreamsRows(t *testing.T) {
	const n = 20000
	svc, _, _ := logService(t, n, time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local))
	ctx := context.Background()
	for _, format := range []string{FormatCSV, FormatJSONL} {
		t.Run(format, func(t *testing.T) {
			var rows int64
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			var mid uint64
			w := &watchWriter{rows: &rows}
			w.onWrite = func() {
				if mid == 0 && rows >= n/2 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					mid = ms.HeapAlloc
				}
			}
			got, err := svc.writeExport(ctx, w, ExportRequest{Kind: ExportSearch, Format: format, Search: SearchRequest{Query: "platform:velora"}},
				func(k int64) { rows = k })
			if err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Fatalf("%d rows exported, want %d", got, n)
			}
			if w.atFirst > 1000 {
				t.Errorf("first write after %d rows: the export is not streamed", w.atFirst)
			}
			if w.writes < int(w.bytes/(64<<10)) || w.writes < 50 {
				t.Errorf("%d writes for %d bytes: not written as read", w.writes, w.bytes)
			}
			// Half the rows (10,000) held in memory would be several MB more
			// than the baseline.
			if mid == 0 || mid > base+4<<20 {
				t.Errorf("heap in mid-export %d bytes over the baseline (%d bytes written so far)", int64(mid)-int64(base), w.bytes/2)
			}
		})
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportStopsOnWriteError(t *testing.T) {
	svc, _, _ := logService(t, 3000, time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local))
	var rows int64
	_, err := svc.writeExport(context.Background(), failWriter{}, ExportRequest{Kind: ExportSearch, Format: FormatCSV, Search: SearchRequest{Query: "platform:velora"}},
		func(k int64) { rows = k })
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if rows > 1000 {
		t.Errorf("kept reading %d rows after the writer failed", rows)
	}
}

func TestExportCSVIsFormulaSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+cmd": "'+cmd", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"plain": "plain", "": "", "a=b": "a=b", "'=quoted": "'=quoted",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
	// Through an export: user names and texts from chat are escaped.
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
	h.fake.emit(chat.Event{Kind: chat.KindMessage, Channel: "lumen", Message: &chat.Message{ID: "f1",
		User: chat.User{ID: "u-x", Username: "@evil", DisplayName: "=cmd|' /C calc'!A0"}, Text: "-1+2 buy viewers"}})
	eventually(t, "message stored", func() bool { r, _ := h.svc.Search(ctx, "viewers", 0, 5); return len(r) == 1 })
	var buf bytes.Buffer
	if _, err := h.svc.WriteExport(ctx, &buf, ExportRequest{Kind: ExportSearch, Format: FormatCSV, Search: SearchRequest{Query: "viewers"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v %v", recs, err)
	}
	row := recs[1]
	if row[7] != "'@evil" || row[8] != "'=cmd|' /C calc'!A0" || row[9] != "'-1+2 buy viewers" {
		t.Errorf("row = %q", row)
	}
	// The audit export of an action on it carries the evidence, also safe.
	items, _ := h.svc.Queue(ctx, 0, 5)
	if len(items) != 1 {
		t.Fatalf("queue = %+v", items)
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActBan, ItemID: items[0].ID, Reason: "=spam"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ban confirmed", func() bool {
		p, _ := h.svc.FilterAuditLog(ctx, AuditQuery{Statuses: []string{"confirmed"}})
		return len(p.Actions) == 1
	})
	buf.Reset()
	if n, err := h.svc.WriteExport(ctx, &buf, ExportRequest{Kind: ExportAudit, Format: FormatCSV, Audit: AuditQuery{Kinds: []string{"ban"}}}); err != nil || n != 1 {
		t.Fatalf("audit export: %d rows, %v", n, err)
	}
	recs, err = csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("audit CSV %v %v", recs, err)
	}
	a := recs[1]
	if a[6] != "mod" || a[7] != "ban" || a[8] != "u-x" || a[12] != "confirmed" || !strings.Contains(a[15], "@evil: -1+2 buy viewers") {
		t.Errorf("audit row = %q", a)
	}
	buf.Reset()
	if _, err := h.svc.WriteExport(ctx, &buf, ExportRequest{Kind: ExportAudit, Format: FormatJSONL}); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Kind      string                  `json:"kind"`
		Moderator string                  `json:"moderator"`
		Evidence  []store.EvidenceMessage `json:"evidenceMessages"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.Kind != "ban" || line.Moderator != "mod" || len(line.Evidence) != 1 || line.Evidence[0].Text != "-1+2 buy viewers" {
		t.Errorf("audit JSONL %s: %+v %v", buf.String(), line, err)
	}
}

func TestChatLogExportFormat(t *testing.T) {
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local)
	svc, st, ch := logService(t, 0, day)
	ctx := context.Background()
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	rows := []*store.MessageRow{
		{ChannelID: ch.ID, Msg: chat.Message{ID: "a", User: chat.User{ID: "1", Username: "pajlada", DisplayName: "PAJLADA"}, Text: "hello", At: at(13, 49, 58)}},
		{ChannelID: ch.ID, Msg: chat.Message{ID: "b", User: chat.User{ID: "2", Username: "testaccount_420", DisplayName: "테스트계정420"}, Text: "xd", At: at(13, 50, 0)}},
		{ChannelID: ch.ID, Msg: chat.Message{ID: "c", User: chat.User{ID: "3", Username: "bob"}, Text: "two\nlines\r\nhere", At: at(23, 59, 59)}},
		{ChannelID: ch.ID, Msg: chat.Message{ID: "d", Text: "a system line", At: at(23, 59, 59)}},
		{ChannelID: ch.ID, Msg: chat.Message{ID: "e", User: chat.User{Username: "late"}, Text: "next day", At: at(24, 0, 0)}},
		{ChannelID: ch.ID, Msg: chat.Message{ID: "f", User: chat.User{Username: "early"}, Text: "day before", At: day.Add(-time.Second)}},
	}
	if err := st.WriteBatch(ctx, &store.Batch{Messages: rows}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	req := ExportRequest{Kind: ExportChatLog, ChannelID: ch.ID, Day: "2026-11-20"}
	n, err := svc.WriteExport(ctx, &buf, req)
	if err != nil || n != 4 {
		t.Fatalf("%d rows, %v", n, err)
	}
	zone := at(13, 49, 58).Format("MST")
	want := "# Start logging at 2026-11-20 13:49:58 " + zone + "\n" +
		"[13:49:58] pajlada: hello\n" +
		"[13:50:00] 테스트계정420 testaccount_420: xd\n" +
		"[23:59:59] bob: two lines here\n" +
		"[23:59:59] a system line\n"
	if buf.String() != want {
		t.Errorf("chat log:\n%s\nwant:\n%s", buf.String(), want)
	}
	tk, err := svc.Export(ctx, req)
	if err != nil || tk.Filename != "lumen-2026-11-20.log" || tk.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("ticket = %+v, %v", tk, err)
	}
	if tk.URL == "" || !strings.HasPrefix(tk.URL, ExportPath+"?req=") {
		t.Errorf("browser-mode ticket without URL: %+v", tk)
	}
	for _, bad := range []ExportRequest{
		{Kind: ExportChatLog, ChannelID: ch.ID, Day: "20/11/2026"},
		{Kind: ExportChatLog, ChannelID: ch.ID, Day: "2026-11-20", Format: "csv"},
		{Kind: ExportAudit, Format: "csv", Audit: AuditQuery{Kinds: []string{"smite"}}},
		{Kind: "everything", Format: "csv"},
	} {
		if _, err := svc.Export(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := svc.Export(ctx, ExportRequest{Kind: ExportChatLog, ChannelID: 999, Day: "2026-11-20"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing channel: %v", err)
	}
}

// BenchmarkExportSearchCSV exports a log of EXPORT_BENCH_ROWS messages
// (default 1,000,000) as CSV to a counting writer and reports rows/s and the
// largest heap seen during the export (sampled every 10,000 rows).
func BenchmarkExportSearchCSV(b *testing.B) {
	n := 1_000_000
	if v := benchEnvInt("EXPORT_BENCH_ROWS"); v > 0 {
		n = v
	}
	svc, _, _ := logService(b, n, time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local))
	ctx := context.Background()
	b.ResetTimer()
	var peak uint64
	for range b.N {
		var ms runtime.MemStats
		w := &watchWriter{rows: new(int64)}
		got, err := svc.writeExport(ctx, w, ExportRequest{Kind: ExportSearch, Format: FormatCSV, Search: SearchRequest{Query: "platform:velora"}},
			func(k int64) {
				if k%10000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
			})
		if err != nil || got != int64(n) {
			b.Fatalf("%d rows, %v", got, err)
		}
		b.SetBytes(w.bytes)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// benchEnvInt reads a positive integer from the environment (0 when unset
// or not a number).
func benchEnvInt(name string) int {
	v, err := strconv.Atoi(os.Getenv(name))
	if err != nil || v < 0 {
		return 0
	}
	return v
}
