package service

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// PlatformInfo tells the accounts screen how to sign in to a platform: what
// its token is, which extra secrets it takes and which settings it reads.
// Secret values never come back; only their names are listed here. It is
// built from what each connector declares (connector.Info, its package's
// Describe), passed in Options.Platforms.
type PlatformInfo struct {
	Platform   chat.Platform `json:"platform"`
	Label      string        `json:"label"`
	TokenLabel string        `json:"tokenLabel"` // empty: the platform takes no main token
	Secrets    []FieldInfo   `json:"secrets,omitempty"`
	Settings   []FieldInfo   `json:"settings"`
	// OAuth is set when the platform signs in through the browser: its
	// default endpoints, the scopes asked, what each action needs.
	OAuth *connector.OAuth `json:"oauth,omitempty"`
}

// FieldInfo describes one setting or secret, as the connector declares it:
// key, label, default, whether it is required and whether it is an endpoint
// whose host binds the account's secrets.
type FieldInfo = connector.Field

// platformInfoOf turns a connector's declaration into the accounts screen's.
func platformInfoOf(i connector.Info) PlatformInfo {
	p := PlatformInfo{Platform: i.Platform, Label: i.Name, TokenLabel: i.TokenLabel,
		Secrets: append([]FieldInfo(nil), i.Secrets...), Settings: append([]FieldInfo{}, i.Settings...), OAuth: i.OAuth}
	if p.Label == "" {
		p.Label = string(i.Platform)
	}
	return p
}

// platforms returns the declarations of every platform, in Options order.
func (s *Service) platforms() []PlatformInfo {
	out := make([]PlatformInfo, 0, len(s.opts.Platforms))
	for _, i := range s.opts.Platforms {
		out = append(out, platformInfoOf(i))
	}
	return out
}

// platform returns p's declaration; ok is false when none was given.
func (s *Service) platform(p chat.Platform) (connector.Info, bool) {
	for _, i := range s.opts.Platforms {
		if i.Platform == p {
			return i, true
		}
	}
	return connector.Info{}, false
}

// secretNames lists the extra named secrets p's accounts may hold.
func (s *Service) secretNames(p chat.Platform) []string {
	i, _ := s.platform(p)
	names := make([]string, len(i.Secrets))
	for k, f := range i.Secrets {
		names[k] = f.Key
	}
	return names
}
