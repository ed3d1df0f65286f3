package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// People: the user card, links between platform users (one person), notes,
// the watchlist, strikes per person, acting on a person (their held items
// resolved with a ban), "ban everywhere" and reversals.

// StrikeDays is the window of the strikes the card and the queue show.
const StrikeDays = 30

// UserRef names one user on one platform (by id, or by name where the
// platform gives no id).
type UserRef = store.UserRef

// parentKey carries the action group of the actions made with a context.
type parentKey struct{}

func withParent(ctx context.Context, id int64) context.Context {
	return context.WithValue(ctx, parentKey{}, id)
}

func parentOf(ctx context.Context) int64 {
	id, _ := ctx.Value(parentKey{}).(int64)
	return id
}

// watchSet is the watchlist as the pipeline reads it.
type watchSet struct {
	m map[string]store.WatchRow // by watchKey
}

// atomicWatches holds the current watch set.
type atomicWatches struct{ p atomic.Pointer[watchSet] }

func watchKey(p chat.Platform, key string) string { return string(p) + "\x00" + key }

// watchOf returns the active watch on user u of platform p.
func (s *Service) watchOf(p chat.Platform, u chat.User) (store.WatchRow, bool) {
	ws := s.watches.p.Load()
	if ws == nil || len(ws.m) == 0 {
		return store.WatchRow{}, false
	}
	w, ok := ws.m[watchKey(p, UserRef{Platform: p, UserID: u.ID, Username: u.Username}.Key())]
	if !ok || !w.Active(s.now()) {
		return store.WatchRow{}, false
	}
	return w, true
}

// loadWatches purges expired watches and loads the rest for the pipeline;
// changed says whether the UI should hear of it.
func (s *Service) loadWatches(ctx context.Context, changed bool) error {
	if _, err := s.st.PurgeWatches(ctx, s.now()); err != nil {
		return err
	}
	rows, err := s.st.Watches(ctx)
	if err != nil {
		return err
	}
	ws := &watchSet{m: map[string]store.WatchRow{}}
	for _, w := range rows {
		ws.m[watchKey(w.User.Platform, w.User.Key())] = w
	}
	s.watches.p.Store(ws)
	if changed {
		if m, err := s.PeopleMarks(ctx); err == nil {
			s.ui.people(m)
		}
	}
	return nil
}

// watchLoop removes expired watches by themselves (checked every 10 s; a
// watch stops holding messages the moment it expires in any case).
func (s *Service) watchLoop() {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.expireWatches(s.ctx)
		}
	}
}

// expireWatches purges the watches expired by now and tells the UI when
// any went.
func (s *Service) expireWatches(ctx context.Context) {
	ws := s.watches.p.Load()
	if ws == nil {
		return
	}
	now := s.now()
	for _, w := range ws.m {
		if !w.Active(now) {
			if err := s.loadWatches(ctx, true); err != nil {
				s.log.Warn("watch expiry", "err", err)
			}
			return
		}
	}
}

// authorName is who wrote a note, link or watch, for the UI.
func (s *Service) authorName(stored string) string {
	if stored != "" {
		return stored
	}
	if s.opts.ModeratorName != "" {
		return s.opts.ModeratorName
	}
	return "local moderator"
}

