package service

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"modconsole/backend/store"
)

// A flood of catches while the auto-actor is busy: the ones that do not fit
// stay in the queue, and they are reported once per skipReport (one log
// line with the count, one notice per channel), not once each.
func TestSkippedAutoActionsReportedInSummary(t *testing.T) {
	var logs bytes.Buffer
	s := &Service{
		log:   slog.New(slog.NewTextHandler(&logs, nil)),
		ui:    newUIBuffer(100),
		autos: make(chan autoAct, 1),
	}
	batch := func(n int) []autoAct {
		out := make([]autoAct, n)
		for i := range out {
			out[i] = autoAct{item: &store.QueueRow{ID: int64(i + 1), ChannelID: int64(1 + i%2)}, rule: "spam"}
		}
		return out
	}
	s.handOffAutos(batch(500)) // one fits, 499 are skipped
	s.handOffAutos(batch(500)) // all 500 skipped, within skipReport
	if len(s.autos) != 1 {
		t.Fatalf("%d handed off, want 1 (the hand-off's room)", len(s.autos))
	}
	if n := strings.Count(logs.String(), "automatic actions skipped"); n != 1 {
		t.Fatalf("%d log lines for 999 skipped actions, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "count=499") {
		t.Errorf("the log line does not carry the count: %s", logs.String())
	}
	b, _ := s.ui.take()
	if len(b.Notices) != 2 {
		t.Fatalf("%d notices, want one per channel: %+v", len(b.Notices), b.Notices)
	}
	if s.skips.n != 500 || s.skips.perChan[1]+s.skips.perChan[2] != 500 {
		t.Errorf("the second batch's skips are not carried to the next report: %d, %v", s.skips.n, s.skips.perChan)
	}
}
