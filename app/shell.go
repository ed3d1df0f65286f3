package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"modconsole/backend/desktop"
	"modconsole/backend/moderation"
	"modconsole/backend/service"
)

// Title is the window's title; the open-queue count follows it.
const Title = "Moderation console"

// InstanceName prefixes the session-bus name of a running desktop app
// (one per data directory; Wails' single-instance id the same).
const InstanceName = "io.modconsole.Console"

// Notifier shows a native notification (desktop.Notifier).
type Notifier interface {
	Notify(summary, body string) (uint32, error)
}

// Shell is the desktop behaviour around the window: the title with the
// open-queue count, the window's size and position remembered in the data
// directory, a second start focusing this window, and opt-in native
// notifications while the window is not focused. It watches the service's
// event batches (Observe).
type Shell struct {
	api   service.API
	prefs *desktop.PrefsStore
	log   *slog.Logger

	mu        sync.Mutex
	ctx       context.Context // the window's, once started
	notifier  Notifier        // nil: none on this system
	notify    bool            // the opt-in setting
	focused   bool
	queueOpen map[int64]int
	chanNames map[int64]string
	title     string
	seenQueue map[int64]bool // queue items already considered
	seenFail  map[int64]bool // failed actions already notified
	high      map[int64]bool // high-severity rule ids
	rulesAt   time.Time
	sentAt    time.Time
	held      int // notifications held back by the rate limit
	stats     ShellStats
	debug     *debugHub // the test endpoint's, when enabled
	now       func() time.Time
}

// ShellStats is what the shell saw, for the test endpoint.
type ShellStats struct {
	Messages      map[string]int `json:"messages"` // by platform, as sent to the window
	Actions       map[string]int `json:"actions"`  // "kind/status" of each action update
	Notifications []string       `json:"notifications"`
	Title         string         `json:"title"`
	Focused       bool           `json:"focused"`
	DomReady      bool           `json:"domReady"` // the page loaded
}

// notifyEvery is the least time between two notifications; what comes
// sooner is counted into the next one.
const notifyEvery = 10 * time.Second

// NewShell returns the shell of the window over api, with its preferences
// in dataDir. notifier may be nil (no notification service).
func NewShell(api service.API, dataDir string, notifier Notifier, log *slog.Logger) *Shell {
	if log == nil {
		log = slog.Default()
	}
	s := &Shell{api: api, prefs: desktop.NewPrefsStore(dataDir), log: log, notifier: notifier,
		queueOpen: map[int64]int{}, chanNames: map[int64]string{}, seenQueue: map[int64]bool{}, seenFail: map[int64]bool{},
		title: Title, now: time.Now, stats: ShellStats{Messages: map[string]int{}, Actions: map[string]int{}, Title: Title}}
	p, err := s.prefs.Load()
	if err != nil {
		log.Warn("desktop preferences unreadable; defaults used", "err", err)
	}
	s.notify = p.Notify
	return s
}

// Apply sets the window options the shell owns: the saved size, Wails'
// single-instance lock under instanceID (per data directory, as the D-Bus
// claim), the program name (the desktop entry's StartupWMClass) and the
// lifecycle hooks, chained after those already set.
func (s *Shell) Apply(o *options.App, instanceID string) {
	p, _ := s.prefs.Load()
	if p.Window != nil {
		o.Width, o.Height = p.Window.Width, p.Window.Height
	}
	o.Title = Title
	o.SingleInstanceLock = &options.SingleInstanceLock{UniqueId: instanceID,
		OnSecondInstanceLaunch: func(options.SecondInstanceData) { s.Focus() }}
	if o.Linux == nil {
		o.Linux = &linux.Options{}
	}
	o.Linux.ProgramName = "modconsole"
	startup, domReady, beforeClose := o.OnStartup, o.OnDomReady, o.OnBeforeClose
	o.OnStartup = func(ctx context.Context) {
		if startup != nil {
			startup(ctx)
		}
		s.startup(ctx)
	}
	o.OnDomReady = func(ctx context.Context) {
		if domReady != nil {
			domReady(ctx)
		}
		s.domReady(ctx)
	}
	o.OnBeforeClose = func(ctx context.Context) bool {
		s.SaveGeometry()
		return beforeClose != nil && beforeClose(ctx)
	}
}