// checkRef validates a user named by the UI.
func checkRef(u UserRef) error {
	if !u.Platform.Valid() {
		return invalid("unknown platform %q", u.Platform)
	}
	if err := u.Check(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	return nil
}

// members returns u's person (u first, then the users linked to u) and
// the person's id (0 when u is linked to no one).
func (s *Service) members(ctx context.Context, u UserRef) (int64, []store.LinkRow, error) {
	pid, links, err := s.st.PersonOf(ctx, u)
	if err != nil {
		return 0, nil, err
	}
	out := []store.LinkRow{{User: u}}
	for _, l := range links {
		if l.User.Platform == u.Platform && l.User.Key() == u.Key() {
			out[0] = l
			out[0].User = u
			continue
		}
		out = append(out, l)
	}
	return pid, out, nil
}

// platformChannels returns the ids of every logged channel of platform p.
func (s *Service) platformChannels(ctx context.Context, p chat.Platform) ([]int64, error) {
	chans, err := s.st.Channels(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, c := range chans {
		if c.Platform == p {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

// personStrikes counts the strikes of u's person since a time: every
// linked user's strikes in every channel of their platform (store.Strikes).
func (s *Service) personStrikes(ctx context.Context, u UserRef, since time.Time) (int, error) {
	_, ms, err := s.members(ctx, u)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		chans, err := s.platformChannels(ctx, m.User.Platform)
		if err != nil {
			return 0, err
		}
		for _, ch := range chans {
			k, err := s.st.Strikes(ctx, ch, m.User.UserID, m.User.Username, since)
			if err != nil {
				return 0, err
			}
			n += k
		}
	}
	return n, nil
}

// UserCard implements API.
func (s *Service) UserCard(ctx context.Context, req UserCardRequest) (UserCardView, error) {
	ch, err := s.st.Channel(ctx, req.ChannelID)
	if err != nil {
		return UserCardView{}, notFound(err, "channel %d", req.ChannelID)
	}
	u := UserRef{Platform: ch.Platform, UserID: req.UserID, Username: req.Username}
	if err := checkRef(u); err != nil {
		return UserCardView{}, err
	}
	card := UserCardView{ChannelID: ch.ID, User: u, StrikeDays: StrikeDays, Linked: []LinkedUserView{}, History: []HistoryEntry{}, Notes: []NoteView{}}
	msgs, err := s.st.UserMessages(ctx, []int64{ch.ID}, u, 0, cardMessages)
	if err != nil {
		return UserCardView{}, err
	}
	card.Messages = make([]MessageView, 0, len(msgs))
	for _, m := range msgs {
		card.Messages = append(card.Messages, messageView(m, ch.Platform))
	}
	if len(msgs) == cardMessages {
		card.MessagesNext = msgs[len(msgs)-1].ID
	}
	if len(msgs) > 0 {
		lu := msgs[0].Msg.User
		card.DisplayName, card.Role, card.Badges = lu.DisplayName, lu.Role, lu.Badges
		if card.User.Username == "" {
			card.User.Username = lu.Username
		}
		// Named by name only, on a platform that gives ids: the id it
		// gave finds the links, notes and watches.
		if u.UserID == "" && lu.ID != "" {
			u.UserID, card.User.UserID = lu.ID, lu.ID
		}
	}
	first, n, err := s.st.ChatterStats(ctx, ch.ID, u)
	if err != nil {
		return UserCardView{}, err
	}
	if !first.IsZero() {
		card.FirstSeen = first.UnixMilli()
	}
	card.MessageCount = n
	pid, ms, err := s.members(ctx, u)
	if err != nil {
		return UserCardView{}, err
	}
	card.PersonID = pid
	var all []UserRef
	for i, m := range ms {
		all = append(all, m.User)
		chans, err := s.platformChannels(ctx, m.User.Platform)
		if err != nil {
			return UserCardView{}, err
		}
		if i > 0 {
			lv := LinkedUserView{User: m.User, LinkedBy: s.authorName(m.Actor), LinkedAt: m.Created.UnixMilli(), Messages: []MessageView{}}
			rows, err := s.st.UserMessages(ctx, chans, m.User, 0, linkedMessages)
			if err != nil {
				return UserCardView{}, err
			}
			for _, r := range rows {
				lv.Messages = append(lv.Messages, messageView(r, r.Platform))
			}
			card.Linked = append(card.Linked, lv)
		}
		hist, err := s.history(ctx, chans, m.User)
		if err != nil {
			return UserCardView{}, err
		}
		card.History = append(card.History, hist...)
	}
	slices.SortStableFunc(card.History, func(a, b HistoryEntry) int { return cmp.Compare(b.At, a.At) })
	if len(card.History) > maxHistory {
		card.History = card.History[:maxHistory]
	}
	if card.Strikes, err = s.personStrikes(ctx, u, s.now().AddDate(0, 0, -StrikeDays)); err != nil {
		return UserCardView{}, err
	}
	notes, err := s.st.Notes(ctx, all)
	if err != nil {
		return UserCardView{}, err
	}
	for _, n := range notes {
		card.Notes = append(card.Notes, s.noteView(n))
	}
	if w, ok := s.watchOf(u.Platform, chat.User{ID: u.UserID, Username: u.Username}); ok {
		wv := s.watchView(w)
		card.Watch = &wv
	}
	return card, nil
}

// Card sizes.
const (
	cardMessages   = 50
	linkedMessages = 20
	maxHistory     = 200
)

// history returns our actions on u and the platforms' moderation events on
// u in chans, as card entries.
func (s *Service) history(ctx context.Context, chans []int64, u UserRef) ([]HistoryEntry, error) {
	acts, err := s.st.ActionsOn(ctx, chans, u, maxHistory)
	if err != nil {
		return nil, err
	}
	evs, err := s.st.ModEventsOn(ctx, chans, u, maxHistory)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(acts)+len(evs))
	for _, a := range acts {
		v := s.actionView(a, u.Platform)
		e := HistoryEntry{Source: "action", At: v.Created, ChannelID: a.ChannelID, Platform: u.Platform, Kind: string(a.Action.Kind),
			Actor: v.Actor, Reason: a.Action.Reason, DurationSeconds: int64(a.Action.Duration / time.Second), Action: &v}
		if a.Action.Kind == chat.ActTimeout && a.Status == statusConfirmed {
			e.Expires = a.Updated.Add(a.Action.Duration).UnixMilli()
		}
		out = append(out, e)
	}
	for _, ev := range evs {
		e := HistoryEntry{Source: "platform", At: ev.Ev.At.UnixMilli(), ChannelID: ev.ChannelID, Platform: u.Platform, Kind: string(ev.Ev.Kind),
			Reason: ev.Ev.Text, DurationSeconds: int64(ev.Ev.Duration / time.Second), EventID: ev.ID}
		if ev.Ev.Actor != nil {
			e.Actor = ev.Ev.Actor.Name()
		}
		if !ev.Ev.Expires.IsZero() {
			e.Expires = ev.Ev.Expires.UnixMilli()
		}
		out = append(out, e)
	}
	return out, nil
}

// UserMessages implements API.
func (s *Service) UserMessages(ctx context.Context, u UserRef, channelID, beforeID int64, limit int) (UserMessagesView, error) {
	var chans []int64
	if channelID != 0 {
		ch, err := s.st.Channel(ctx, channelID)
		if err != nil {
			return UserMessagesView{}, notFound(err, "channel %d", channelID)
		}
		if u.Platform == "" {
			u.Platform = ch.Platform
		}
		if ch.Platform != u.Platform {
			return UserMessagesView{}, invalid("channel %d is on %s, not %s", channelID, ch.Platform, u.Platform)
		}
		chans = []int64{ch.ID}
	}
	if err := checkRef(u); err != nil {
		return UserMessagesView{}, err
	}
	if chans == nil {
		var err error
		if chans, err = s.platformChannels(ctx, u.Platform); err != nil {
			return UserMessagesView{}, err
		}
	}
	limit = clampLimit(limit, 50, 500)
	rows, err := s.st.UserMessages(ctx, chans, u, beforeID, limit)
	if err != nil {
		return UserMessagesView{}, err
	}
	out := UserMessagesView{Messages: make([]MessageView, 0, len(rows))}
	for _, r := range rows {
		out.Messages = append(out.Messages, messageView(r, r.Platform))
	}
	if len(rows) == limit {
		out.Next = rows[len(rows)-1].ID
	}
	return out, nil
}

// LinkUsers implements API.
func (s *Service) LinkUsers(ctx context.Context, a, b UserRef) (PersonView, error) {
	if err := checkRef(a); err != nil {
		return PersonView{}, err
	}
	if err := checkRef(b); err != nil {
		return PersonView{}, err
	}
	pid, links, err := s.st.Link(ctx, a, b, actorOf(ctx), s.now())
	if err != nil {
		return PersonView{}, storeInvalid(err)
	}
	s.noteLive(livePeople)
	out := PersonView{ID: pid, Members: make([]LinkedUserView, 0, len(links))}
	for _, l := range links {
		out.Members = append(out.Members, LinkedUserView{User: l.User, LinkedBy: s.authorName(l.Actor), LinkedAt: l.Created.UnixMilli()})
	}
	return out, nil
}

// UnlinkUser implements API.
func (s *Service) UnlinkUser(ctx context.Context, u UserRef) error {
	if err := checkRef(u); err != nil {
		return err
	}
	if err := s.st.Unlink(ctx, u, actorOf(ctx), s.now()); err != nil {
		return notFound(err, "linked user %s", u.Key())
	}
	s.noteLive(livePeople)
	return nil
}

// storeInvalid maps the store's ErrInvalid to the service's.
func storeInvalid(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	return err
}

// FindUsers implements API: users whose name contains query (or, with an
// empty query, looks like near's), with the users who wrote the same text
// as near, ranked by name similarity and shared text.
func (s *Service) FindUsers(ctx context.Context, query string, near UserRef) ([]UserSuggestion, error) {
	query = strings.TrimSpace(query)
	if len(query) > store.MaxUserField {
		return nil, invalid("a name search is at most %d bytes", store.MaxUserField)
	}
	hasNear := near.UserID != "" || near.Username != ""
	if hasNear {
		if err := checkRef(near); err != nil {
			return nil, err
		}
	}
	if query == "" && !hasNear {
		return []UserSuggestion{}, nil
	}
	type cand struct {
		sug    UserSuggestion
		shared int
	}
	cands := map[string]*cand{}
	add := func(u UserRef, ch int64) *cand {
		k := watchKey(u.Platform, u.Key())
		if hasNear && u.Platform == near.Platform && u.Key() == near.Key() {
			return nil
		}
		c := cands[k]
		if c == nil {
			c = &cand{sug: UserSuggestion{User: u, ChannelID: ch}}
			cands[k] = c
		}
		return c
	}
	term := query
	if term == "" {
		term = nameStem(near.Username)
	}
	if term != "" {
		hits, err := s.st.FindUsers(ctx, term, 200)
		if err != nil {
			return nil, storeInvalid(err)
		}
		for _, h := range hits {
			add(h.User, h.ChannelID)
		}
	}
	if hasNear {
		// Shared text: near's recent distinct lines, searched in full text,
		// kept where another user wrote exactly the same.
		chans, err := s.platformChannels(ctx, near.Platform)
		if err != nil {
			return nil, err
		}
		mine, err := s.st.UserMessages(ctx, chans, near, 0, 30)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, m := range mine {
			t := strings.ToLower(strings.Join(strings.Fields(m.Msg.Text), " "))
			if len([]rune(t)) < 8 || seen[t] || len(seen) >= 10 {
				continue
			}
			seen[t] = true
			found, err := s.st.Search(ctx, m.Msg.Text, 0, 100)
			if err != nil {
				return nil, err
			}
			for _, f := range found {
				if strings.ToLower(strings.Join(strings.Fields(f.Msg.Text), " ")) != t {
					continue
				}
				if c := add(UserRef{Platform: f.Platform, UserID: f.Msg.User.ID, Username: f.Msg.User.Username}, f.ChannelID); c != nil {
					c.shared++
				}
			}
		}
	}
	_, linked, err := s.members(ctx, near)
	if !hasNear {
		linked, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]UserSuggestion, 0, len(cands))
	for _, c := range cands {
		if slices.ContainsFunc(linked, func(l store.LinkRow) bool {
			return l.User.Platform == c.sug.User.Platform && l.User.Key() == c.sug.User.Key()
		}) {
			continue
		}
		ref := query
		if hasNear {
			ref = near.Username
		}
		sim := nameSimilarity(ref, c.sug.User.Username)
		c.sug.Score = sim + 0.25*float64(min(c.shared, 4))
		if sim >= 0.5 {
			c.sug.Why = append(c.sug.Why, fmt.Sprintf("name %d%% alike", int(sim*100+0.5)))
		}
		if c.shared > 0 {
			c.sug.Why = append(c.sug.Why, fmt.Sprintf("%d message(s) with the same text", c.shared))
		}
		if c.sug.Why == nil {
			c.sug.Why = []string{}
		}
		out = append(out, c.sug)
	}
	slices.SortFunc(out, func(a, b UserSuggestion) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.User.Username, b.User.Username)
	})
	return out[:min(len(out), 20)], nil
}

