package bench

import (
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// Connectors log through the default logger; keep the benchmark output
	// to the figures.
	slog.SetDefault(quiet)
	os.Exit(m.Run())
}
