package service

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/transport"
	"modconsole/backend/store"
)

// A stored secret follows the hosts it was entered for. Each connector marks
// the settings it sends credentials to (connector.Field.Endpoint); the
// account records, per stored secret, the hosts of those settings when the
// secret was entered or confirmed (store.Account.BoundHosts). While an
// endpoint points at a host outside that set, the secret is held back: the
// connection does not start, and the account view lists the secret in Held
// until the user enters it again or confirms it (AccountInput.ConfirmHosts).
// An account saved before bindings existed is bound, on its next save, to
// the hosts of the settings it had (trust on first use).

// tokenName is the name the views use for the main token in Held.
const tokenName = "token"

// endpointHosts returns the sorted, distinct hosts of p's endpoint settings
// in settings (declared defaults apply; an empty one, which falls back to
// another endpoint or to what the platform answers, is skipped).
func (s *Service) endpointHosts(p chat.Platform, settings map[string]string) []string {
	info, _ := s.platform(p)
	seen := map[string]bool{}
	var out []string
	for _, f := range info.Settings {
		if !f.Endpoint {
			continue
		}
		v := strings.TrimSpace(settings[f.Key])
		if v == "" {
			v = f.Default
		}
		if v == "" {
			continue
		}
		h := hostOf(v)
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return out
}

// hostOf is the lower-case host[:port] of raw, or raw itself (trimmed,
// lower-case) when it has none.
func hostOf(raw string) string {
	if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return strings.ToLower(strings.TrimSpace(raw))
}

// covers reports whether every host of now is in bound.
func covers(bound, now []string) bool {
	for _, h := range now {
		if !contains(bound, h) {
			return false
		}
	}
	return true
}

// heldBack lists which of the stored secrets (names; "" = the main token)
// may not be sent to a's current endpoints, and those endpoints' hosts. A
// secret without a binding is bound to the current hosts (trust on first
// use: it was stored before bindings existed).
func (s *Service) heldBack(a store.Account, stored []string) (names, hosts []string) {
	hosts = s.endpointHosts(a.Platform, a.Settings)
	for _, n := range stored {
		bound, ok := a.BoundHosts[n]
		if ok && !covers(bound, hosts) {
			names = append(names, n)
		}
	}
	return names, hosts
}

// storedNames lists the secrets held records ("" = the main token).
func storedNames(h heldSecrets) []string {
	var out []string
	if h.token {
		out = append(out, "")
	}
	out = append(out, h.names...)
	if h.oauth {
		out = append(out, oauthSecret)
	}
	return out
}

// heldBackError explains why a connection does not start.
func heldBackError(names, hosts []string) error {
	what := make([]string, len(names))
	for i, n := range names {
		what[i] = displayName(n)
	}
	return fmt.Errorf("service: the stored %s not sent: an endpoint now points at %s, which it was not entered for; enter it again or confirm it for the new host in the account's settings",
		strings.Join(what, ", "), strings.Join(hosts, ", "))
}

func displayName(n string) string {
	if n == "" {
		return tokenName
	}
	if n == oauthSecret {
		return "signed-in token"
	}
	return "secret " + n
}

// rebind computes the bindings of account a (settings already replaced by
// in's) after SaveAccount: entered secrets and, with ConfirmHosts, every
// secret are bound to the new endpoint hosts; removed ones lose their
// binding; an unbound one keeps the hosts of oldSettings (those it was
// used with so far).
func (s *Service) rebind(a *store.Account, oldSettings map[string]string, existing bool, in AccountInput) {
	now := s.endpointHosts(a.Platform, a.Settings)
	before := s.endpointHosts(a.Platform, oldSettings)
	bound := map[string][]string{}
	for k, v := range a.BoundHosts {
		bound[k] = v
	}
	set := func(name, value string, cleared bool) {
		switch {
		case value != "":
			bound[name] = now
		case cleared:
			delete(bound, name)
		case in.ConfirmHosts:
			bound[name] = now
		case existing:
			if _, ok := bound[name]; !ok {
				bound[name] = before
			}
		}
	}
	set("", in.Token, in.ClearToken)
	set(oauthSecret, "", false) // a signed-in grant: rebound only when confirmed
	for _, name := range s.secretNames(a.Platform) {
		v, given := in.Secrets[name]
		set(name, v, given && v == "")
	}
	a.BoundHosts = bound
}

// checkPlaintext refuses settings that point at a host other than this
// machine over ws: or http:, unless the account allows insecure links.
func checkPlaintext(settings map[string]string) error {
	cfg := connector.Config{Settings: settings}
	if cfg.AllowInsecure() {
		return nil
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		u, err := url.Parse(strings.TrimSpace(settings[k]))
		if err != nil || u.Host == "" {
			continue
		}
		if err := transport.CheckURL(u, false); err != nil {
			return invalid("setting %s: %s://%s is plaintext to a host other than this machine; use %s, or turn on %s (the token would travel unencrypted)",
				k, strings.ToLower(u.Scheme), u.Host, secureScheme(u.Scheme), connector.SettingAllowInsecure)
		}
	}
	return nil
}

func secureScheme(s string) string {
	if strings.EqualFold(s, "ws") {
		return "wss:"
	}
	return "https:"
}
