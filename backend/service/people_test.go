package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/glimesh"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/connector/socketbase"
	"modconsole/backend/connector/velora"
	"modconsole/backend/connector/veroai"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// world is a service with one fake connection per platform, each carrying
// the real connector's capabilities (its notes and refusals), one channel
// "lumen" per platform, and an injected clock.
type world struct {
	svc   *Service
	st    *store.Store
	ui    *recorder
	clock atomic.Int64
	fakes map[chat.Platform]*fakeConn
	chans map[chat.Platform]ChannelView

	mu    sync.Mutex
	calls []platformCall
}

type platformCall struct {
	p chat.Platform
	a chat.Action
}

// realConnectors builds the real connectors (never run) for their Info.
var realConnectors = connector.Registry{
	chat.Velora:     func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) },
	chat.Kichat:     func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) },
	chat.Glimesh:    func(cfg connector.Config) (connector.Connector, error) { return glimesh.New(cfg) },
	chat.VeroAI:     func(cfg connector.Config) (connector.Connector, error) { return veroai.New(cfg) },
	chat.SocketBase: func(cfg connector.Config) (connector.Connector, error) { return socketbase.New(cfg) },
}

var worldSettings = map[chat.Platform]map[string]string{
	chat.SocketBase: {socketbase.SettingHash: "abc"},
}

func newWorld(t *testing.T, platforms ...chat.Platform) *world {
	t.Helper()
	st, err := store.Open(t.TempDir() + "/db.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{st: st, ui: &recorder{}, fakes: map[chat.Platform]*fakeConn{}, chans: map[chat.Platform]ChannelView{}}
	w.clock.Store(time.Now().UnixNano())
	reg := connector.Registry{}
	for _, p := range platforms {
		f := &fakeConn{up: make(chan struct{}), online: true}
		real, err := realConnectors[p](connector.Config{Token: "tok", Settings: worldSettings[p]})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		info := real.Info()
		f.info = &info
		p := p
		f.verdict = func(a chat.Action) (chat.Result, error) {
			w.mu.Lock()
			w.calls = append(w.calls, platformCall{p, a})
			w.mu.Unlock()
			return chat.Result{Detail: "done"}, nil
		}
		w.fakes[p] = f
		reg[p] = func(connector.Config) (connector.Connector, error) { return f, nil }
	}
	w.svc = New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(), Emitter: w.ui,
		EmitInterval: 10 * time.Millisecond, Now: func() time.Time { return time.Unix(0, w.clock.Load()) }})
	ctx := context.Background()
	if err := w.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.svc.Close(); st.Close() })
	if _, err := w.svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "spam", Enabled: true, Params: map[string]string{"terms": "buy viewers"}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range platforms {
		a, err := w.svc.SaveAccount(ctx, AccountInput{Platform: p, Name: "mod-" + string(p), Token: "tok", Settings: worldSettings[p]})
		if err != nil {
			t.Fatalf("%s account: %v", p, err)
		}
		if w.chans[p], err = w.svc.JoinChannel(ctx, a.ID, "lumen"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.fakes[p].up:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s connector never ran", p)
		}
	}
	return w
}

// say makes user write text on platform p (message id id).
func (w *world) say(p chat.Platform, id, user, text string) {
	w.fakes[p].emit(msg(id, user, text))
}

// stored waits until message id of p's channel is stored.
func (w *world) stored(t *testing.T, p chat.Platform, id string) store.MessageRow {
	t.Helper()
	var m store.MessageRow
	eventually(t, "message "+id+" stored", func() bool {
		var err error
		m, err = w.st.MessageByPlatformID(context.Background(), w.chans[p].ID, id)
		return err == nil
	})
	return m
}

func (w *world) callsTo(p chat.Platform, kind chat.ActionKind) []chat.Action {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []chat.Action
	for _, c := range w.calls {
		if c.p == p && c.a.Kind == kind {
			out = append(out, c.a)
		}
	}
	return out
}

func (w *world) waitStatus(t *testing.T, id int64, status string) ActionView {
	t.Helper()
	var v ActionView
	eventually(t, "action "+status, func() bool {
		r, err := w.st.Action(context.Background(), id)
		if err != nil {
			return false
		}
		v = w.svc.actionView(r, w.svc.platformOfChannel(context.Background(), r.ChannelID))
		return v.Status == status
	})
	return v
}

func ref(p chat.Platform, user string) UserRef {
	return UserRef{Platform: p, UserID: "u-" + user, Username: user}
}