// nameStem is the part of a name used to look for look-alikes: its first
// four letters, lowercased.
func nameStem(name string) string {
	var b []rune
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) {
			b = append(b, r)
			if len(b) == 4 {
				break
			}
		}
	}
	if len(b) < 3 {
		return ""
	}
	return string(b)
}

// nameSimilarity is 1 minus the edit distance of the two names (lowercased,
// without digits, '_', '-' and '.') over the longer one's length.
func nameSimilarity(a, b string) float64 {
	norm := func(s string) []rune {
		var out []rune
		for _, r := range strings.ToLower(s) {
			if unicode.IsDigit(r) || r == '_' || r == '-' || r == '.' {
				continue
			}
			out = append(out, r)
		}
		return out
	}
	x, y := norm(a), norm(b)
	if len(x) == 0 || len(y) == 0 {
		return 0
	}
	if len(x) > 64 || len(y) > 64 {
		x, y = x[:min(len(x), 64)], y[:min(len(y), 64)]
	}
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			c := 1
			if x[i-1] == y[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(y)])/float64(max(len(x), len(y)))
}

// AddNote implements API.
func (s *Service) AddNote(ctx context.Context, in NoteInput) (NoteView, error) {
	u := in.User
	if in.ChannelID != 0 {
		ch, err := s.st.Channel(ctx, in.ChannelID)
		if err != nil {
			return NoteView{}, notFound(err, "channel %d", in.ChannelID)
		}
		if u.Platform == "" {
			u.Platform = ch.Platform
		}
	}
	if err := checkRef(u); err != nil {
		return NoteView{}, err
	}
	n := store.NoteRow{User: u, ChannelID: in.ChannelID, Text: in.Text, Author: actorOf(ctx), Created: s.now()}
	if err := s.st.AddNote(ctx, &n); err != nil {
		return NoteView{}, storeInvalid(err)
	}
	if m, err := s.PeopleMarks(ctx); err == nil {
		s.ui.people(m)
	}
	return s.noteView(n), nil
}

