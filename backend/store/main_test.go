package store

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	code := m.Run()
	if searchDB.dir != "" {
		os.RemoveAll(searchDB.dir)
	}
	os.Exit(code)
}