func (s *Shell) startup(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	s.startDebug(ctx)
	runtime.EventsOn(ctx, focusEvent, func(data ...interface{}) {
		if len(data) == 1 {
			if on, ok := data[0].(bool); ok {
				s.SetFocused(on)
			}
		}
	})
	if chans, err := s.api.ListChannels(ctx); err == nil {
		s.mu.Lock()
		for _, c := range chans {
			s.queueOpen[c.ID] = c.QueueOpen
			s.chanNames[c.ID] = c.Name
		}
		s.mu.Unlock()
	}
	s.updateTitle()
	// The geometry is saved every few seconds when it changed, as a window
	// killed with the session gets no close event.
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.SaveGeometry()
			}
		}
	}()
}

// focusEvent is emitted by the page (focusScript) when the window gains or
// loses focus.
const focusEvent = "desktop:focus"

// focusScript reports the page's focus to the shell; it runs in the page
// after every load (WindowExecJS is not subject to the page's CSP).
const focusScript = `(() => { if (window.__mcFocus) return; window.__mcFocus = true;
const send = (f) => { try { window.runtime.EventsEmit('` + focusEvent + `', f); } catch (e) {} };
window.addEventListener('focus', () => send(true)); window.addEventListener('blur', () => send(false));
send(document.hasFocus()); })();`

func (s *Shell) domReady(ctx context.Context) {
	p, _ := s.prefs.Load()
	if p.Window != nil {
		runtime.WindowSetPosition(ctx, p.Window.X, p.Window.Y)
	}
	runtime.WindowExecJS(ctx, focusScript)
	s.mu.Lock()
	s.stats.DomReady = true
	s.mu.Unlock()
	s.updateTitle()
}

// SaveGeometry stores the window's current size and position when they
// changed.
func (s *Shell) SaveGeometry() {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil {
		return
	}
	w, h := runtime.WindowGetSize(ctx)
	x, y := runtime.WindowGetPosition(ctx)
	g := desktop.Geometry{Width: w, Height: h, X: x, Y: y}
	if !g.Valid() {
		return
	}
	if p, err := s.prefs.Load(); err == nil && p.Window != nil && *p.Window == g {
		return
	}
	if _, err := s.prefs.Update(func(p *desktop.Prefs) { p.Window = &g }); err != nil {
		s.log.Warn("window geometry not saved", "err", err)
	}
}

// Focus brings the window to the front (a second start asked for it).
func (s *Shell) Focus() {
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil {
		return
	}
	runtime.WindowUnminimise(ctx)
	runtime.WindowShow(ctx)
}

// SetFocused records whether the window has the focus.
func (s *Shell) SetFocused(on bool) {
	s.mu.Lock()
	s.focused = on
	s.stats.Focused = on
	s.mu.Unlock()
}

// SetNotify turns notifications on or off and saves the choice.
func (s *Shell) SetNotify(on bool) error {
	if _, err := s.prefs.Update(func(p *desktop.Prefs) { p.Notify = on }); err != nil {
		return err
	}
	s.mu.Lock()
	s.notify = on
	s.mu.Unlock()
	return nil
}

// Observe watches an event the service sends to the window.
func (s *Shell) Observe(name string, data any) {
	b, ok := data.(service.Batch)
	if !ok || name != service.EventBatch {
		return
	}
	s.mu.Lock()
	for _, m := range b.Messages {
		s.stats.Messages[string(m.Platform)]++
	}
	titleChanged := false
	for _, c := range b.Channels {
		s.chanNames[c.ID] = c.Name
		if s.queueOpen[c.ID] != c.QueueOpen {
			s.queueOpen[c.ID] = c.QueueOpen
			titleChanged = true
		}
	}
	var notes []string
	var newHeld []service.QueueItemView
	for _, q := range b.Queue {
		if q.Status == "open" && !s.seenQueue[q.ID] {
			newHeld = append(newHeld, q)
		}
		s.seenQueue[q.ID] = true
	}
	for _, a := range b.Actions {
		s.stats.Actions[string(a.Kind)+"/"+a.Status]++
		if a.Status == "failed" && !s.seenFail[a.ID] {
			s.seenFail[a.ID] = true
			notes = append(notes, fmt.Sprintf("%s in #%s failed|%s", a.Kind, s.chanNames[a.ChannelID], firstNonEmpty(a.Outcome, a.Target)))
		}
	}
	wanted := s.notify && !s.focused && s.notifier != nil
	s.mu.Unlock()
	if titleChanged {
		s.updateTitle()
	}
	if !wanted {
		return
	}
	if len(newHeld) > 0 {
		high := s.highRules()
		s.mu.Lock()
		for _, q := range newHeld {
			for _, id := range q.RuleIDs {
				if high[id] {
					notes = append(notes, fmt.Sprintf("Held in #%s|%s: %s (%s)", s.chanNames[q.ChannelID],
						q.Message.User.Username, q.Message.Text, strings.Join(q.Reasons, ", ")))
					break
				}
			}
		}
		s.mu.Unlock()
	}
	s.send(notes)
}