// TestUserCard: the card pages a user's messages (newest first, deleted and
// held marked), counts them, lists our actions and the platform's events
// with actor, reason and expiry, counts strikes per person across linked
// users, and shows the linked users with their messages.
func TestUserCard(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat)
	ctx := context.Background()
	vc, kc := w.chans[chat.Velora], w.chans[chat.Kichat]
	for i := range 60 {
		w.say(chat.Velora, "t"+itoa(i), "troll", "line "+itoa(i))
	}
	w.say(chat.Velora, "held", "troll", "buy viewers now")
	w.say(chat.Velora, "other", "bystander", "hello")
	w.stored(t, chat.Velora, "other")
	w.say(chat.Kichat, "k1", "troll2", "I am back")
	w.stored(t, chat.Kichat, "k1")

	if c, _ := w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "u-troll"}); len(c.Messages) == 0 || c.Messages[0].Text != "buy viewers now" || !c.Messages[0].Held {
		t.Fatalf("newest message: %+v, want the held one first", c.Messages)
	}
	// A ban by us (confirmed), and a timeout the platform reports by another mod.
	ban, err := w.svc.Act(ctx, ActionRequest{ChannelID: vc.ID, Kind: chat.ActBan, UserID: "u-troll", Username: "troll", Reason: "spam"})
	if err != nil {
		t.Fatal(err)
	}
	w.waitStatus(t, ban.ID, "confirmed")
	exp := time.Now().Add(10 * time.Minute).Truncate(time.Millisecond)
	w.fakes[chat.Kichat].emit(chat.Event{Kind: chat.KindTimeout, Channel: "lumen", User: &chat.User{ID: "u-troll2", Username: "troll2"},
		Actor: &chat.User{ID: "m1", Username: "othermod"}, Text: "rude", Duration: 10 * time.Minute, Expires: exp, At: time.Now()})
	eventually(t, "mod event stored", func() bool { evs, _ := w.svc.ModEvents(ctx, kc.ID, 10); return len(evs) == 1 })

	card, err := w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "u-troll", Username: "troll"})
	if err != nil {
		t.Fatal(err)
	}
	if card.MessageCount != 61 || len(card.Messages) != 50 || card.MessagesNext == 0 {
		t.Fatalf("count %d, page %d, next %d; want 61, 50, a cursor", card.MessageCount, len(card.Messages), card.MessagesNext)
	}
	if card.Messages[0].Held {
		t.Fatalf("the ban resolved the held message, yet it is still held: %+v", card.Messages[0])
	}
	if card.FirstSeen == 0 {
		t.Fatal("first seen missing")
	}
	for _, m := range card.Messages {
		if m.User.ID != "u-troll" {
			t.Fatalf("someone else's message on the card: %+v", m)
		}
	}
	rest, err := w.svc.UserMessages(ctx, card.User, vc.ID, card.MessagesNext, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Messages) != 11 || rest.Next != 0 || rest.Messages[len(rest.Messages)-1].Text != "line 00" {
		t.Fatalf("second page: %d messages, next %d", len(rest.Messages), rest.Next)
	}
	if card.Strikes < 1 || card.StrikeDays != 30 {
		t.Fatalf("strikes %d in %d days, want at least the ban", card.Strikes, card.StrikeDays)
	}
	if len(card.History) != 1 || card.History[0].Source != "action" || card.History[0].Action == nil || card.History[0].Action.Undo != "unban" {
		t.Fatalf("history before linking: %+v", card.History)
	}
	before := card.Strikes

	// Link the Kick user: the card shows them, their messages, their
	// platform timeout in the history, and their strikes.
	if _, err := w.svc.LinkUsers(ctx, ref(chat.Velora, "troll"), ref(chat.Kichat, "troll2")); err != nil {
		t.Fatal(err)
	}
	card, err = w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "u-troll", Username: "troll"})
	if err != nil {
		t.Fatal(err)
	}
	if card.PersonID == 0 || len(card.Linked) != 1 || card.Linked[0].User.Platform != chat.Kichat || len(card.Linked[0].Messages) != 1 {
		t.Fatalf("linked: %+v", card.Linked)
	}
	var seen bool
	for _, h := range card.History {
		if h.Source == "platform" && h.Kind == "timeout" && h.Actor == "othermod" && h.Reason == "rude" && h.Expires == exp.UnixMilli() && h.DurationSeconds == 600 {
			seen = true
		}
	}
	if !seen {
		t.Fatalf("the platform's timeout is not in the history: %+v", card.History)
	}
	if card.Strikes != before+1 {
		t.Fatalf("person strikes %d, want %d (+ the Kick timeout)", card.Strikes, before+1)
	}
	// The same person's card from the Kick side.
	kcard, err := w.svc.UserCard(ctx, UserCardRequest{ChannelID: kc.ID, UserID: "u-troll2"})
	if err != nil {
		t.Fatal(err)
	}
	if kcard.User.Username != "troll2" || len(kcard.Linked) != 1 || kcard.Linked[0].User.Username != "troll" || kcard.Strikes != card.Strikes {
		t.Fatalf("kick card: %+v", kcard)
	}
	// The queue badge counts the person.
	q, err := w.svc.QueuePage(ctx, QueueQuery{ChannelID: vc.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range q.Items {
		if it.Message.User.ID == "u-troll" && it.Strikes != card.Strikes {
			t.Fatalf("queue badge %d, card %d", it.Strikes, card.Strikes)
		}
	}
	// Unlink: the card is one user again.
	if err := w.svc.UnlinkUser(ctx, ref(chat.Kichat, "troll2")); err != nil {
		t.Fatal(err)
	}
	if card, _ = w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "u-troll"}); len(card.Linked) != 0 || card.PersonID != 0 {
		t.Fatalf("after unlink: %+v", card.Linked)
	}

	// Untrusted ids: too long, or bytes that are not UTF-8, are refused
	// or handled without harm.
	if _, err := w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: strings.Repeat("x", 300)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a 300-byte id: %v, want invalid", err)
	}
	if _, err := w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no user: %v, want invalid", err)
	}
	if c, err := w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "\xff\x00'; DROP TABLE messages;--"}); err != nil || c.MessageCount != 0 {
		t.Fatalf("odd bytes: %v %+v", err, c)
	}
	if _, err := w.svc.LinkUsers(ctx, ref(chat.Velora, "troll"), UserRef{Platform: "myspace", Username: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown platform: %v", err)
	}
}

