package store

import (
	"encoding/json"
	"fmt"
)

// marshal encodes v for a JSON column.
func marshal(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode %s: %w", what, err)
	}
	return string(b), nil
}

// marshalOrNull encodes v, or returns nil (SQL NULL) when isNil.
func marshalOrNull(what string, v any, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	return marshal(what, v)
}

// unmarshal decodes a JSON column into v, naming the row on error. An empty
// or NULL column leaves v untouched.
func unmarshal(what string, id any, data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: %s %v: invalid stored JSON: %w", what, id, err)
	}
	return nil
}
