//go:build !benchhooks

package store

// discarding is always false in the product: see benchhook.go.
func discarding() bool { return false }
