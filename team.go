package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"modconsole/backend/auth"
	"modconsole/backend/store"
)

// teamUser is what `team add-user` is asked to create.
type teamUser struct {
	db, name, role string
}

// teamFlags defines the flags of `team add-user`.
func teamFlags() (*flag.FlagSet, *teamUser) {
	fs := flag.NewFlagSet("team add-user", flag.ContinueOnError)
	u := &teamUser{}
	fs.StringVar(&u.db, "db", "", "the team's postgres:// URL (default: $"+dbEnv+")")
	fs.StringVar(&u.name, "name", "", "the user's login name (1 to 64 characters)")
	fs.StringVar(&u.role, "role", "", "lead (accounts, channels, rules, settings, team), moderator (acts) or observer (reads)")
	return fs, u
}

// runTeam runs `modconsole team SUBCOMMAND`. The only subcommand is
// add-user; the password is the first line of stdin, never an argument (an
// argument shows in the process list and the shell's history).
func runTeam(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add-user" {
		return errors.New("usage: modconsole team add-user --db URL --name NAME --role lead|moderator|observer < password")
	}
	fs, u := teamFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (the password is read from stdin, never an argument)", fs.Arg(0))
	}
	if u.db == "" {
		u.db = os.Getenv(dbEnv)
	}
	if !store.IsPostgresURL(u.db) {
		return fmt.Errorf("team add-user needs --db (or %s) with the team's postgres:// URL", dbEnv)
	}
	if auth.ParseRole(u.role) == 0 {
		return fmt.Errorf("--role must be lead, moderator or observer, not %q", u.role)
	}
	if u.name == "" {
		return errors.New("--name is required")
	}
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(stderr, "password for %s (at least %d characters; it is echoed, so prefer a pipe): ", u.name, auth.MinPasswordLen)
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	hash, err := auth.Hash(password, auth.DefaultParams)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.OpenPostgres(ctx, u.db)
	if err != nil {
		return err
	}
	defer st.Close()
	created, err := st.CreateUser(ctx, u.name, u.role, hash)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "modconsole: added %s (%s), user id %d\n", created.Name, created.Role, created.ID)
	return nil
}