// DeleteNote implements API.
func (s *Service) DeleteNote(ctx context.Context, id int64) error {
	if err := s.st.DeleteNote(ctx, id); err != nil {
		return notFound(err, "note %d", id)
	}
	if m, err := s.PeopleMarks(ctx); err == nil {
		s.ui.people(m)
	}
	return nil
}

func (s *Service) noteView(n store.NoteRow) NoteView {
	return NoteView{ID: n.ID, User: n.User, ChannelID: n.ChannelID, Text: n.Text, Author: s.authorName(n.Author), Created: n.Created.UnixMilli()}
}

// Watch implements API.
func (s *Service) Watch(ctx context.Context, req WatchRequest) (WatchView, error) {
	if err := checkRef(req.User); err != nil {
		return WatchView{}, err
	}
	if req.Minutes < 0 || req.Minutes > 60*24*365 {
		return WatchView{}, invalid("a watch lasts 0 (until removed) to 525600 minutes, not %d", req.Minutes)
	}
	now := s.now()
	w := store.WatchRow{User: req.User, Reason: strings.TrimSpace(req.Reason), Hold: req.Restrict, Author: actorOf(ctx), Created: now}
	if req.Minutes > 0 {
		w.Expires = now.Add(time.Duration(req.Minutes) * time.Minute)
	}
	if err := s.st.SetWatch(ctx, w); err != nil {
		return WatchView{}, storeInvalid(err)
	}
	if err := s.loadWatches(ctx, true); err != nil {
		return WatchView{}, err
	}
	return s.watchView(w), nil
}