func itoa(i int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+i/10)) + string(rune('0'+i%10)))
}

// TestActOnPersonResolvesItems: a moderator's ban from one queue item
// resolves every open item of that user in that channel as actioned, in
// one UI batch, and the audit entry says how many; other users' items stay;
// "dismiss all" and "approve all" work per user.
func TestActOnPersonResolvesItems(t *testing.T) {
	w := newWorld(t, chat.Velora)
	ctx := context.Background()
	vc := w.chans[chat.Velora]
	for _, id := range []string{"a", "b", "c"} {
		w.say(chat.Velora, id, "troll", "buy viewers "+id)
	}
	w.say(chat.Velora, "d", "other", "buy viewers too")
	w.say(chat.Velora, "e", "third", "buy viewers three")
	w.say(chat.Velora, "f", "third", "buy viewers four")
	w.stored(t, chat.Velora, "f")
	var items []QueueItemView
	eventually(t, "six items", func() bool { items, _ = w.svc.Queue(ctx, vc.ID, 100); return len(items) == 6 })
	v, err := w.svc.Act(ctx, ActionRequest{ChannelID: vc.ID, Kind: chat.ActBan, ItemID: items[0].ID, Reason: "spam"})
	if err != nil {
		t.Fatal(err)
	}
	if v.ResolvedItems != 2 {
		t.Fatalf("resolvedItems %d, want 2 (the other two held messages)", v.ResolvedItems)
	}
	left, _ := w.svc.Queue(ctx, vc.ID, 100)
	if len(left) != 3 {
		t.Fatalf("%d open items left, want 3", len(left))
	}
	for _, it := range left {
		if it.Message.User.ID == "u-troll" {
			t.Fatalf("troll's item %d still open", it.ID)
		}
	}
	eventually(t, "one batch with the other two resolved", func() bool {
		return w.ui.find(func(b Batch) bool {
			n := 0
			for _, q := range b.Queue {
				if q.Message.User.ID == "u-troll" && q.Status == "actioned" {
					n++
				}
			}
			return n >= 2
		})
	})
	// The UI's last word on the ban is its confirmation: the "and 2 held
	// messages" update never takes it back to pending.
	w.waitStatus(t, v.ID, "confirmed")
	eventually(t, "the last UI update of the ban is confirmed", func() bool {
		var last *ActionView
		w.ui.find(func(b Batch) bool {
			for i := range b.Actions {
				if b.Actions[i].ID == v.ID {
					last = &b.Actions[i]
				}
			}
			return false
		})
		return last != nil && last.Status == "confirmed"
	})
	audit, _ := w.svc.AuditLog(ctx, vc.ID, 10)
	if len(audit) != 1 || audit[0].ResolvedItems != 2 {
		t.Fatalf("audit: %+v", audit)
	}
	chs, _ := w.svc.ListChannels(ctx)
	if chs[0].QueueOpen != 3 {
		t.Fatalf("queueOpen %d, want 3", chs[0].QueueOpen)
	}
	n, err := w.svc.ResolveUserItems(ctx, vc.ID, "u-third", "third", "dismissed")
	if err != nil || n != 2 {
		t.Fatalf("dismiss all: %d, %v", n, err)
	}
	n, err = w.svc.ResolveUserItems(ctx, vc.ID, "u-other", "", "approved")
	if err != nil || n != 1 {
		t.Fatalf("approve all: %d, %v", n, err)
	}
	if left, _ = w.svc.Queue(ctx, vc.ID, 100); len(left) != 0 {
		t.Fatalf("%d items left", len(left))
	}
	if _, err := w.svc.ResolveUserItems(ctx, vc.ID, "u-other", "", "actioned"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("status actioned by hand: %v", err)
	}
}

