package service

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"modconsole/backend/store"
)

// Export kinds and formats.
const (
	ExportAudit   = "audit"
	ExportSearch  = "search"
	ExportChatLog = "chatlog"

	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
	FormatText  = "text"
)

// ExportRequest says what to export. Audit and search exports take every
// row matching the query (its cursor and limit are ignored), newest first;
// a chat log is one channel's day, oldest first.
type ExportRequest struct {
	Kind   string        `json:"kind"`   // audit, search or chatlog
	Format string        `json:"format"` // csv or jsonl (audit, search); a chat log is text
	Audit  AuditQuery    `json:"audit"`  // kind audit
	Search SearchRequest `json:"search"` // kind search
	// ChannelID and Day (YYYY-MM-DD, local time) pick a chat log.
	ChannelID int64  `json:"channelId"`
	Day       string `json:"day"`
}

// ExportTicket describes an export. In browser mode URL is the address to
// GET for the file (it streams); the desktop app asks for a save path,
// writes the file, and fills Path and Rows (or Cancelled).
type ExportTicket struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	URL         string `json:"url,omitempty"`
	Path        string `json:"path,omitempty"`
	Rows        int64  `json:"rows,omitempty"`
	Cancelled   bool   `json:"cancelled,omitempty"`
}

// Exporter streams exports to a writer; *Service implements it. The edges
// use it: browser mode's GET /api/export and the desktop app's save dialog.
type Exporter interface {
	// Export checks req and describes the file it makes.
	Export(ctx context.Context, req ExportRequest) (ExportTicket, error)
	// WriteExport writes the export to w as it reads the rows (one row in
	// memory at a time) and returns how many rows it wrote.
	WriteExport(ctx context.Context, w io.Writer, req ExportRequest) (int64, error)
}

var _ Exporter = (*Service)(nil)

// ExportPath is the browser-mode route that streams an export; its req
// parameter is the ExportRequest as JSON.
const ExportPath = "/api/export"

// Export implements API and Exporter.
func (s *Service) Export(ctx context.Context, req ExportRequest) (ExportTicket, error) {
	t, err := s.exportTicket(ctx, req)
	if err != nil {
		return ExportTicket{}, err
	}
	if s.opts.Mode == "browser" {
		js, err := json.Marshal(req)
		if err != nil {
			return ExportTicket{}, fmt.Errorf("service: export: %w", err)
		}
		t.URL = ExportPath + "?req=" + url.QueryEscape(string(js))
	}
	return t, nil
}

// exportTicket validates req and names its file.
func (s *Service) exportTicket(ctx context.Context, req ExportRequest) (ExportTicket, error) {
	stamp := time.Now().Format("2006-01-02-150405")
	switch req.Kind {
	case ExportAudit, ExportSearch:
		var ct string
		switch req.Format {
		case FormatCSV:
			ct = "text/csv; charset=utf-8"
		case FormatJSONL:
			ct = "application/x-ndjson; charset=utf-8"
		default:
			return ExportTicket{}, invalid("export format must be csv or jsonl, not %q", req.Format)
		}
		if req.Kind == ExportAudit {
			if _, err := actionFilter(req.Audit); err != nil {
				return ExportTicket{}, err
			}
		} else if _, _, err := s.searchFilter(req.Search); err != nil {
			return ExportTicket{}, err
		}
		return ExportTicket{Filename: fmt.Sprintf("modconsole-%s-%s.%s", req.Kind, stamp, req.Format), ContentType: ct}, nil
	case ExportChatLog:
		if req.Format != "" && req.Format != FormatText {
			return ExportTicket{}, invalid("a chat log is plain text, not %q", req.Format)
		}
		ch, _, err := s.chatLogRange(ctx, req)
		if err != nil {
			return ExportTicket{}, err
		}
		return ExportTicket{Filename: safeFilename(ch.Name) + "-" + req.Day + ".log", ContentType: "text/plain; charset=utf-8"}, nil
	}
	return ExportTicket{}, invalid("export kind must be audit, search or chatlog, not %q", req.Kind)
}