// Unwatch implements API.
func (s *Service) Unwatch(ctx context.Context, u UserRef) error {
	if err := checkRef(u); err != nil {
		return err
	}
	if err := s.st.RemoveWatch(ctx, u); err != nil {
		return notFound(err, "watched user %s", u.Key())
	}
	return s.loadWatches(ctx, true)
}

func (s *Service) watchView(w store.WatchRow) WatchView {
	v := WatchView{User: w.User, Reason: w.Reason, Restrict: w.Hold, Author: s.authorName(w.Author), Created: w.Created.UnixMilli()}
	if !w.Expires.IsZero() {
		v.Expires = w.Expires.UnixMilli()
	}
	return v
}

// PeopleMarks implements API.
func (s *Service) PeopleMarks(ctx context.Context) (PeopleMarksView, error) {
	out := PeopleMarksView{Watches: []WatchView{}, Noted: []UserRef{}, Notes: []NoteView{}}
	now := s.now()
	if ws := s.watches.p.Load(); ws != nil {
		for _, w := range ws.m {
			if w.Active(now) {
				out.Watches = append(out.Watches, s.watchView(w))
			}
		}
	}
	slices.SortFunc(out.Watches, func(a, b WatchView) int { return cmp.Compare(b.Created, a.Created) })
	latest, err := s.st.LatestNotes(ctx, 5000)
	if err != nil {
		return PeopleMarksView{}, err
	}
	for _, n := range latest {
		if r := []rune(n.Text); len(r) > MarkNoteChars {
			n.Text = string(r[:MarkNoteChars-1]) + "…"
		}
		out.Noted = append(out.Noted, n.User)
		out.Notes = append(out.Notes, s.noteView(n))
	}
	return out, nil
}

// ResolveUserItems implements API.
func (s *Service) ResolveUserItems(ctx context.Context, channelID int64, userID, username, status string) (int, error) {
	switch status {
	case "approved", "dismissed":
	default:
		return 0, invalid("status must be approved or dismissed, not %q", status)
	}
	ch, err := s.st.Channel(ctx, channelID)
	if err != nil {
		return 0, notFound(err, "channel %d", channelID)
	}
	u := UserRef{Platform: ch.Platform, UserID: userID, Username: username}
	if err := checkRef(u); err != nil {
		return 0, err
	}
	return s.resolveUserItems(ctx, ch, u, status)
}

// resolveUserItems moves every open queue item of u in ch to status, in
// one transaction and one UI update.
func (s *Service) resolveUserItems(ctx context.Context, ch store.Channel, u UserRef, status string) (int, error) {
	items, err := s.st.OpenItemsOf(ctx, ch.ID, u)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	ids := make([]int64, len(items))
	for i, q := range items {
		ids[i] = q.ID
	}
	moved, err := s.st.ResolveItems(ctx, ids, status)
	if err != nil {
		return 0, err
	}
	views := make([]QueueItemView, 0, len(moved))
	for _, q := range items {
		if slices.Contains(moved, q.ID) {
			q.Status = status
			if q.Msg != nil {
				q.Msg.Held = false
			}
			views = append(views, queueView(q, ch.Platform))
		}
	}
	s.ui.queues(views)
	s.addQueueOpen(ch.ID, -len(moved))
	return len(moved), nil
}

