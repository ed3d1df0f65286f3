// Package app is the Wails binding layer: App's exported methods are bound to
// the frontend (window.go.app.App.<Method>), each delegating to the service
// with the window's context; Browser.OpenURL (window.go.app.Browser.OpenURL)
// opens links in the system browser; Emitter sends service events through
// the Wails runtime; Options builds the window's options. Nothing else in the
// console imports Wails.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"modconsole/backend/service"
)

// App is bound to the desktop window. Its lifecycle hooks are unexported so
// that Wails does not bind them.
type App struct {
	api service.API

	mu    sync.RWMutex
	ctx   context.Context
	ready bool // the window's context is set
}

// New returns an App over api.
func New(api service.API) *App { return &App{api: api, ctx: context.Background()} }

// startup is given to Wails' OnStartup; it records the window's context.
func (a *App) startup(ctx context.Context) {
	a.mu.Lock()
	a.ctx = ctx
	a.ready = true
	a.mu.Unlock()
}

// Startup returns the hook Wails calls when the window is ready.
func Startup(a *App) func(context.Context) { return a.startup }

func (a *App) c() context.Context {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ctx
}

// Emitter sends service events to the desktop window. Events emitted before
// the window is ready are dropped (the UI loads its state with Overview).
type Emitter struct{ app *App }

// NewEmitter returns an emitter bound to a's window.
func NewEmitter(a *App) *Emitter { return &Emitter{app: a} }

// Emit implements service.Emitter.
func (e *Emitter) Emit(name string, data any) {
	e.app.mu.RLock()
	ctx, ready := e.app.ctx, e.app.ready
	e.app.mu.RUnlock()
	if ready {
		runtime.EventsEmit(ctx, name, data)
	}
}

// Overview mirrors service.API.
func (a *App) Overview() (service.Overview, error) { return a.api.Overview(a.c()) }

// ListAccounts mirrors service.API.
func (a *App) ListAccounts() ([]service.AccountView, error) { return a.api.ListAccounts(a.c()) }

// SaveAccount mirrors service.API.
func (a *App) SaveAccount(in service.AccountInput) (service.AccountView, error) {
	return a.api.SaveAccount(a.c(), in)
}

// RemoveAccount mirrors service.API.
func (a *App) RemoveAccount(id int64) error { return a.api.RemoveAccount(a.c(), id) }

// SignIn mirrors service.API and opens the authorize page in the system
// browser (RFC 8252: never in the app's own webview).
func (a *App) SignIn(id int64) (service.SignInView, error) {
	v, err := a.api.SignIn(a.c(), id)
	a.mu.RLock()
	ctx, ready := a.ctx, a.ready
	a.mu.RUnlock()
	if err == nil && ready {
		runtime.BrowserOpenURL(ctx, v.URL)
	}
	return v, err
}

// SignOut mirrors service.API.
func (a *App) SignOut(id int64) error { return a.api.SignOut(a.c(), id) }

// ListChannels mirrors service.API.
func (a *App) ListChannels() ([]service.ChannelView, error) { return a.api.ListChannels(a.c()) }

// JoinChannel mirrors service.API.
func (a *App) JoinChannel(accountID int64, name string) (service.ChannelView, error) {
	return a.api.JoinChannel(a.c(), accountID, name)
}

// RetryChannel mirrors service.API.
func (a *App) RetryChannel(channelID int64) (service.ChannelView, error) {
	return a.api.RetryChannel(a.c(), channelID)
}

// LeaveChannel mirrors service.API.
func (a *App) LeaveChannel(channelID int64) error { return a.api.LeaveChannel(a.c(), channelID) }

// RecentMessages mirrors service.API.
func (a *App) RecentMessages(channelID, beforeID int64, limit int) ([]service.MessageView, error) {
	return a.api.RecentMessages(a.c(), channelID, beforeID, limit)
}

// Queue mirrors service.API.
func (a *App) Queue(channelID int64, limit int) ([]service.QueueItemView, error) {
	return a.api.Queue(a.c(), channelID, limit)
}

// ResolveItem mirrors service.API.
func (a *App) ResolveItem(itemID int64, status string) (service.QueueItemView, error) {
	return a.api.ResolveItem(a.c(), itemID, status)
}

// Act mirrors service.API.
func (a *App) Act(req service.ActionRequest) (service.ActionView, error) {
	return a.api.Act(a.c(), req)
}