// send shows the first of notes (plus how many more), at most one
// notification per notifyEvery; what is held back is counted into the next.
func (s *Shell) send(notes []string) {
	if len(notes) == 0 {
		return
	}
	s.mu.Lock()
	now := s.now()
	if !s.sentAt.IsZero() && now.Sub(s.sentAt) < notifyEvery {
		s.held += len(notes)
		s.mu.Unlock()
		return
	}
	more := s.held + len(notes) - 1
	s.held = 0
	s.sentAt = now
	n := s.notifier
	s.mu.Unlock()
	summary, body, _ := strings.Cut(notes[0], "|")
	if more > 0 {
		body += fmt.Sprintf(" (and %d more)", more)
	}
	if _, err := n.Notify(summary, body); err != nil {
		s.log.Warn("notification not shown", "err", err)
		return
	}
	s.mu.Lock()
	s.stats.Notifications = append(s.stats.Notifications, summary)
	s.mu.Unlock()
}

// highRules returns the ids of high-severity rules (cached a few seconds).
func (s *Shell) highRules() map[int64]bool {
	s.mu.Lock()
	if s.high != nil && s.now().Sub(s.rulesAt) < 5*time.Second {
		h := s.high
		s.mu.Unlock()
		return h
	}
	ctx := s.ctx
	s.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	rules, err := s.api.ListRules(ctx)
	if err != nil {
		return map[int64]bool{}
	}
	h := map[int64]bool{}
	for _, r := range rules {
		if moderation.HighSeverity(r.Params) {
			h[r.ID] = true
		}
	}
	s.mu.Lock()
	s.high, s.rulesAt = h, s.now()
	s.mu.Unlock()
	return h
}

// TitleFor is the window title for n open queue items.
func TitleFor(n int) string {
	switch {
	case n <= 0:
		return Title
	case n == 1:
		return Title + " — 1 open"
	}
	return fmt.Sprintf("%s — %d open", Title, n)
}

func (s *Shell) updateTitle() {
	s.mu.Lock()
	n := 0
	for _, v := range s.queueOpen {
		n += v
	}
	t := TitleFor(n)
	changed := t != s.title
	s.title, s.stats.Title = t, t
	ctx := s.ctx
	s.mu.Unlock()
	if ctx != nil && changed {
		runtime.WindowSetTitle(ctx, t)
	}
}

// Stats returns a copy of what the shell saw.
func (s *Shell) Stats() ShellStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Messages = map[string]int{}
	for k, v := range s.stats.Messages {
		out.Messages[k] = v
	}
	out.Actions = map[string]int{}
	for k, v := range s.stats.Actions {
		out.Actions[k] = v
	}
	out.Notifications = append([]string(nil), s.stats.Notifications...)
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Desktop is bound to the window beside App: the desktop app's own
// settings, for the settings screen.
type Desktop struct{ shell *Shell }

// NewDesktop returns the binding of s.
func NewDesktop(s *Shell) *Desktop { return &Desktop{shell: s} }

// DesktopSettings are the desktop app's own settings.
type DesktopSettings struct {
	// Notify: native notifications when a high-severity rule holds a
	// message or an action fails while the window is in the background.
	Notify bool `json:"notify"`
	// CanNotify says whether this session has a notification service.
	CanNotify bool `json:"canNotify"`
}

// Settings returns the desktop settings.
func (d *Desktop) Settings() DesktopSettings {
	d.shell.mu.Lock()
	defer d.shell.mu.Unlock()
	return DesktopSettings{Notify: d.shell.notify, CanNotify: d.shell.notifier != nil}
}

// SetNotify turns notifications on or off (saved in the data directory).
func (d *Desktop) SetNotify(on bool) (DesktopSettings, error) {
	if on && !d.Settings().CanNotify {
		return d.Settings(), errors.New("app: this session has no notification service")
	}
	if err := d.shell.SetNotify(on); err != nil {
		return d.Settings(), err
	}
	return d.Settings(), nil
}

// SetCSP makes the window's pages carry csp instead of the asset-server
// middleware's (the demo adds its simulators' image origins to the same
// policy: httpapi.CSPWith). The middleware already set stays in the chain.
func SetCSP(o *options.App, csp string) {
	if o.AssetServer == nil {
		return
	}
	inner := o.AssetServer.Middleware
	o.AssetServer.Middleware = func(next http.Handler) http.Handler {
		override := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", csp)
			next.ServeHTTP(w, r)
		})
		if inner == nil {
			return override
		}
		return inner(override)
	}
}
