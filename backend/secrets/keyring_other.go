//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package secrets

// busProblem has nothing to check outside the Secret Service platforms.
func busProblem() error { return nil }

// mapPlatformError has no platform errors to map here.
func mapPlatformError(error) error { return nil }