// AuditLog mirrors service.API.
func (a *App) AuditLog(channelID int64, limit int) ([]service.ActionView, error) {
	return a.api.AuditLog(a.c(), channelID, limit)
}

// ModEvents mirrors service.API.
func (a *App) ModEvents(channelID int64, limit int) ([]service.ModEventView, error) {
	return a.api.ModEvents(a.c(), channelID, limit)
}

// ListRules mirrors service.API.
func (a *App) ListRules() ([]service.RuleView, error) { return a.api.ListRules(a.c()) }

// SaveRule mirrors service.API.
func (a *App) SaveRule(r service.RuleView) (service.RuleView, error) { return a.api.SaveRule(a.c(), r) }

// DeleteRule mirrors service.API.
func (a *App) DeleteRule(id int64) error { return a.api.DeleteRule(a.c(), id) }

// ShieldStatus mirrors service.API.
func (a *App) ShieldStatus() (service.ShieldView, error) { return a.api.ShieldStatus(a.c()) }

// SetShield mirrors service.API.
func (a *App) SetShield(req service.ShieldRequest) (service.ShieldView, error) {
	return a.api.SetShield(a.c(), req)
}

// Retention mirrors service.API.
func (a *App) Retention() (service.RetentionView, error) { return a.api.Retention(a.c()) }

// SetRetention mirrors service.API.
func (a *App) SetRetention(v service.RetentionView) (service.RetentionView, error) {
	return a.api.SetRetention(a.c(), v)
}

// SetShieldAuto mirrors service.API.
func (a *App) SetShieldAuto(auto service.ShieldAuto) (service.ShieldView, error) {
	return a.api.SetShieldAuto(a.c(), auto)
}

// DryRunRule mirrors service.API.
func (a *App) DryRunRule(req service.DryRunRequest) (service.DryRunResult, error) {
	return a.api.DryRunRule(a.c(), req)
}

// MessageVersions mirrors service.API.
func (a *App) MessageVersions(messageID int64) ([]service.MessageVersionView, error) {
	return a.api.MessageVersions(a.c(), messageID)
}

// Search mirrors service.API.
func (a *App) Search(query string, channelID int64, limit int) ([]service.MessageView, error) {
	return a.api.Search(a.c(), query, channelID, limit)
}

// QueuePage mirrors service.API.
func (a *App) QueuePage(q service.QueueQuery) (service.QueuePageView, error) {
	return a.api.QueuePage(a.c(), q)
}

// QueueCounts mirrors service.API.
func (a *App) QueueCounts() (service.QueueCountsView, error) { return a.api.QueueCounts(a.c()) }

// MessageContext mirrors service.API.
func (a *App) MessageContext(messageID int64, n int) (service.MessageContextView, error) {
	return a.api.MessageContext(a.c(), messageID, n)
}

// SearchMessages mirrors service.API.
func (a *App) SearchMessages(req service.SearchRequest) (service.SearchPageView, error) {
	return a.api.SearchMessages(a.c(), req)
}

// FilterAuditLog mirrors service.API.
func (a *App) FilterAuditLog(q service.AuditQuery) (service.AuditPageView, error) {
	return a.api.FilterAuditLog(a.c(), q)
}

// FilterModEvents mirrors service.API.
func (a *App) FilterModEvents(q service.ModEventQuery) (service.ModEventPageView, error) {
	return a.api.FilterModEvents(a.c(), q)
}

// ChannelRates mirrors service.API.
func (a *App) ChannelRates(channelID int64, minutes int) (service.RatesView, error) {
	return a.api.ChannelRates(a.c(), channelID, minutes)
}

// Export mirrors service.API for the desktop: it checks the request, asks
// where to save the file (the system's save dialog) and streams the export
// there. A cancelled dialog returns a ticket with Cancelled set; a failed
// export removes the partial file.
func (a *App) Export(req service.ExportRequest) (service.ExportTicket, error) {
	ctx := a.c()
	t, err := a.api.Export(ctx, req)
	if err != nil {
		return service.ExportTicket{}, err
	}
	ex, ok := a.api.(service.Exporter)
	if !ok {
		return service.ExportTicket{}, errors.New("app: export is not available")
	}
	path, err := runtime.SaveFileDialog(ctx, runtime.SaveDialogOptions{
		Title:           "Export",
		DefaultFilename: t.Filename,
	})
	if err != nil {
		return service.ExportTicket{}, fmt.Errorf("app: save dialog: %w", err)
	}
	if path == "" {
		t.Cancelled = true
		return t, nil
	}
	t.Path = path
	t.Rows, err = exportTo(ctx, ex, path, req)
	return t, err
}

