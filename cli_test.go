package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestHelpForEveryCommand: `--help` (and -h) after any command prints that
// command's usage with exactly the flags it accepts, on stdout, and
// succeeds; an unknown command fails.
func TestHelpForEveryCommand(t *testing.T) {
	cases := []struct {
		args    []string
		want    []string // in the output
		notWant []string
	}{
		{[]string{"--help"}, []string{"modconsole serve [flags]", "modconsole demo [flags]", "modconsole version", "-secrets"}, []string{"-addr"}},
		{[]string{"help"}, []string{"modconsole serve [flags]"}, nil},
		{[]string{"desktop", "--help"}, []string{"usage: modconsole desktop", "-data", "-secrets"}, []string{"-addr", "-traffic"}},
		{[]string{"serve", "--help"}, []string{"usage: modconsole serve", "-addr", "-allow-remote", "-no-open", "-data", "-secrets"}, []string{"-window", "-traffic"}},
		{[]string{"demo", "-h"}, []string{"usage: modconsole demo", "-addr", "-window", "-traffic", `(default "memory")`}, nil},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--help"}, []string{"usage: modconsole serve"}, nil},
		{[]string{"version", "--help"}, []string{"usage: modconsole version"}, []string{"-data"}},
		{[]string{"team", "add-user", "--help"}, []string{"usage: modconsole team SUBCOMMAND", "add-user", "list-users", "set-role", "disable", "reset-password", "new-key PATH", "-db", "-name", "-role"}, []string{"  -addr string", "  -secrets string"}},
		{[]string{"serve", "--help"}, []string{"-secrets-key-file", "team new-key"}, nil},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		if err := run(c.args, &out, &errOut); err != nil {
			t.Errorf("%v: %v", c.args, err)
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, w, out.String())
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(out.String(), w) {
				t.Errorf("%v: output has %q:\n%s", c.args, w, out.String())
			}
		}
		if errOut.Len() != 0 {
			t.Errorf("%v: wrote to stderr: %s", c.args, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"frobnicate", "--help"}, &out, &errOut); err == nil {
		t.Error("help of an unknown command succeeded")
	}
}

// TestVersion: `--version` and `version` print the build's version; a flag
// another command lacks is refused with a pointer to its help.
func TestVersion(t *testing.T) {
	old := version
	version = "1.2.3-test"
	defer func() { version = old }()
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err != nil || out.String() != "modconsole 1.2.3-test\n" {
			t.Errorf("%v: %q, %v", args, out.String(), err)
		}
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"version", "extra"}, &out, &errOut); err == nil {
		t.Error("version with an argument succeeded")
	}
	errOut.Reset()
	if err := run([]string{"desktop", "--traffic", "2"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "modconsole desktop --help") {
		t.Errorf("desktop --traffic: %v, stderr %q", err, errOut.String())
	}
}

// TestInstanceNamePerDataDir: the single-instance name differs per data
// directory (a demo window and the app can run side by side), is stable for
// the same directory, and is a valid D-Bus name.
func TestInstanceNamePerDataDir(t *testing.T) {
	a, b := instanceName("/tmp/a"), instanceName("/tmp/b")
	if a == b || a != instanceName("/tmp/a/") {
		t.Errorf("names %q %q %q", a, b, instanceName("/tmp/a/"))
	}
	valid := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)
	if !valid.MatchString(a) || len(a) > 255 {
		t.Errorf("%q is not a D-Bus well-known name", a)
	}
}