// actOnPerson resolves the target's other open items after a moderator's
// ban or timeout and records how many on the action.
func (s *Service) actOnPerson(ctx context.Context, ch store.Channel, a chat.Action, v ActionView) ActionView {
	if a.User == nil || (a.Kind != chat.ActBan && a.Kind != chat.ActTimeout) || strings.HasPrefix(actorOf(ctx), "rule:") {
		return v
	}
	n, err := s.resolveUserItems(ctx, ch, UserRef{Platform: ch.Platform, UserID: a.User.ID, Username: a.User.Username}, "actioned")
	if err != nil {
		s.log.Warn("held items of an acted-on user not resolved", "action", v.ID, "err", err)
		return v
	}
	if n == 0 {
		return v
	}
	v.ResolvedItems += n
	if err := s.st.SetResolvedItems(ctx, v.ID, v.ResolvedItems); err != nil {
		s.log.Warn("resolved items not recorded", "action", v.ID, "err", err)
	}
	// The outbox may have confirmed the action meanwhile: announce the stored
	// state with the count, not the submitted one (a "pending" sent after the
	// confirmation would take the UI back); under the outbox's emit lock, so
	// no status change falls between the read and the announcement.
	s.outbox.emit.Lock()
	defer s.outbox.emit.Unlock()
	if row, err := s.st.Action(ctx, v.ID); err == nil {
		cur := s.actionView(row, ch.Platform)
		cur.ResolvedItems = max(cur.ResolvedItems, v.ResolvedItems)
		v = cur
	}
	s.ui.action(v)
	return v
}

// reversal says how action a of a channel with caps is undone: the kind of
// the reversal and its label, or why it cannot be.
func reversal(caps chat.Capabilities, p chat.Platform, a chat.Action, status string) (kind chat.ActionKind, label, refused string) {
	if status == statusFailed {
		return "", "", ""
	}
	unban := caps.Actions[chat.ActUnban]
	switch a.Kind {
	case chat.ActBan:
		if !unban.Supported || caps.ReadOnly {
			return "", "unban", fmt.Sprintf("%s cannot unban from the console: %s", p, unban.Note)
		}
		return chat.ActUnban, "unban", ""
	case chat.ActTimeout:
		if caps.NoTimeoutLift != "" {
			return "", "lift timeout", caps.NoTimeoutLift
		}
		if !unban.Supported || caps.ReadOnly {
			return "", "lift timeout", fmt.Sprintf("%s cannot lift a timeout from the console: %s", p, unban.Note)
		}
		return chat.ActUnban, "lift timeout", ""
	case chat.ActPin:
		unpin := caps.Actions[chat.ActUnpin]
		if !unpin.Supported || caps.ReadOnly {
			note := unpin.Note
			if note == "" {
				note = "no unpin"
			}
			return "", "unpin", fmt.Sprintf("%s cannot unpin from the console: %s", p, note)
		}
		return chat.ActUnpin, "unpin", ""
	case chat.ActDelete:
		return "", "", "a deleted message cannot be restored on any platform"
	}
	return "", "", ""
}

// Reverse implements API.
func (s *Service) Reverse(ctx context.Context, actionID int64) (ActionView, error) {
	row, err := s.st.Action(ctx, actionID)
	if err != nil {
		return ActionView{}, notFound(err, "action %d", actionID)
	}
	caps, p, ok := s.capsOf(row.ChannelID)
	if !ok {
		return ActionView{}, fmt.Errorf("the channel of action %d is not connected: %w", actionID, chat.ErrNotConnected)
	}
	if row.Status == statusFailed {
		return ActionView{}, invalid("action %d failed; there is nothing to undo", actionID)
	}
	kind, label, refused := reversal(caps, p, row.Action, row.Status)
	if refused != "" {
		return ActionView{}, fmt.Errorf("%w: %s", chat.ErrUnsupported, refused)
	}
	if kind == chat.ActUnpin {
		// The pinned message is the action's evidence (our row of it).
		if len(row.Evidence) == 0 {
			return ActionView{}, invalid("pin %d has no stored message to unpin", actionID)
		}
		return s.Act(ctx, ActionRequest{ChannelID: row.ChannelID, Kind: kind, MessageID: row.Evidence[0],
			Reason: clipReason(fmt.Sprintf("%s (undo of #%d)", label, row.ID))})
	}
	if kind == "" || row.Action.User == nil {
		return ActionView{}, invalid("a %s cannot be undone", row.Action.Kind)
	}
	return s.Act(ctx, ActionRequest{ChannelID: row.ChannelID, Kind: kind, UserID: row.Action.User.ID, Username: row.Action.User.Username,
		Reason: clipReason(fmt.Sprintf("%s (undo of #%d)", label, row.ID))})
}