// exportTo streams req's export into a new file at path, removing it when
// the export fails.
func exportTo(ctx context.Context, ex service.Exporter, path string, req service.ExportRequest) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("app: export: %w", err)
	}
	n, err := ex.WriteExport(ctx, f, req)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("app: export: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return n, err
	}
	return n, nil
}

// UserCard mirrors service.API.
func (a *App) UserCard(req service.UserCardRequest) (service.UserCardView, error) {
	return a.api.UserCard(a.c(), req)
}

// UserMessages mirrors service.API.
func (a *App) UserMessages(u service.UserRef, channelID, beforeID int64, limit int) (service.UserMessagesView, error) {
	return a.api.UserMessages(a.c(), u, channelID, beforeID, limit)
}

// FindUsers mirrors service.API.
func (a *App) FindUsers(query string, near service.UserRef) ([]service.UserSuggestion, error) {
	return a.api.FindUsers(a.c(), query, near)
}

// LinkUsers mirrors service.API.
func (a *App) LinkUsers(x, y service.UserRef) (service.PersonView, error) {
	return a.api.LinkUsers(a.c(), x, y)
}

// UnlinkUser mirrors service.API.
func (a *App) UnlinkUser(u service.UserRef) error { return a.api.UnlinkUser(a.c(), u) }

// AddNote mirrors service.API.
func (a *App) AddNote(in service.NoteInput) (service.NoteView, error) {
	return a.api.AddNote(a.c(), in)
}

// DeleteNote mirrors service.API.
func (a *App) DeleteNote(id int64) error { return a.api.DeleteNote(a.c(), id) }

// Watch mirrors service.API.
func (a *App) Watch(req service.WatchRequest) (service.WatchView, error) {
	return a.api.Watch(a.c(), req)
}

// Unwatch mirrors service.API.
func (a *App) Unwatch(u service.UserRef) error { return a.api.Unwatch(a.c(), u) }

// PeopleMarks mirrors service.API.
func (a *App) PeopleMarks() (service.PeopleMarksView, error) { return a.api.PeopleMarks(a.c()) }

// ResolveUserItems mirrors service.API.
func (a *App) ResolveUserItems(channelID int64, userID, username, status string) (int, error) {
	return a.api.ResolveUserItems(a.c(), channelID, userID, username, status)
}

// Reverse mirrors service.API.
func (a *App) Reverse(actionID int64) (service.ActionView, error) {
	return a.api.Reverse(a.c(), actionID)
}

// PlanEverywhere mirrors service.API.
func (a *App) PlanEverywhere(req service.EverywhereRequest) (service.EverywhereView, error) {
	return a.api.PlanEverywhere(a.c(), req)
}

// BanEverywhere mirrors service.API.
func (a *App) BanEverywhere(req service.EverywhereRequest) (service.EverywhereView, error) {
	return a.api.BanEverywhere(a.c(), req)
}

// ActionGroup mirrors service.API.
func (a *App) ActionGroup(id int64) (service.ActionGroupView, error) {
	return a.api.ActionGroup(a.c(), id)
}

// RetryAction mirrors service.API.
func (a *App) RetryAction(id int64) (service.ActionView, error) { return a.api.RetryAction(a.c(), id) }

// ClaimNext mirrors service.API.
func (a *App) ClaimNext(q service.QueueQuery) (service.ClaimNextView, error) {
	return a.api.ClaimNext(a.c(), q)
}

// ClaimItems mirrors service.API.
func (a *App) ClaimItems(itemIDs []int64) ([]service.ClaimView, error) {
	return a.api.ClaimItems(a.c(), itemIDs)
}

// ReleaseClaims mirrors service.API.
func (a *App) ReleaseClaims(itemIDs []int64) error { return a.api.ReleaseClaims(a.c(), itemIDs) }

// Claims mirrors service.API.
func (a *App) Claims(q service.ClaimsQuery) ([]service.ClaimView, error) {
	return a.api.Claims(a.c(), q)
}
