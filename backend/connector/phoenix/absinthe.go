package phoenix

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Absinthe (GraphQL over Phoenix channels) names.
const (
	ControlTopic          = "__absinthe__:control" // the topic every GraphQL document is pushed to
	EventDoc              = "doc"                  // push: {"query":…, "variables":…}
	EventUnsubscribe      = "unsubscribe"          // push: {"subscriptionId":…}
	EventSubscriptionData = "subscription:data"    // server push on topic = subscriptionId
)

// GraphQLError is one entry of a GraphQL errors array.
type GraphQLError struct {
	Message   string           `json:"message"`
	Path      []any            `json:"path,omitempty"`
	Locations []map[string]int `json:"locations,omitempty"`
}

// DocError is a document that failed: a resolver error (status "ok" with an
// errors array) or a parse/validation error (status "error", Validation set).
type DocError struct {
	Validation bool
	Errors     []GraphQLError
	Data       json.RawMessage // what data came back beside the errors, if any
}

func (e *DocError) Error() string {
	kind := "resolver error"
	if e.Validation {
		kind = "validation error"
	}
	return "phoenix: graphql " + kind + ": " + e.Message()
}

// Message joins the errors' messages, the words to show a user.
func (e *DocError) Message() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, g := range e.Errors {
		if g.Message != "" {
			msgs = append(msgs, g.Message)
		}
	}
	if len(msgs) == 0 {
		return "unknown error"
	}
	return strings.Join(msgs, "; ")
}

// DocResult is a successful reply to a doc push: Data for queries and
// mutations, SubscriptionID for subscriptions.
type DocResult struct {
	Data           json.RawMessage `json:"data,omitempty"`
	SubscriptionID string          `json:"subscriptionId,omitempty"`
}

// DecodeDocReply interprets the reply to a doc push. Resolver errors arrive
// with status "ok" and an errors array and are returned as *DocError, as are
// validation errors (status "error"). An error reply with a reason (such as
// "unmatched topic") is a *ReplyError.
func DecodeDocReply(r Reply) (DocResult, error) {
	var body struct {
		Data           json.RawMessage `json:"data"`
		Errors         []GraphQLError  `json:"errors"`
		SubscriptionID string          `json:"subscriptionId"`
		Error          string          `json:"error"`
		Reason         string          `json:"reason"`
	}
	if err := json.Unmarshal(r.Response, &body); err != nil {
		return DocResult{}, fmt.Errorf("%w: doc reply: %w", ErrMalformed, err)
	}
	if !r.OK() {
		if len(body.Errors) > 0 {
			return DocResult{}, &DocError{Validation: true, Errors: body.Errors}
		}
		reason := body.Reason
		if reason == "" {
			reason = body.Error
		}
		return DocResult{}, &ReplyError{Reason: reason}
	}
	if len(body.Errors) > 0 {
		return DocResult{}, &DocError{Errors: body.Errors, Data: body.Data}
	}
	if body.SubscriptionID == "" && len(body.Data) == 0 {
		return DocResult{}, fmt.Errorf("%w: doc reply has neither data nor subscriptionId", ErrMalformed)
	}
	return DocResult{Data: body.Data, SubscriptionID: body.SubscriptionID}, nil
}

// SubscriptionData is the payload of a subscription:data push.
type SubscriptionData struct {
	SubscriptionID string `json:"subscriptionId"`
	Result         struct {
		Data   json.RawMessage `json:"data"`
		Errors []GraphQLError  `json:"errors,omitempty"`
	} `json:"result"`
}

// DecodeSubscriptionData parses a subscription:data payload.
func DecodeSubscriptionData(payload json.RawMessage) (SubscriptionData, error) {
	var d SubscriptionData
	if err := json.Unmarshal(payload, &d); err != nil {
		return SubscriptionData{}, fmt.Errorf("%w: subscription data: %w", ErrMalformed, err)
	}
	if d.SubscriptionID == "" {
		return SubscriptionData{}, fmt.Errorf("%w: subscription data without subscriptionId", ErrMalformed)
	}
	return d, nil
}

// DocPayload builds the payload of a doc push.
func DocPayload(query string, vars map[string]any) map[string]any {
	if vars == nil {
		vars = map[string]any{}
	}
	return map[string]any{"query": query, "variables": vars}
}
