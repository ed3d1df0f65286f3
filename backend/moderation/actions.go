package moderation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A rule's response to a hit. Every hit puts a queue item next to the
// message; a response other than hold also acts on the user or message
// through the service's outbox, like a moderator's action, marked "by rule
// <name>" and reversible like any other.
const (
	RespHold    = "hold"
	RespDelete  = "delete"
	RespTimeout = "timeout"
	RespBan     = "ban"
)

// Step is one response: hold, delete, ban, or a timeout of Seconds.
type Step struct {
	Do      string `json:"do"`
	Seconds int    `json:"seconds,omitempty"`
}

// String is the step as the ladder param writes it.
func (s Step) String() string {
	if s.Do == RespTimeout {
		return strconv.Itoa(s.Seconds)
	}
	return s.Do
}

// Response is what a rule does when it hits: one step, or an escalation
// ladder whose step is chosen by the user's strikes within LadderWindow
// (the step at index strikes, the last one beyond).
type Response struct {
	Step         Step          `json:"step"`
	Ladder       []Step        `json:"ladder,omitempty"`
	LadderWindow time.Duration `json:"ladderWindow,omitempty"`
	// Stop ends evaluation after this rule hits: later rules are not run.
	Stop bool `json:"stop,omitempty"`
}

// Acts reports whether the response can do more than hold.
func (r Response) Acts() bool {
	if len(r.Ladder) == 0 {
		return r.Step.Do != RespHold
	}
	for _, s := range r.Ladder {
		if s.Do != RespHold {
			return true
		}
	}
	return false
}

// StepFor returns the step for a user with the given strikes.
func (r Response) StepFor(strikes int) Step {
	if len(r.Ladder) == 0 {
		return r.Step
	}
	return r.Ladder[min(max(strikes, 0), len(r.Ladder)-1)]
}

// Response limits.
const (
	DefaultAutoTimeout = 600            // seconds
	MaxAutoTimeout     = 14 * 24 * 3600 // the longest any platform here allows; the service checks each platform's own
	MaxLadderSteps     = 8
	DefaultLadderDays  = 30
	MaxLadderDays      = 365
)

// commonParams are the params every kind takes: the response to a hit.
var commonParams = []ParamSpec{
	{Key: "action", Label: "on a hit", Default: RespHold, Type: "text", Help: "hold, delete, timeout or ban (ignored when a ladder is set)"},
	{Key: "timeout_seconds", Label: "timeout (s)", Default: strconv.Itoa(DefaultAutoTimeout), Type: "number", Help: "length of the timeout when the action is timeout"},
	{Key: "ladder", Label: "escalation ladder", Type: "list", Help: "steps by strikes, e.g. hold, 60, 600, ban (a number is a timeout in seconds)"},
	{Key: "ladder_days", Label: "strikes within (days)", Default: strconv.Itoa(DefaultLadderDays), Type: "number"},
	{Key: "stop", Label: "stop after a hit", Default: "0", Type: "flag", Help: "later rules do not run on a message this rule caught"},
	{Key: "severity", Label: "severity", Default: SeverityNormal, Type: "text", Help: "normal or high: what a high rule holds raises a desktop notification while the window is in the background (when notifications are on)"},
}

// Rule severities (the severity param).
const (
	SeverityNormal = "normal"
	SeverityHigh   = "high"
)

// HighSeverity reports whether a rule's params mark it high severity.
func HighSeverity(params map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(params["severity"]), SeverityHigh)
}

// parseResponse reads the common params.
func parseResponse(p map[string]string) (Response, error) {
	var r Response
	secs, err := intParam(p, "timeout_seconds", DefaultAutoTimeout, 1, MaxAutoTimeout)
	if err != nil {
		return r, err
	}
	switch strings.ToLower(strings.TrimSpace(p["severity"])) {
	case "", SeverityNormal, SeverityHigh:
	default:
		return r, fmt.Errorf("param severity %q must be normal or high", p["severity"])
	}
	act := strings.ToLower(strings.TrimSpace(p["action"]))
	switch act {
	case "", RespHold:
		r.Step = Step{Do: RespHold}
	case RespDelete, RespBan:
		r.Step = Step{Do: act}
	case RespTimeout:
		r.Step = Step{Do: RespTimeout, Seconds: secs}
	default:
		return r, fmt.Errorf("param action %q must be hold, delete, timeout or ban", p["action"])
	}
	if l := strings.TrimSpace(p["ladder"]); l != "" {
		for _, f := range strings.FieldsFunc(l, func(c rune) bool { return c == ',' || c == '\n' || c == '>' || c == ' ' }) {
			f = strings.ToLower(strings.TrimSpace(f))
			switch f {
			case RespHold, RespDelete, RespBan:
				r.Ladder = append(r.Ladder, Step{Do: f})
				continue
			}
			d, err := parseSeconds(f)
			if err != nil || d < 1 || d > MaxAutoTimeout {
				return r, fmt.Errorf("param ladder: step %q must be hold, delete, ban or a timeout of 1 s to 14 days (e.g. 60, 10m, 1h)", f)
			}
			r.Ladder = append(r.Ladder, Step{Do: RespTimeout, Seconds: d})
		}
		if len(r.Ladder) > MaxLadderSteps {
			return r, fmt.Errorf("param ladder has %d steps, at most %d", len(r.Ladder), MaxLadderSteps)
		}
	}
	days, err := intParam(p, "ladder_days", DefaultLadderDays, 1, MaxLadderDays)
	if err != nil {
		return r, err
	}
	if len(r.Ladder) > 0 {
		r.LadderWindow = time.Duration(days) * 24 * time.Hour
	}
	if r.Stop, err = boolParam(p, "stop", false); err != nil {
		return r, err
	}
	return r, nil
}

// parseSeconds reads a duration as plain seconds or with a unit s, m, h,
// d or w.
func parseSeconds(s string) (int, error) {
	mult := 1
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 's':
			s = s[:n-1]
		case 'm':
			mult, s = 60, s[:n-1]
		case 'h':
			mult, s = 3600, s[:n-1]
		case 'd':
			mult, s = 86400, s[:n-1]
		case 'w':
			mult, s = 7*86400, s[:n-1]
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > MaxAutoTimeout {
		return 0, fmt.Errorf("not a duration")
	}
	return v * mult, nil
}
