package service

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// TestLimitsCheckedAtTheAPIAsTheConnectorCounts: Act refuses, before
// anything is queued, what exceeds the connector's declared limits, counted
// in the connector's unit over the text it puts on the wire, and names the
// platform's own limit.
func TestLimitsCheckedAtTheAPIAsTheConnectorCounts(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.fake.limits = &chat.Capabilities{MaxMessage: 20, MessageUnit: chat.UTF16, MaxTimeout: 7 * 24 * 3600, LimitsBy: "Kick"}
	h.fake.compose = func(a chat.Action) (string, error) {
		switch a.Kind {
		case chat.ActAnnounce:
			return "/announceblue " + a.Text, nil // 14 units of command
		case chat.ActBan:
			return "/ban " + a.User.Username + " " + a.Reason, nil
		}
		return a.Text, nil
	}
	h.setup(t)
	ctx := context.Background()
	act := func(req ActionRequest) error {
		req.ChannelID = h.ch.ID
		_, err := h.svc.Act(ctx, req)
		return err
	}
	refused := func(name string, err error, words ...string) {
		t.Helper()
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want a refusal", name, err)
			return
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
	// 10 emoji are 10 runes but 20 UTF-16 units: at the limit; 11 are over.
	if err := act(ActionRequest{Kind: chat.ActSend, Text: strings.Repeat("😀", 10)}); err != nil {
		t.Errorf("20 UTF-16 units refused: %v", err)
	}
	refused("11 emoji", act(ActionRequest{Kind: chat.ActSend, Text: strings.Repeat("😀", 11)}), "22", "Kick allows at most 20", "UTF-16")
	// The limit applies to the wire text, command included.
	refused("announce", act(ActionRequest{Kind: chat.ActAnnounce, Text: "seven chars"}), "25", "announce")
	if err := act(ActionRequest{Kind: chat.ActAnnounce, Text: "six ch"}); err != nil {
		t.Errorf("an announcement whose command fits was refused: %v", err)
	}
	refused("ban reason", act(ActionRequest{Kind: chat.ActBan, Username: "bob", Reason: "a reason that is far too long"}), "ban", "Kick allows at most 20")
	// Timeouts: the platform's own limit, in its words.
	refused("8-day timeout", act(ActionRequest{Kind: chat.ActTimeout, Username: "bob", DurationSeconds: 8 * 24 * 3600}), "Kick", "7 days")
	if err := act(ActionRequest{Kind: chat.ActTimeout, Username: "bob", DurationSeconds: 7 * 24 * 3600}); err != nil {
		t.Errorf("a 7-day timeout was refused: %v", err)
	}
	if err := act(ActionRequest{Kind: chat.ActTimeout, Username: "bob", DurationSeconds: 8 * 24 * 3600}); err != nil && strings.Contains(err.Error(), "14") {
		t.Errorf("the refusal names the console's 14 days, not Kick's 7: %v", err)
	}
	refused("absurd timeout", act(ActionRequest{Kind: chat.ActTimeout, Username: "bob", DurationSeconds: 1 << 62}), "longer")
	refused("long reason", act(ActionRequest{Kind: chat.ActTimeout, Username: "bob", DurationSeconds: 60, Reason: strings.Repeat("é", MaxReason+1)}), "501")
	eventually(t, "the accepted actions", func() bool { return h.fake.calls.Load() == 3 })
	time.Sleep(50 * time.Millisecond)
	if n := h.fake.calls.Load(); n != 3 {
		t.Errorf("%d actions reached the connector, want the 3 within limits", n)
	}
}

// TestConsoleTimeoutLimitWhenThePlatformHasNone: without a platform limit
// the console's own bound applies, and the refusal says it is the console's.
func TestConsoleTimeoutLimitWhenThePlatformHasNone(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	_, err := h.svc.Act(context.Background(), ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActTimeout, Username: "bob", DurationSeconds: 15 * 24 * 3600})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the console") || !strings.Contains(err.Error(), "14 days") {
		t.Errorf("15-day timeout: %v", err)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * 24 * time.Hour:                      "7 days",
		26 * time.Hour:                          "1 day 2 hours",
		90 * time.Second:                        "1 minute 30 seconds",
		24*time.Hour + time.Second:              "1 day 1 second",
		time.Hour + 2*time.Minute + time.Second: "1 hour 2 minutes",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestOneFailureOneNotice: a send the platform refuses reaches the UI once,
// as the failed action with the platform's reason; neither the outbox nor
// the platform's own commandResult (attributed to the action) adds a notice
// repeating it. An unattributed refusal is still a notice.
func TestOneFailureOneNotice(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	h.fake.verdict = func(a chat.Action) (chat.Result, error) {
		h.fake.emit(chat.Event{Kind: chat.KindCommandResult, Channel: "lumen", Text: "Slow mode is enabled", Data: map[string]any{"actionId": a.ID}})
		return chat.Result{}, &chat.RejectedError{Reason: "Slow mode is enabled", Code: "slow_mode"}
	}
	v, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failure", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, a := range b.Actions {
				if a.ID == v.ID && a.Status == statusFailed && a.Outcome == "Slow mode is enabled" {
					return true
				}
			}
			return false
		})
	})
	h.fake.emit(chat.Event{Kind: chat.KindCommandResult, Channel: "lumen", Text: "late refusal of nothing we know"})
	eventually(t, "the unattributed notice", func() bool {
		return h.ui.find(func(b Batch) bool { return len(b.Notices) > 0 })
	})
	h.ui.mu.Lock()
	defer h.ui.mu.Unlock()
	for _, b := range h.ui.batches {
		for _, n := range b.Notices {
			if strings.Contains(n.Text, "Slow mode") {
				t.Errorf("the failure was repeated as a notice: %+v", n)
			}
		}
	}
}
