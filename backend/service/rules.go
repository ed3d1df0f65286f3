package service

import (
	"context"
	"fmt"
	"strings"

	"modconsole/backend/moderation"
	"modconsole/backend/store"
)

func (s *Service) reloadRules(ctx context.Context) error {
	rows, err := s.st.Rules(ctx)
	if err != nil {
		return fmt.Errorf("service: load rules: %w", err)
	}
	list := make([]moderation.Rule, 0, len(rows))
	for _, r := range rows {
		list = append(list, moderation.Rule{ID: r.ID, Kind: moderation.RuleKind(r.Kind), Name: r.Name, Enabled: r.Enabled, Params: r.Params, ChannelID: r.ChannelID})
	}
	eng, err := moderation.Compile(list)
	if err != nil {
		// A stored rule that no longer compiles must not stop the console:
		// drop the broken ones and say so.
		s.log.Warn("rules failed to compile", "err", err)
		var ok []moderation.Rule
		for _, r := range list {
			if moderation.ValidateRule(r) == nil {
				ok = append(ok, r)
			}
		}
		eng, err = moderation.Compile(ok)
		if err != nil {
			return fmt.Errorf("service: rules: %w", err)
		}
	}
	ft := map[int64]bool{}
	names := make(map[int64]string, len(list))
	for _, r := range list {
		if r.Enabled && r.Kind == moderation.KindFirstTime {
			ft[r.ChannelID] = true
		}
		names[r.ID] = r.Name
	}
	s.rules.Store(&rules{eng: eng, firstTime: ft, names: names})
	return nil
}

// ListRules implements API.
func (s *Service) ListRules(ctx context.Context) ([]RuleView, error) {
	rows, err := s.st.Rules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RuleView, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.ruleView(r))
	}
	return out, nil
}

func (s *Service) ruleView(r store.Rule) RuleView {
	v := RuleView{ID: r.ID, Kind: r.Kind, Name: r.Name, Enabled: r.Enabled, Params: r.Params, ChannelID: r.ChannelID, Position: r.Position}
	if !r.ChangedAt.IsZero() {
		v.ChangedBy, v.ChangedAt = s.authorName(r.ChangedBy), r.ChangedAt.UnixMilli()
	}
	if v.Params == nil {
		v.Params = map[string]string{}
	}
	return v
}

// SaveRule implements API. The rule is validated (a regex that does not
// compile is refused with the compiler's message) before it is stored.
func (s *Service) SaveRule(ctx context.Context, r RuleView) (RuleView, error) {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		r.Name = r.Kind
	}
	mr := moderation.Rule{ID: r.ID, Kind: moderation.RuleKind(r.Kind), Name: r.Name, Enabled: r.Enabled, Params: r.Params, ChannelID: r.ChannelID}
	if err := moderation.ValidateRule(mr); err != nil {
		return RuleView{}, invalid("%v", err)
	}
	row := store.Rule{ID: r.ID, Kind: r.Kind, Name: r.Name, Enabled: r.Enabled, Params: r.Params, ChannelID: r.ChannelID, Position: r.Position,
		ChangedBy: actorOf(ctx), ChangedAt: s.now()}
	if err := s.st.SaveRule(ctx, &row); err != nil {
		return RuleView{}, notFound(err, "rule %d", r.ID)
	}
	s.noteLive(liveRules)
	if err := s.reloadRules(ctx); err != nil {
		return RuleView{}, err
	}
	return s.ruleView(row), nil
}

// DeleteRule implements API.
func (s *Service) DeleteRule(ctx context.Context, id int64) error {
	if err := s.st.DeleteRule(ctx, id, actorOf(ctx), s.now()); err != nil {
		return notFound(err, "rule %d", id)
	}
	s.noteLive(liveRules)
	return s.reloadRules(ctx)
}