// TestBanEverywhere: a person with a Velora, a Kick and a socket-base user;
// the plan lists each target with what its platform allows (socket-base
// cannot ban); the ban is one group with one action per target; Kick's
// refusal fails only its own action, which a retry then carries out.
func TestBanEverywhere(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat, chat.SocketBase)
	ctx := context.Background()
	w.say(chat.Velora, "v1", "troll", "hi")
	w.say(chat.Kichat, "k1", "troll2", "hi")
	w.say(chat.SocketBase, "s1", "troll3", "hi")
	for p, id := range map[chat.Platform]string{chat.Velora: "v1", chat.Kichat: "k1", chat.SocketBase: "s1"} {
		w.stored(t, p, id)
	}
	if _, err := w.svc.LinkUsers(ctx, ref(chat.Velora, "troll"), ref(chat.Kichat, "troll2")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.LinkUsers(ctx, ref(chat.SocketBase, "troll3"), ref(chat.Kichat, "troll2")); err != nil {
		t.Fatal(err)
	}
	req := EverywhereRequest{User: ref(chat.Kichat, "troll2"), Kind: chat.ActBan, Reason: "raid troll"}
	plan, err := w.svc.PlanEverywhere(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Targets) != 3 || plan.GroupID != 0 {
		t.Fatalf("plan: %+v", plan)
	}
	for _, tg := range plan.Targets {
		if tg.Platform == chat.SocketBase && (tg.Allowed || !strings.Contains(tg.Note, "locally")) {
			t.Fatalf("socket-base target: %+v, want not allowed with the hide-locally note", tg)
		}
		if tg.Platform != chat.SocketBase && !tg.Allowed {
			t.Fatalf("%s target not allowed: %+v", tg.Platform, tg)
		}
	}
	if len(w.callsTo(chat.Velora, chat.ActBan)) != 0 {
		t.Fatal("the plan sent something")
	}
	// Kick refuses.
	var kickDown atomic.Bool
	kickDown.Store(true)
	kf := w.fakes[chat.Kichat]
	okVerdict := kf.verdict
	kf.mu.Lock()
	kf.verdict = func(a chat.Action) (chat.Result, error) {
		if kickDown.Load() {
			return chat.Result{}, &chat.RejectedError{Code: "forbidden", Reason: "Kick: the token lacks moderation:ban"}
		}
		return okVerdict(a)
	}
	kf.mu.Unlock()
	res, err := w.svc.BanEverywhere(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.GroupID == 0 || len(res.Targets) != 3 {
		t.Fatalf("result: %+v", res)
	}
	var kickAction int64
	for _, tg := range res.Targets {
		switch tg.Platform {
		case chat.SocketBase:
			if tg.Action != nil {
				t.Fatalf("socket-base got an action: %+v", tg.Action)
			}
		default:
			if tg.Action == nil || tg.Action.ParentID != res.GroupID {
				t.Fatalf("%s target: %+v", tg.Platform, tg)
			}
			if tg.Platform == chat.Kichat {
				kickAction = tg.Action.ID
			}
		}
	}
	w.waitStatus(t, kickAction, "failed")
	g, err := w.svc.ActionGroup(ctx, res.GroupID)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Actions) != 2 || g.Kind != "ban everywhere" {
		t.Fatalf("group: %+v", g)
	}
	var states []string
	eventually(t, "velora confirmed, kick failed", func() bool {
		g, _ = w.svc.ActionGroup(ctx, res.GroupID)
		states = states[:0]
		for _, a := range g.Actions {
			states = append(states, string(a.Platform)+"="+a.Status+":"+a.Outcome)
		}
		ok := strings.Join(states, ",") == "kichat=failed:Kick: the token lacks moderation:ban,velora=confirmed:done"
		if !ok {
			t.Logf("group now: %v", states)
		}
		return ok
	})
	t.Logf("group: %v", states)
	if got := w.callsTo(chat.Velora, chat.ActBan); len(got) != 1 || got[0].User.Username != "troll" {
		t.Fatalf("velora bans: %+v", got)
	}
	// Retry the failed one: same group, now confirmed.
	kickDown.Store(false)
	rv, err := w.svc.RetryAction(ctx, kickAction)
	if err != nil {
		t.Fatal(err)
	}
	if rv.ParentID != res.GroupID || rv.ID == kickAction {
		t.Fatalf("retry: %+v", rv)
	}
	w.waitStatus(t, rv.ID, "confirmed")
	if _, err := w.svc.RetryAction(ctx, rv.ID); !errors.Is(err, ErrInvalid) {
		t.Fatalf("retrying a confirmed action: %v", err)
	}
	if got := w.callsTo(chat.Kichat, chat.ActBan); len(got) != 1 || got[0].User.ID != "u-troll2" {
		t.Fatalf("kick bans that went through: %+v", got)
	}
	// Nothing a person could be banned with: refused.
	if _, err := w.svc.BanEverywhere(ctx, EverywhereRequest{User: ref(chat.SocketBase, "loner"), Kind: chat.ActBan}); !errors.Is(err, chat.ErrUnsupported) {
		t.Fatalf("socket-base only: %v", err)
	}
	if _, err := w.svc.PlanEverywhere(ctx, EverywhereRequest{User: ref(chat.Velora, "troll"), Kind: chat.ActDelete}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("delete everywhere: %v", err)
	}
}