// chatLogRange checks a chat log request: the channel and the local day.
func (s *Service) chatLogRange(ctx context.Context, req ExportRequest) (store.Channel, time.Time, error) {
	day, err := time.ParseInLocation("2006-01-02", req.Day, time.Local)
	if err != nil {
		return store.Channel{}, time.Time{}, invalid("day must be a date like 2026-11-25, not %q", req.Day)
	}
	ch, err := s.st.Channel(ctx, req.ChannelID)
	if err != nil {
		return store.Channel{}, time.Time{}, notFound(err, "channel %d", req.ChannelID)
	}
	return ch, day, nil
}

// safeFilename keeps letters, digits, '.', '_' and '-' of name.
func safeFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "channel"
	}
	return out
}

// WriteExport implements Exporter.
func (s *Service) WriteExport(ctx context.Context, w io.Writer, req ExportRequest) (int64, error) {
	return s.writeExport(ctx, w, req, nil)
}

// writeExport writes req's export to w; row, when set, is called after
// each row is handed to the writer (tests watch the streaming with it).
func (s *Service) writeExport(ctx context.Context, w io.Writer, req ExportRequest, row func(n int64)) (int64, error) {
	if _, err := s.exportTicket(ctx, req); err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	var n int64
	count := func() {
		n++
		if row != nil {
			row(n)
		}
	}
	var err error
	switch req.Kind {
	case ExportAudit:
		err = s.exportAudit(ctx, bw, req.Format, req.Audit, count)
	case ExportSearch:
		err = s.exportSearch(ctx, bw, req.Format, req.Search, count)
	case ExportChatLog:
		err = s.exportChatLog(ctx, bw, req, count)
	}
	if err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("service: export: %w", err)
	}
	return n, nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a cell
// starting with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe (OWASP's advice for CSV injection).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// rowWriter writes CSV or JSON lines.
type rowWriter struct {
	csv *csv.Writer
	js  *json.Encoder
	rec []string
}

func newRowWriter(w io.Writer, format string, header []string) (*rowWriter, error) {
	if format == FormatJSONL {
		return &rowWriter{js: json.NewEncoder(w)}, nil
	}
	rw := &rowWriter{csv: csv.NewWriter(w)}
	if err := rw.csv.Write(header); err != nil {
		return nil, fmt.Errorf("service: export: %w", err)
	}
	return rw, nil
}

// write writes one row: cells for CSV (made formula-safe), obj for JSONL.
func (rw *rowWriter) write(cells func() []string, obj func() any) error {
	if rw.js != nil {
		if err := rw.js.Encode(obj()); err != nil {
			return fmt.Errorf("service: export: %w", err)
		}
		return nil
	}
	rw.rec = rw.rec[:0]
	for _, c := range cells() {
		rw.rec = append(rw.rec, csvSafe(c))
	}
	if err := rw.csv.Write(rw.rec); err != nil {
		return fmt.Errorf("service: export: %w", err)
	}
	return nil
}

func (rw *rowWriter) flush() error {
	if rw.csv != nil {
		rw.csv.Flush()
		if err := rw.csv.Error(); err != nil {
			return fmt.Errorf("service: export: %w", err)
		}
	}
	return nil
}

// timeCell formats unix ms for an export (RFC 3339, local time, ms).
func timeCell(v int64) string {
	if v == 0 {
		return ""
	}
	return time.UnixMilli(v).Format("2006-01-02T15:04:05.000Z07:00")
}

// searchExportRow is one JSON line of a search export.
type searchExportRow struct {
	MessageView
	Channel string `json:"channel"`
}