// capsOf returns the capabilities and platform of channel id's connection.
func (s *Service) capsOf(id int64) (chat.Capabilities, chat.Platform, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cs := s.channels[id]
	if cs == nil {
		return chat.Capabilities{}, "", false
	}
	c := s.conns[cs.ch.AccountID]
	if c == nil {
		return chat.Capabilities{}, cs.ch.Platform, false
	}
	return c.info.Capabilities, cs.ch.Platform, true
}

// everywhereTargets lists, for req, every linked user in every joined
// channel of their platform, with what the platform allows.
func (s *Service) everywhereTargets(ctx context.Context, req EverywhereRequest) ([]EverywhereTarget, error) {
	if err := checkRef(req.User); err != nil {
		return nil, err
	}
	switch req.Kind {
	case chat.ActBan:
	case chat.ActTimeout:
		if req.DurationSeconds <= 0 {
			return nil, invalid("timeout needs a duration of at least 1 second")
		}
	default:
		return nil, invalid("everywhere takes ban or timeout, not %q", req.Kind)
	}
	if err := checkReason(strings.TrimSpace(req.Reason)); err != nil {
		return nil, err
	}
	_, ms, err := s.members(ctx, req.User)
	if err != nil {
		return nil, err
	}
	type chInfo struct {
		ch   store.Channel
		caps chat.Capabilities
		ok   bool
	}
	s.mu.RLock()
	var chans []chInfo
	for _, cs := range s.channels {
		ci := chInfo{ch: cs.ch}
		if c := s.conns[cs.ch.AccountID]; c != nil {
			ci.caps, ci.ok = c.info.Capabilities, true
		}
		chans = append(chans, ci)
	}
	s.mu.RUnlock()
	slices.SortFunc(chans, func(a, b chInfo) int { return cmp.Compare(a.ch.ID, b.ch.ID) })
	out := []EverywhereTarget{}
	for _, m := range ms {
		for _, c := range chans {
			if c.ch.Platform != m.User.Platform {
				continue
			}
			t := EverywhereTarget{ChannelID: c.ch.ID, Channel: c.ch.Name, Platform: c.ch.Platform, User: m.User}
			spec := c.caps.Actions[req.Kind]
			switch {
			case !c.ok:
				t.Note = "the account is not connected"
			case c.caps.ReadOnly:
				t.Note = "read-only connection: " + spec.Note
			case !spec.Supported:
				t.Note = fmt.Sprintf("%s cannot %s: %s", c.ch.Platform, req.Kind, spec.Note)
			default:
				t.Allowed, t.Note = true, spec.Note
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// PlanEverywhere implements API.
func (s *Service) PlanEverywhere(ctx context.Context, req EverywhereRequest) (EverywhereView, error) {
	ts, err := s.everywhereTargets(ctx, req)
	if err != nil {
		return EverywhereView{}, err
	}
	return EverywhereView{Kind: req.Kind, Targets: ts}, nil
}

// BanEverywhere implements API: one parent (an action group) and one
// action per allowed target through Act, each its own audit entry and
// outcome. A target the platform cannot act on, or that Act refuses, is
// listed with its reason; a failed one is retried with RetryAction.
func (s *Service) BanEverywhere(ctx context.Context, req EverywhereRequest) (EverywhereView, error) {
	ts, err := s.everywhereTargets(ctx, req)
	if err != nil {
		return EverywhereView{}, err
	}
	if !slices.ContainsFunc(ts, func(t EverywhereTarget) bool { return t.Allowed }) {
		return EverywhereView{}, fmt.Errorf("%w: no linked user is in a channel where a %s is possible", chat.ErrUnsupported, req.Kind)
	}
	var names []string
	for _, t := range ts {
		n := string(t.Platform) + ":" + cmp.Or(t.User.Username, t.User.UserID)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	g := store.GroupRow{Kind: string(req.Kind) + " everywhere", Summary: Snippet(strings.Join(names, ", "), 300), Actor: actorOf(ctx), Created: s.now()}
	if err := s.st.InsertGroup(ctx, &g); err != nil {
		return EverywhereView{}, err
	}
	gctx := withParent(ctx, g.ID)
	for i, t := range ts {
		if !t.Allowed {
			continue
		}
		v, err := s.Act(gctx, ActionRequest{ChannelID: t.ChannelID, Kind: req.Kind, UserID: t.User.UserID, Username: t.User.Username,
			DurationSeconds: req.DurationSeconds, Reason: req.Reason})
		if err != nil {
			ts[i].Error = err.Error()
			continue
		}
		ts[i].Action = &v
	}
	return EverywhereView{GroupID: g.ID, Kind: req.Kind, Targets: ts}, nil
}

// ActionGroup implements API.
func (s *Service) ActionGroup(ctx context.Context, id int64) (ActionGroupView, error) {
	g, rows, err := s.st.Group(ctx, id)
	if err != nil {
		return ActionGroupView{}, notFound(err, "action group %d", id)
	}
	out := ActionGroupView{ID: g.ID, Kind: g.Kind, Summary: g.Summary, Actor: g.Actor, Created: g.Created.UnixMilli(), Actions: make([]ActionView, 0, len(rows))}
	for _, r := range rows {
		out.Actions = append(out.Actions, s.actionView(r, s.platformOfChannel(ctx, r.ChannelID)))
	}
	return out, nil
}

// RetryAction implements API: a failed ban, timeout, unban or delete is
// made again (a new generation of the same content, in the same group).
func (s *Service) RetryAction(ctx context.Context, id int64) (ActionView, error) {
	row, err := s.st.Action(ctx, id)
	if err != nil {
		return ActionView{}, notFound(err, "action %d", id)
	}
	if row.Status != statusFailed {
		return ActionView{}, invalid("action %d has not failed (it is %s)", id, row.Status)
	}
	a := row.Action
	req := ActionRequest{ChannelID: row.ChannelID, Kind: a.Kind, Reason: a.Reason, DurationSeconds: int64(a.Duration / time.Second)}
	switch a.Kind {
	case chat.ActBan, chat.ActTimeout, chat.ActUnban:
		if a.User == nil {
			return ActionView{}, invalid("action %d has no target user", id)
		}
		req.UserID, req.Username = a.User.ID, a.User.Username
	case chat.ActDelete:
		if len(row.Evidence) == 0 {
			return ActionView{}, invalid("action %d has no stored message to delete", id)
		}
		req.MessageID = row.Evidence[0]
	default:
		return ActionView{}, invalid("a failed %s is not retried; make it again", a.Kind)
	}
	if row.ParentID != 0 {
		ctx = withParent(ctx, row.ParentID)
	}
	return s.Act(ctx, req)
}

// strikesOf fills the strikes badge of queue items (per person, within
// StrikeDays) as personStrikes counts it, in a constant number of batched
// queries for the whole page: the authors' persons, then every member's
// strikes in every channel of their platform.
func (s *Service) strikesOf(ctx context.Context, items []QueueItemView) {
	since := s.now().AddDate(0, 0, -StrikeDays)
	var refs []UserRef
	idx := map[store.UserKey]int{} // author → index in refs
	for i := range items {
		u := items[i].Message.User
		ref := UserRef{Platform: items[i].Platform, UserID: u.ID, Username: u.Username}
		if ref.Check() != nil {
			continue
		}
		k := store.UserKey{Platform: ref.Platform, Key: ref.Key()}
		if _, ok := idx[k]; !ok {
			idx[k] = len(refs)
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return
	}
	people, err := s.st.PeopleOf(ctx, refs)
	if err != nil {
		s.log.Warn("strikes", "err", err)
		return
	}
	// Each author's members, as members() lists them: the author as
	// given, then the other linked users.
	members := make([][]store.StrikeUser, len(refs))
	var all []store.StrikeUser
	for i, ref := range refs {
		ms := []store.StrikeUser{{Platform: ref.Platform, UserID: ref.UserID, Username: ref.Username}}
		for _, l := range people[store.UserKey{Platform: ref.Platform, Key: ref.Key()}] {
			if l.User.Platform == ref.Platform && l.User.Key() == ref.Key() {
				continue
			}
			ms = append(ms, store.StrikeUser{Platform: l.User.Platform, UserID: l.User.UserID, Username: l.User.Username})
		}
		members[i] = ms
		all = append(all, ms...)
	}
	counts, err := s.st.StrikesOf(ctx, all, since)
	if err != nil {
		s.log.Warn("strikes", "err", err)
		return
	}
	for i := range items {
		u := items[i].Message.User
		ref := UserRef{Platform: items[i].Platform, UserID: u.ID, Username: u.Username}
		j, ok := idx[store.UserKey{Platform: ref.Platform, Key: ref.Key()}]
		if !ok || ref.Check() != nil {
			continue
		}
		n := 0
		for _, m := range members[j] {
			n += counts[m]
		}
		items[i].Strikes = n
	}
}
