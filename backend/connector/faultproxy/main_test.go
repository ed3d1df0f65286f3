package faultproxy_test

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain silences the connectors' default logger: every fault makes them
// log a reconnect, which would bury the figures the tests report.
func TestMain(m *testing.M) {
	slog.SetDefault(quiet)
	os.Exit(m.Run())
}