// TestNotes: a note written in one channel shows on the same person's card
// in another channel and on another platform's linked user; text is kept
// as typed (markup included); bounds are enforced.
func TestNotes(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat)
	ctx := context.Background()
	vc, kc := w.chans[chat.Velora], w.chans[chat.Kichat]
	xss := `<img src=x onerror=alert(1)> watch this one`
	n, err := w.svc.AddNote(ctx, NoteInput{ChannelID: vc.ID, User: UserRef{UserID: "u-troll", Username: "troll"}, Text: "  " + xss + " "})
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != xss || n.User.Platform != chat.Velora || n.Author != "local moderator" || n.ID == 0 {
		t.Fatalf("note: %+v", n)
	}
	if _, err := w.svc.LinkUsers(ctx, ref(chat.Velora, "troll"), ref(chat.Kichat, "troll2")); err != nil {
		t.Fatal(err)
	}
	card, err := w.svc.UserCard(ctx, UserCardRequest{ChannelID: kc.ID, UserID: "u-troll2", Username: "troll2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(card.Notes) != 1 || card.Notes[0].Text != xss {
		t.Fatalf("kick card notes: %+v", card.Notes)
	}
	marks, _ := w.svc.PeopleMarks(ctx)
	if len(marks.Noted) != 1 || marks.Noted[0].UserID != "u-troll" {
		t.Fatalf("noted: %+v", marks.Noted)
	}
	eventually(t, "people marks pushed", func() bool {
		return w.ui.find(func(b Batch) bool { return b.People != nil && len(b.People.Noted) == 1 })
	})
	// The marks carry each noted user's newest note (cut for a tooltip).
	if len(marks.Notes) != 1 || marks.Notes[0].Text != xss {
		t.Fatalf("latest notes: %+v", marks.Notes)
	}
	long := strings.Repeat("b", MarkNoteChars+50)
	ln, err := w.svc.AddNote(ctx, NoteInput{ChannelID: vc.ID, User: ref(chat.Velora, "troll"), Text: long})
	if err != nil {
		t.Fatal(err)
	}
	marks, _ = w.svc.PeopleMarks(ctx)
	if len(marks.Notes) != 1 || marks.Notes[0].Text != long[:MarkNoteChars-1]+"…" || marks.Notes[0].User.UserID != "u-troll" {
		t.Fatalf("newest note, cut: %+v", marks.Notes)
	}
	if err := w.svc.DeleteNote(ctx, ln.ID); err != nil {
		t.Fatal(err)
	}
	if marks, _ = w.svc.PeopleMarks(ctx); len(marks.Notes) != 1 || marks.Notes[0].Text != xss {
		t.Fatalf("after deleting the newest, the one before: %+v", marks.Notes)
	}
	if _, err := w.svc.AddNote(ctx, NoteInput{ChannelID: vc.ID, User: ref(chat.Velora, "troll"), Text: "   "}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty note: %v", err)
	}
	if _, err := w.svc.AddNote(ctx, NoteInput{ChannelID: vc.ID, User: ref(chat.Velora, "troll"), Text: strings.Repeat("é", 2001)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long note: %v", err)
	}
	if _, err := w.svc.AddNote(ctx, NoteInput{User: UserRef{Username: "x"}, Text: "no platform"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("note without platform: %v", err)
	}
	if err := w.svc.DeleteNote(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteNote(ctx, n.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if card, _ = w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "u-troll"}); len(card.Notes) != 0 {
		t.Fatalf("notes after delete: %+v", card.Notes)
	}
}

// TestWatchExpires: a restricting watch holds every message of the user
// with "watched: <reason>" (a moderator's never), shows in PeopleMarks and
// on the card, and is gone by itself once its time is up (injected clock).
func TestWatchExpires(t *testing.T) {
	w := newWorld(t, chat.Velora)
	ctx := context.Background()
	vc := w.chans[chat.Velora]
	wv, err := w.svc.Watch(ctx, WatchRequest{User: ref(chat.Velora, "sus"), Reason: "new account spam", Minutes: 15, Restrict: true})
	if err != nil {
		t.Fatal(err)
	}
	if wv.Expires != time.Unix(0, w.clock.Load()).Add(15*time.Minute).UnixMilli() {
		t.Fatalf("expires %d", wv.Expires)
	}
	if _, err := w.svc.Watch(ctx, WatchRequest{User: ref(chat.Velora, "watchedmod"), Reason: "x", Restrict: true}); err != nil {
		t.Fatal(err)
	}
	w.say(chat.Velora, "w1", "sus", "hello there")
	mod := msg("w2", "watchedmod", "hi all")
	mod.Message.User.Role = "moderator"
	w.fakes[chat.Velora].emit(mod)
	w.say(chat.Velora, "w3", "sus", "buy viewers here")
	w.stored(t, chat.Velora, "w3")
	items, _ := w.svc.Queue(ctx, vc.ID, 10)
	if len(items) != 2 || items[0].Reasons[0] != "watched: new account spam" {
		t.Fatalf("items: %+v", items)
	}
	if r := items[1].Reasons; len(r) != 2 || r[1] != "watched: new account spam" {
		t.Fatalf("a rule catch of a watched user: reasons %q, want the rule's and the watch's", r)
	}
	card, _ := w.svc.UserCard(ctx, UserCardRequest{ChannelID: vc.ID, UserID: "u-sus"})
	if card.Watch == nil || !card.Watch.Restrict {
		t.Fatalf("card watch: %+v", card.Watch)
	}
	marks, _ := w.svc.PeopleMarks(ctx)
	if len(marks.Watches) != 2 {
		t.Fatalf("watches: %+v", marks.Watches)
	}

	w.clock.Add(int64(16 * time.Minute))
	w.say(chat.Velora, "w4", "sus", "after the watch")
	if m := w.stored(t, chat.Velora, "w4"); m.Held {
		t.Fatal("held after the watch expired")
	}
	marks, _ = w.svc.PeopleMarks(ctx)
	if len(marks.Watches) != 1 || marks.Watches[0].User.Username != "watchedmod" {
		t.Fatalf("watches after expiry: %+v", marks.Watches)
	}
	w.svc.expireWatches(ctx)
	rows, _ := w.st.Watches(ctx)
	if len(rows) != 1 {
		t.Fatalf("%d stored watches after expiry, want 1", len(rows))
	}
	eventually(t, "expiry pushed", func() bool {
		return w.ui.find(func(b Batch) bool { return b.People != nil && len(b.People.Watches) == 1 })
	})
	if err := w.svc.Unwatch(ctx, ref(chat.Velora, "watchedmod")); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Unwatch(ctx, ref(chat.Velora, "watchedmod")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second unwatch: %v", err)
	}
	if _, err := w.svc.Watch(ctx, WatchRequest{User: ref(chat.Velora, "x"), Minutes: -1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative minutes: %v", err)
	}
}

// TestReversalPerPlatform: with each platform's real capabilities, a ban
// and a timeout offer their reversal where the platform can and say why
// not where it cannot; Reverse sends the unban or refuses with that reason.
func TestReversalPerPlatform(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat, chat.Glimesh, chat.SocketBase, chat.VeroAI)
	ctx := context.Background()
	type want struct {
		kind    chat.ActionKind
		dur     int64
		undo    string
		refused string // part of the refusal; "" = reversible
	}
	cases := map[chat.Platform][]want{
		chat.Velora:  {{chat.ActBan, 0, "unban", ""}, {chat.ActTimeout, 60, "lift timeout", ""}},
		chat.Kichat:  {{chat.ActBan, 0, "unban", ""}, {chat.ActTimeout, 60, "lift timeout", ""}},
		chat.Glimesh: {{chat.ActBan, 0, "unban", ""}, {chat.ActTimeout, 300, "lift timeout", "Glimesh cannot lift a timeout early"}},
	}
	for p, ws := range cases {
		for _, c := range ws {
			user := "bad-" + string(p) + "-" + string(c.kind)
			v, err := w.svc.Act(ctx, ActionRequest{ChannelID: w.chans[p].ID, Kind: c.kind, UserID: "u-" + user, Username: user, DurationSeconds: c.dur})
			if err != nil {
				t.Fatalf("%s %s: %v", p, c.kind, err)
			}
			v = w.waitStatus(t, v.ID, "confirmed")
			if v.Undo != c.undo || (c.refused == "") != (v.UndoRefused == "") || !strings.Contains(v.UndoRefused, c.refused) {
				t.Fatalf("%s %s: undo %q refused %q", p, c.kind, v.Undo, v.UndoRefused)
			}
			r, err := w.svc.Reverse(ctx, v.ID)
			if c.refused != "" {
				if !errors.Is(err, chat.ErrUnsupported) || !strings.Contains(err.Error(), c.refused) {
					t.Fatalf("%s reverse %s: %v, want refused with %q", p, c.kind, err, c.refused)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s reverse %s: %v", p, c.kind, err)
			}
			w.waitStatus(t, r.ID, "confirmed")
			ub := w.callsTo(p, chat.ActUnban)
			if len(ub) == 0 || ub[len(ub)-1].User.ID != "u-"+user {
				t.Fatalf("%s: no unban of %s reached the platform: %+v", p, user, ub)
			}
		}
	}
	// A delete cannot be undone anywhere.
	w.say(chat.Velora, "m1", "someone", "oops")
	m := w.stored(t, chat.Velora, "m1")
	d, err := w.svc.Act(ctx, ActionRequest{ChannelID: w.chans[chat.Velora].ID, Kind: chat.ActDelete, MessageID: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	d = w.waitStatus(t, d.ID, "confirmed")
	if d.UndoRefused == "" {
		t.Fatal("a delete offers no undo, and says so")
	}
	if _, err := w.svc.Reverse(ctx, d.ID); !errors.Is(err, chat.ErrUnsupported) {
		t.Fatalf("reverse delete: %v", err)
	}
	// socket-base has no moderation: a ban's reversal is refused with its
	// note; VeroAI's ban (a block) is undone by an unblock exactly when the
	// connection can unblock.
	caps, _, _ := w.svc.capsOf(w.chans[chat.SocketBase].ID)
	if _, _, refused := reversal(caps, chat.SocketBase, chat.Action{Kind: chat.ActBan}, "confirmed"); !strings.Contains(refused, "nothing to lift") {
		t.Fatalf("socket-base ban reversal: %q", refused)
	}
	caps, _, _ = w.svc.capsOf(w.chans[chat.VeroAI].ID)
	kind, _, refused := reversal(caps, chat.VeroAI, chat.Action{Kind: chat.ActBan}, "confirmed")
	if caps.Actions[chat.ActUnban].Supported != (kind == chat.ActUnban) || (refused == "") != (kind == chat.ActUnban) {
		t.Fatalf("veroai ban reversal: %q %q (unban supported: %v)", kind, refused, caps.Actions[chat.ActUnban].Supported)
	}
	if _, err := w.svc.Reverse(ctx, 99999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown action: %v", err)
	}
}

// TestUnpinThePinnedMessage: a pin the platform reports (whoever made it)
// can be removed without naming the message: the unpin goes out for the
// message the pin event named; after the platform's unpin event there is
// nothing to unpin, and asking is a clear error.
func TestUnpinThePinnedMessage(t *testing.T) {
	w := newWorld(t, chat.Velora)
	ctx := context.Background()
	chID := w.chans[chat.Velora].ID
	pinned := msg("p7", "streamer", "welcome! rules in the panel")
	pinned.Kind, pinned.MessageID = chat.KindPin, "p7"
	w.fakes[chat.Velora].emit(pinned)
	eventually(t, "the pin shown", func() bool {
		v, ok := w.svc.channelView(chID)
		return ok && v.Pinned != nil && v.Pinned.Text == "welcome! rules in the panel"
	})
	un, err := w.svc.Act(ctx, ActionRequest{ChannelID: chID, Kind: chat.ActUnpin})
	if err != nil {
		t.Fatal(err)
	}
	w.waitStatus(t, un.ID, "confirmed")
	if calls := w.callsTo(chat.Velora, chat.ActUnpin); len(calls) != 1 || calls[0].MessageID != "p7" {
		t.Fatalf("unpin calls %+v, want one for p7", calls)
	}
	// The platform's answer is enough: Velora has no unpin event.
	eventually(t, "the pin gone after the confirmed unpin", func() bool {
		v, ok := w.svc.channelView(chID)
		return ok && v.Pinned == nil
	})
	// An unpin event of another message leaves the current pin alone.
	other := msg("p8", "streamer", "giveaway at 9")
	other.Kind, other.MessageID = chat.KindPin, "p8"
	w.fakes[chat.Velora].emit(other)
	w.fakes[chat.Velora].emit(chat.Event{Kind: chat.KindUnpin, Channel: "lumen", MessageID: "p7"})
	// The viewer count is applied in order after the unpin event: once it
	// shows, the unpin event has been handled.
	w.fakes[chat.Velora].emit(chat.Event{Kind: chat.KindViewers, Channel: "lumen", Count: 4242})
	eventually(t, "the events after the unpin handled", func() bool {
		v, ok := w.svc.channelView(chID)
		return ok && v.Viewers == 4242
	})
	if v, _ := w.svc.channelView(chID); v.Pinned == nil || v.Pinned.Text != "giveaway at 9" {
		t.Fatalf("pin after another message's unpin event: %+v", v.Pinned)
	}
	w.fakes[chat.Velora].emit(chat.Event{Kind: chat.KindUnpin, Channel: "lumen", MessageID: "p8"})
	eventually(t, "the pin gone after its unpin event", func() bool {
		v, ok := w.svc.channelView(chID)
		return ok && v.Pinned == nil
	})
	if _, err := w.svc.Act(ctx, ActionRequest{ChannelID: chID, Kind: chat.ActUnpin}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "nothing is pinned") {
		t.Fatalf("unpin with nothing pinned: %v", err)
	}
}

// TestUnpinReversesPin: a confirmed pin on Velora (which can unpin) offers
// "unpin", and Reverse sends the unpin of the same message; Kick cannot pin,
// so its capabilities cannot unpin either, and the reversal of a pin there
// is refused with the platform's note.
func TestUnpinReversesPin(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat)
	ctx := context.Background()
	w.say(chat.Velora, "p1", "streamer_fan", "pin me")
	m := w.stored(t, chat.Velora, "p1")
	pin, err := w.svc.Act(ctx, ActionRequest{ChannelID: w.chans[chat.Velora].ID, Kind: chat.ActPin, MessageID: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	pin = w.waitStatus(t, pin.ID, "confirmed")
	if pin.Undo != "unpin" || pin.UndoRefused != "" {
		t.Fatalf("velora pin: undo %q refused %q", pin.Undo, pin.UndoRefused)
	}
	// The audit entry names the pinned message's author (its card opens from it).
	if pin.UserID != "u-streamer_fan" || pin.Username != "streamer_fan" {
		t.Fatalf("pin target user: %q %q", pin.UserID, pin.Username)
	}
	un, err := w.svc.Reverse(ctx, pin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if un.Kind != chat.ActUnpin {
		t.Fatalf("reversal kind %q", un.Kind)
	}
	w.waitStatus(t, un.ID, "confirmed")
	calls := w.callsTo(chat.Velora, chat.ActUnpin)
	if len(calls) != 1 || calls[0].MessageID != "p1" {
		t.Fatalf("unpin calls %+v", calls)
	}
	// An unpin has no undo of its own, and needs a message.
	if _, err := w.svc.Act(ctx, ActionRequest{ChannelID: w.chans[chat.Velora].ID, Kind: chat.ActUnpin}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unpin without a message: %v", err)
	}
	caps, _, _ := w.svc.capsOf(w.chans[chat.Kichat].ID)
	kind, label, refused := reversal(caps, chat.Kichat, chat.Action{Kind: chat.ActPin}, "confirmed")
	if kind != "" || label != "unpin" || !strings.Contains(refused, "cannot unpin") {
		t.Fatalf("kick pin reversal: %q %q %q", kind, label, refused)
	}
	// A read-only connection cannot unpin either.
	caps, _, _ = w.svc.capsOf(w.chans[chat.Velora].ID)
	caps.ReadOnly = true
	if kind, _, refused := reversal(caps, chat.Velora, chat.Action{Kind: chat.ActPin}, "confirmed"); kind != "" || refused == "" {
		t.Fatalf("read-only velora pin reversal: %q %q", kind, refused)
	}
}

// TestLadderCountsThePerson: an escalation ladder counts strikes over the
// person's linked users: a Kick strike makes the Velora catch escalate.
func TestLadderCountsThePerson(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat)
	ctx := context.Background()
	if _, err := w.svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "vbucks", Enabled: true, Position: -1,
		Params: map[string]string{"terms": "free vbucks", "ladder": "hold, 60, ban", "stop": "1"}}); err != nil {
		t.Fatal(err)
	}
	// A ban on Kick, for the Kick user.
	w.say(chat.Kichat, "k1", "troll2", "hi")
	w.stored(t, chat.Kichat, "k1")
	b, err := w.svc.Act(ctx, ActionRequest{ChannelID: w.chans[chat.Kichat].ID, Kind: chat.ActBan, UserID: "u-troll2", Username: "troll2"})
	if err != nil {
		t.Fatal(err)
	}
	w.waitStatus(t, b.ID, "confirmed")
	if _, err := w.svc.LinkUsers(ctx, ref(chat.Velora, "troll"), ref(chat.Kichat, "troll2")); err != nil {
		t.Fatal(err)
	}
	// First catch on Velora: with the Kick strike it is the second step.
	w.say(chat.Velora, "v1", "troll", "free vbucks")
	eventually(t, "the ladder's timeout on velora", func() bool {
		ts := w.callsTo(chat.Velora, chat.ActTimeout)
		return len(ts) == 1 && ts[0].Duration == time.Minute
	})
}

// TestFindUsers: name search across platforms ranks look-alike names and
// users who wrote the same text; near and its linked users are left out.
func TestFindUsers(t *testing.T) {
	w := newWorld(t, chat.Velora, chat.Kichat)
	ctx := context.Background()
	w.say(chat.Velora, "v1", "trollking", "follow my channel at spam dot example")
	w.say(chat.Kichat, "k1", "trollking99", "hello")
	w.say(chat.Kichat, "k2", "quietone", "follow my channel at spam dot example")
	w.say(chat.Kichat, "k3", "trolleybus", "nice stream")
	w.stored(t, chat.Kichat, "k3")
	w.stored(t, chat.Velora, "v1")
	sug, err := w.svc.FindUsers(ctx, "", ref(chat.Velora, "trollking"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, s := range sug {
		names = append(names, s.User.Username)
	}
	if len(sug) < 3 || sug[0].User.Username != "trollking99" {
		t.Fatalf("suggestions %v, want trollking99 first", names)
	}
	var quiet *UserSuggestion
	for i := range sug {
		if sug[i].User.Username == "quietone" {
			quiet = &sug[i]
		}
		if sug[i].User.Username == "trollking" && sug[i].User.Platform == chat.Velora {
			t.Fatal("near itself suggested")
		}
	}
	if quiet == nil || !strings.Contains(strings.Join(quiet.Why, ","), "same text") {
		t.Fatalf("quietone (same text) not suggested for its text: %v %+v", names, quiet)
	}
	if _, err := w.svc.LinkUsers(ctx, ref(chat.Velora, "trollking"), ref(chat.Kichat, "trollking99")); err != nil {
		t.Fatal(err)
	}
	sug, _ = w.svc.FindUsers(ctx, "troll", ref(chat.Velora, "trollking"))
	for _, s := range sug {
		if s.User.Username == "trollking99" {
			t.Fatal("an already linked user suggested")
		}
	}
	if sug, _ := w.svc.FindUsers(ctx, "100%_", UserRef{}); len(sug) != 0 {
		t.Fatalf("LIKE wildcards matched: %+v", sug)
	}
}
