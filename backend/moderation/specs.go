package moderation

// KindSpec describes a rule kind for the rules screen: its label, what it
// does, and its params. It is the one list of what each kind accepts;
// validation refuses any other param.
type KindSpec struct {
	Kind   RuleKind    `json:"kind"`
	Label  string      `json:"label"`
	Help   string      `json:"help"`
	Params []ParamSpec `json:"params"`
}

// ParamSpec describes one rule param.
type ParamSpec struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Default string `json:"default,omitempty"`
	// Type is text, number, flag (1 or 0) or list (comma-separated).
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Help     string `json:"help,omitempty"`
}

// flag params shared by kinds.
var (
	matchNameParam = ParamSpec{Key: "match_name", Label: "also match names", Default: "0", Type: "flag", Help: "also check the username and display name"}
)

// KindSpecs lists every rule kind in display order, each kind's own params
// followed by the common ones (the response to a hit).
var KindSpecs = withCommon([]KindSpec{
	{KindBlockedTerm, "Blocked term", "Words or phrases, matched after folding look-alike letters, invisible characters and full-width forms.", []ParamSpec{
		{Key: "terms", Label: "terms", Type: "list", Required: true, Help: "comma- or newline-separated words or phrases"},
		{Key: "whole_word", Label: "whole words only", Default: "1", Type: "flag"},
		{Key: "collapse_repeats", Label: "collapse repeated letters", Default: "0", Type: "flag", Help: `"spaaaam" matches "spam"`},
		matchNameParam,
	}},
	{KindBlockedRegex, "Blocked pattern", "A regular expression (RE2 syntax; (?i) for any case).", []ParamSpec{
		{Key: "pattern", Label: "pattern", Type: "text", Required: true},
		{Key: "normalized", Label: "match the folded text", Default: "0", Type: "flag", Help: "match after folding look-alikes and case, instead of the raw text"},
		matchNameParam,
	}},
	{KindLinks, "Links", "Any link not on the allow list (a domain allows its subdomains).", []ParamSpec{
		{Key: "allow", Label: "allowed domains", Type: "list", Help: "e.g. youtube.com, clips.example"},
		{Key: "strict", Label: "only links with a scheme", Default: "0", Type: "flag", Help: "ignore bare names like readme.md"},
		{Key: "obfuscated", Label: "catch hidden links", Default: "0", Type: "flag", Help: `"evil[.]com", "evil dot com", "hxxp://"`},
	}},
	{KindCaps, "Caps", "Mostly capital letters.", []ParamSpec{
		{Key: "ratio", Label: "ratio", Default: "0.7", Type: "number"},
		{Key: "min_letters", Label: "min letters", Default: "10", Type: "number"},
	}},
	{KindRepeat, "Repeat", "The same user sends the same text again and again.", []ParamSpec{
		{Key: "count", Label: "repeats", Default: "3", Type: "number"},
		{Key: "window_seconds", Label: "window (s)", Default: "30", Type: "number"},
	}},
	{KindFirstTime, "First-time chatter", "A user's first message in the channel (no platform here sends account age).", nil},
	{KindSymbols, "Symbols", "Mostly symbols and punctuation (emotes not counted).", []ParamSpec{
		{Key: "ratio", Label: "ratio", Default: "0.5", Type: "number"},
		{Key: "min_chars", Label: "min characters", Default: "10", Type: "number"},
	}},
	{KindEmoteFlood, "Emote flood", "More emotes than allowed (counted where the platform sends emote tokens: Kick and Glimesh).", []ParamSpec{
		{Key: "max", Label: "most emotes", Default: "8", Type: "number"},
	}},
	{KindMentionFlood, "Mention flood", "More @mentions than allowed.", []ParamSpec{
		{Key: "max", Label: "most mentions", Default: "5", Type: "number"},
	}},
	{KindRate, "Message rate", "One user sends too many messages too fast.", []ParamSpec{
		{Key: "count", Label: "messages", Default: "6", Type: "number"},
		{Key: "window_seconds", Label: "window (s)", Default: "10", Type: "number"},
	}},
	{KindCopyPaste, "Copy-paste raid", "The same text from several users within seconds, across channels.", []ParamSpec{
		{Key: "users", Label: "users", Default: "4", Type: "number"},
		{Key: "window_seconds", Label: "window (s)", Default: "30", Type: "number"},
		{Key: "min_length", Label: "min length", Default: "12", Type: "number"},
	}},
	{KindLength, "Message length", "Longer messages than allowed.", []ParamSpec{
		{Key: "max", Label: "most characters", Default: "400", Type: "number"},
	}},
	{KindNamePattern, "Name pattern", "Usernames or display names with terms or matching a pattern.", []ParamSpec{
		{Key: "terms", Label: "terms in names", Type: "list"},
		{Key: "pattern", Label: "name pattern", Type: "text"},
	}},
})

// allowedParams lists the Params each kind accepts, from KindSpecs.
var allowedParams = func() map[RuleKind][]string {
	m := make(map[RuleKind][]string, len(KindSpecs))
	for _, k := range KindSpecs {
		keys := []string{}
		for _, p := range k.Params {
			keys = append(keys, p.Key)
		}
		m[k.Kind] = keys
	}
	return m
}()

// withCommon appends the common params to every kind's.
func withCommon(specs []KindSpec) []KindSpec {
	for i := range specs {
		specs[i].Params = append(specs[i].Params[:len(specs[i].Params):len(specs[i].Params)], commonParams...)
	}
	return specs
}