func (s *Service) exportSearch(ctx context.Context, w io.Writer, format string, req SearchRequest, count func()) error {
	f, sf, err := s.searchFilter(req)
	if err != nil {
		return err
	}
	rw, err := newRowWriter(w, format, []string{"id", "time", "platform", "channel_id", "channel", "message_id",
		"user_id", "username", "display_name", "text", "deleted", "held", "note", "edits"})
	if err != nil {
		return err
	}
	if !f.empty() || req.ChannelID != 0 {
		err = s.st.EachMessage(ctx, sf, func(m store.MessageRow) error {
			v := messageView(m, m.Platform)
			err := rw.write(func() []string {
				return []string{strconv.FormatInt(v.ID, 10), timeCell(v.At), string(v.Platform), strconv.FormatInt(v.ChannelID, 10),
					m.Msg.Channel, v.PlatformID, v.User.ID, v.User.Username, v.User.DisplayName, v.Text,
					strconv.FormatBool(v.Deleted), strconv.FormatBool(v.Held), v.Note, strconv.Itoa(v.Edits)}
			}, func() any { return searchExportRow{MessageView: v, Channel: m.Msg.Channel} })
			if err == nil {
				count()
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return rw.flush()
}

// auditExportRow is one JSON line of an audit export.
type auditExportRow struct {
	ActionView
	TargetUserID string                  `json:"targetUserId,omitempty"`
	Attempts     int                     `json:"attempts"`
	Messages     []store.EvidenceMessage `json:"evidenceMessages"`
}

func (s *Service) exportAudit(ctx context.Context, w io.Writer, format string, q AuditQuery, count func()) error {
	f, err := actionFilter(q)
	if err != nil {
		return err
	}
	f.BeforeID, f.Limit = 0, 0
	rw, err := newRowWriter(w, format, []string{"id", "time", "updated", "platform", "channel_id", "channel", "moderator",
		"kind", "target_user_id", "target", "message_id", "params", "status", "outcome", "attempts", "evidence"})
	if err != nil {
		return err
	}
	err = s.st.EachAction(ctx, f, func(r store.ActionRecord) error {
		v := s.actionView(r.ActionRow, r.Platform)
		v.Moderator, v.Channel = r.Moderator, r.Channel
		var targetID string
		if r.Action.User != nil {
			targetID = r.Action.User.ID
		}
		err := rw.write(func() []string {
			ev := make([]string, 0, len(r.EvidenceMessages))
			for _, m := range r.EvidenceMessages {
				ev = append(ev, fmt.Sprintf("[%s] %s: %s", timeCell(m.At), m.Username, m.Text))
			}
			return []string{strconv.FormatInt(v.ID, 10), timeCell(v.Created), timeCell(v.Updated), string(v.Platform),
				strconv.FormatInt(v.ChannelID, 10), v.Channel, v.Moderator, string(v.Kind), targetID, v.Target,
				r.Action.MessageID, v.Params, v.Status, v.Outcome, strconv.Itoa(r.Attempts), strings.Join(ev, "\n")}
		}, func() any {
			msgs := r.EvidenceMessages
			if msgs == nil {
				msgs = []store.EvidenceMessage{}
			}
			return auditExportRow{ActionView: v, TargetUserID: targetID, Attempts: r.Attempts, Messages: msgs}
		})
		if err == nil {
			count()
		}
		return err
	})
	if err != nil {
		return err
	}
	return rw.flush()
}

// exportChatLog writes a channel's day in Chatterino's log format:
//
//	# Start logging at 2026-11-25 14:03:07 CET
//	[14:03:07] alice: hello
//	[14:03:09] 테스트계정 testaccount: a display name that differs from the login
//
// Times are local; a display name that is not the username (ignoring case)
// comes before it; line breaks in a message become spaces; a message
// without an author is its text alone.
func (s *Service) exportChatLog(ctx context.Context, w io.Writer, req ExportRequest, count func()) error {
	ch, day, err := s.chatLogRange(ctx, req)
	if err != nil {
		return err
	}
	f := store.MessageFilter{ChannelID: ch.ID, After: day, Before: day.AddDate(0, 0, 1), Oldest: true}
	started := false
	var line []byte
	err = s.st.EachMessage(ctx, f, func(m store.MessageRow) error {
		at := m.Msg.At.Local()
		if !started {
			started = true
			if _, err := io.WriteString(w, "# Start logging at "+at.Format("2006-01-02 15:04:05 MST")+"\n"); err != nil {
				return fmt.Errorf("service: export: %w", err)
			}
		}
		line = append(line[:0], '[')
		line = at.AppendFormat(line, "15:04:05")
		line = append(line, "] "...)
		if u := m.Msg.User; u.Username != "" || u.DisplayName != "" {
			if u.DisplayName != "" && u.Username != "" && !strings.EqualFold(u.DisplayName, u.Username) {
				line = append(line, oneLine(u.DisplayName)...)
				line = append(line, ' ')
			}
			name := u.Username
			if name == "" {
				name = u.DisplayName
			}
			line = append(line, oneLine(name)...)
			line = append(line, ": "...)
		}
		line = append(line, oneLine(m.Msg.Text)...)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("service: export: %w", err)
		}
		count()
		return nil
	})
	return err
}

// oneLine replaces line breaks with spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\u2028\u2029") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\u2028", " ", "\u2029", " ").Replace(s)
}
