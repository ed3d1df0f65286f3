package app

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wailsapp/wails/v2/pkg/options"

	"modconsole/backend/chat"
	"modconsole/backend/desktop"
	"modconsole/backend/service"
)

// rulesAPI is a service.API that answers ListRules only.
type rulesAPI struct {
	service.API
	rules []service.RuleView
}

func (r rulesAPI) ListRules(context.Context) ([]service.RuleView, error) { return r.rules, nil }

type fakeNotifier struct {
	mu   sync.Mutex
	sent [][2]string
}

func (f *fakeNotifier) Notify(summary, body string) (uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, [2]string{summary, body})
	return uint32(len(f.sent)), nil
}

func (f *fakeNotifier) got() [][2]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][2]string(nil), f.sent...)
}

func held(id, channel int64, user, text string, rules ...int64) service.QueueItemView {
	return service.QueueItemView{ID: id, ChannelID: channel, Status: "open", RuleIDs: rules, Reasons: []string{"rule"},
		Message: service.MessageView{ChannelID: channel, User: chat.User{Username: user}, Text: text}}
}

// TestShellTitleCountsOpenQueues: the title follows the channels' open
// queue counts as batches report them.
func TestShellTitleCountsOpenQueues(t *testing.T) {
	s := NewShell(rulesAPI{}, t.TempDir(), nil, nil)
	s.Observe(service.EventBatch, service.Batch{Channels: []service.ChannelView{{ID: 1, QueueOpen: 2}, {ID: 2, QueueOpen: 3}}})
	if got := s.Stats().Title; got != "Moderation console — 5 open" {
		t.Errorf("title %q", got)
	}
	s.Observe(service.EventBatch, service.Batch{Channels: []service.ChannelView{{ID: 1, QueueOpen: 0}}})
	if got := s.Stats().Title; got != "Moderation console — 3 open" {
		t.Errorf("title %q", got)
	}
	s.Observe(service.EventBatch, service.Batch{Channels: []service.ChannelView{{ID: 2, QueueOpen: 0}}})
	if got := s.Stats().Title; got != Title {
		t.Errorf("title %q", got)
	}
	if TitleFor(1) != "Moderation console — 1 open" {
		t.Errorf("TitleFor(1) = %q", TitleFor(1))
	}
}

// TestShellNotifies: with notifications on and the window not focused, a
// message held by a high-severity rule and a failed action each notify
// (once); a normal rule's hold does not; nothing while focused or while
// the setting is off; at most one per notifyEvery, the rest counted in.
func TestShellNotifies(t *testing.T) {
	api := rulesAPI{rules: []service.RuleView{
		{ID: 1, Name: "markup", Params: map[string]string{"severity": "high"}},
		{ID: 2, Name: "caps", Params: map[string]string{}},
	}}
	n := &fakeNotifier{}
	s := NewShell(api, t.TempDir(), n, nil)
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	s.Observe(service.EventBatch, service.Batch{Channels: []service.ChannelView{{ID: 7, Name: "lumen"}}})

	s.Observe(service.EventBatch, service.Batch{Queue: []service.QueueItemView{held(1, 7, "mallory", "<script>x</script>", 1)}})
	if len(n.got()) != 0 {
		t.Fatalf("notified with the setting off: %v", n.got())
	}
	d := NewDesktop(s)
	if st, err := d.SetNotify(true); err != nil || !st.Notify || !st.CanNotify {
		t.Fatalf("SetNotify: %+v %v", st, err)
	}
	s.SetFocused(true)
	s.Observe(service.EventBatch, service.Batch{Queue: []service.QueueItemView{held(2, 7, "mallory", "again", 1)}})
	if len(n.got()) != 0 {
		t.Fatalf("notified while focused: %v", n.got())
	}
	s.SetFocused(false)
	s.Observe(service.EventBatch, service.Batch{Queue: []service.QueueItemView{held(3, 7, "shouty", "CAPS", 2), held(1, 7, "mallory", "<script>x</script>", 1)}})
	if len(n.got()) != 0 {
		t.Fatalf("a normal rule's hold, or an item seen before, notified: %v", n.got())
	}
	s.Observe(service.EventBatch, service.Batch{Queue: []service.QueueItemView{held(4, 7, "mallory", "<b>buy</b>", 2, 1)}})
	got := n.got()
	if len(got) != 1 || got[0][0] != "Held in #lumen" || !strings.Contains(got[0][1], "mallory: <b>buy</b>") {
		t.Fatalf("high-severity hold: %v", got)
	}
	// Within notifyEvery: held back, then counted into the next one.
	fail := service.ActionView{ID: 9, ChannelID: 7, Kind: chat.ActBan, Status: "failed", Outcome: "not a moderator"}
	s.Observe(service.EventBatch, service.Batch{Actions: []service.ActionView{fail}})
	if len(n.got()) != 1 {
		t.Fatalf("rate limit: %v", n.got())
	}
	now = now.Add(notifyEvery)
	fail2 := service.ActionView{ID: 10, ChannelID: 7, Kind: chat.ActTimeout, Status: "failed", Outcome: "too long"}
	s.Observe(service.EventBatch, service.Batch{Actions: []service.ActionView{fail2, fail}})
	got = n.got()
	if len(got) != 2 || got[1][0] != "timeout in #lumen failed" || got[1][1] != "too long (and 1 more)" {
		t.Fatalf("failed action: %v", got)
	}
	// The setting is saved in the data directory.
	if p, err := s.prefs.Load(); err != nil || !p.Notify {
		t.Errorf("saved prefs %+v %v", p, err)
	}
}

// TestShellApply: the saved window size is the start size, the single
// instance lock and program name are set, and hooks already set still run.
func TestShellApply(t *testing.T) {
	dir := t.TempDir()
	if _, err := desktop.NewPrefsStore(dir).Update(func(p *desktop.Prefs) {
		p.Window = &desktop.Geometry{Width: 1000, Height: 700, X: 30, Y: 40}
	}); err != nil {
		t.Fatal(err)
	}
	s := NewShell(rulesAPI{}, dir, nil, nil)
	closed := false
	o := &options.App{Width: 1280, Height: 800, OnBeforeClose: func(context.Context) bool { closed = true; return false }}
	s.Apply(o, "io.modconsole.Console.dtest")
	if o.Width != 1000 || o.Height != 700 {
		t.Errorf("start size %dx%d", o.Width, o.Height)
	}
	if o.SingleInstanceLock == nil || o.SingleInstanceLock.UniqueId != "io.modconsole.Console.dtest" || o.Linux == nil || o.Linux.ProgramName != "modconsole" {
		t.Errorf("lock %+v, linux %+v", o.SingleInstanceLock, o.Linux)
	}
	if o.OnBeforeClose(context.Background()) || !closed {
		t.Error("the earlier close hook did not run")
	}
	// Without a saved geometry, the defaults stay.
	o2 := &options.App{Width: 1280, Height: 800}
	NewShell(rulesAPI{}, filepath.Join(dir, "other"), nil, nil).Apply(o2, "x")
	if o2.Width != 1280 || o2.Height != 800 {
		t.Errorf("defaults changed: %dx%d", o2.Width, o2.Height)
	}
	// No notification service: the setting cannot be turned on.
	if _, err := NewDesktop(s).SetNotify(true); err == nil {
		t.Error("notifications turned on without a service")
	}
}
