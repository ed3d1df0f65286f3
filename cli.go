package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// commands lists the subcommands with a line of help each, in the order
// `modconsole --help` shows them. "" is the desktop window.
var commands = []struct{ name, args, help string }{
	{"", "[flags]", "open the desktop window (also: modconsole desktop)"},
	{"serve", "[flags]", "browser mode: serve the UI on this machine and print its URL"},
	{"demo", "[flags]", "simulated platforms, demo accounts and channels; browser mode, or the window with --window"},
	{"team", "add-user|list-users|set-role|disable|enable|reset-password|new-key …", "team mode: manage the users (passwords read from stdin); make a secrets key"},
	{"version", "", "print the version (also: modconsole --version)"},
}

// flagSet defines the flags of cmd ("" or "desktop", "serve", "demo") on a
// new FlagSet; parsing fills the returned config. Each command has only the
// flags it uses.
func flagSet(cmd, defSecrets string) (*flag.FlagSet, *config) {
	name := cmd
	if name == "" {
		name = "desktop"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := &config{addr: "127.0.0.1:0", traffic: 1}
	fs.StringVar(&c.data, "data", "", "data directory (default: $XDG_DATA_HOME/modconsole or ~/.local/share/modconsole; demo: …/demo)")
	fs.StringVar(&c.secrets, "secrets", defSecrets, "where tokens live: keyring (the OS keyring) or memory (this run only, shown in the UI)")
	if name == "serve" || name == "demo" {
		fs.StringVar(&c.addr, "addr", "127.0.0.1:0", "listen address of browser mode (a free port by default); loopback only unless --allow-remote")
		fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback --addr (plain HTTP: anyone on the network path can read the session token and the chat)")
		fs.BoolVar(&c.noOpen, "no-open", false, "do not open a browser")
	}
	if name == "serve" || name == "demo" {
		fs.StringVar(&c.db, "db", "", "a postgres:// URL: keep the console's data in that PostgreSQL database (team mode; serve reads $"+dbEnv+" when it is not given; default: SQLite in --data)")
	}
	if name == "serve" {
		fs.StringVar(&c.publicURL, "public-url", "", "behind a reverse proxy: the URL browsers use, e.g. https://console.example.com (its host is accepted besides --addr's; https marks the session cookie Secure; give every instance behind the proxy the same URL)")
		fs.StringVar(&c.keyFile, "secrets-key-file", "", "team mode: keep the platform tokens in the team secret store, sealed in the --db database with the 32-byte key file at `PATH` (make it with modconsole team new-key PATH; every instance needs a copy, mode 0600 or 0400)")
	}
	if name == "desktop" || name == "demo" {
		fs.BoolVar(&c.testDebug, "test-debug", false, "tests only: serve the window's state on 127.0.0.1 (address and token printed)")
	}
	if name == "demo" {
		fs.BoolVar(&c.window, "window", false, "open the desktop window instead of browser mode")
		fs.Float64Var(&c.traffic, "traffic", 1, "multiply the simulated chat rates (about 14 msg/s in all at 1)")
		fs.IntVar(&c.channels, "channels", 0, "run `N` channels in all (at least the demo's 13): the extra ones spread evenly over the five simulated platforms (at most 10 on Kichat, whose channel lookups are limited to 100 a minute), 1 msg/s each at --traffic 1; default data directory …/demo-Nch")
		fs.BoolVar(&c.simsProcess, "sims-process", false, "run the five simulators in a child process (this binary, hidden command "+simsCommand+", with --traffic and --channels) instead of in this one, so that this process's memory and CPU are the console's alone (the P4 benchmark); the child hands over its URLs and the demo accounts' tokens on a pipe, never a file, and ends with this process. Everything else is as without it")
	}
	return fs, c
}

// wantsHelp reports whether args ask for help (-h, -help, --help).
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// commandHelp prints the help of cmd ("" or "help": every command) to w.
func commandHelp(cmd string, w io.Writer) error {
	if cmd == "help" {
		cmd = ""
	}
	var line string
	for _, c := range commands {
		if c.name == cmd || (cmd == "desktop" && c.name == "") {
			line = c.help
		}
	}
	if line == "" {
		usage(w)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if cmd == "" {
		usage(w)
	}
	if cmd == "version" {
		fmt.Fprintf(w, "usage: modconsole version\n\n%s\n", line)
		return nil
	}
	if cmd == "team" {
		fmt.Fprintf(w, "%s\n\nflags:\n", teamUsage)
		fs, _ := teamFlags("")
		fs.SetOutput(w)
		fs.PrintDefaults()
		return nil
	}
	fs, _ := flagSet(cmd, map[bool]string{true: "memory", false: "keyring"}[cmd == "demo"])
	name := strings.TrimSpace("modconsole " + cmd)
	if cmd == "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "flags of the desktop window:")
	} else {
		fmt.Fprintf(w, "usage: %s [flags]\n\n%s\n\nflags:\n", name, line)
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	return nil
}
