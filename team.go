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
	"text/tabwriter"
	"time"

	"modconsole/backend/auth"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// teamUsage lists `modconsole team`'s subcommands.
const teamUsage = `usage: modconsole team SUBCOMMAND --db URL [flags]
       modconsole team new-key PATH

subcommands:
  add-user --name NAME --role ROLE   add a user (the password is the first line of stdin)
  list-users                         list the users: name, role, state, created
  set-role --name NAME --role ROLE   change a user's role (applies to their next request)
  disable --name NAME                disable a user: their sessions end, they cannot log in
  enable --name NAME                 let a disabled user log in again
  reset-password --name NAME         set a new password (first line of stdin); their sessions end
  new-key PATH                       write a new team secret key (32 random bytes, mode 0600) for
                                     serve --secrets-key-file; never replaces a file

ROLE is lead (accounts, channels, rules, settings, team), moderator (acts) or observer (reads).`

// teamSubcommands are the subcommands of `modconsole team`.
var teamSubcommands = []string{"add-user", "list-users", "set-role", "disable", "enable", "reset-password"}

// teamUser is what a `team` subcommand is asked to do.
type teamUser struct {
	db, name, role string
}

// teamFlags defines the flags of `team SUB`: every subcommand takes --db,
// all but list-users --name, add-user and set-role --role.
func teamFlags(sub string) (*flag.FlagSet, *teamUser) {
	fs := flag.NewFlagSet("team "+sub, flag.ContinueOnError)
	u := &teamUser{}
	fs.StringVar(&u.db, "db", "", "the team's postgres:// URL (default: $"+dbEnv+")")
	if sub != "list-users" {
		fs.StringVar(&u.name, "name", "", "the user's login name (1 to 64 characters)")
	}
	if sub == "add-user" || sub == "set-role" || sub == "" {
		fs.StringVar(&u.role, "role", "", "lead (accounts, channels, rules, settings, team), moderator (acts) or observer (reads)")
	}
	return fs, u
}

// runTeam runs `modconsole team SUBCOMMAND`. Passwords are the first line of
// stdin, never an argument (an argument shows in the process list and the
// shell's history).
func runTeam(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	if sub == "new-key" {
		return runNewKey(args[1:], stdout)
	}
	known := false
	for _, s := range teamSubcommands {
		known = known || s == sub
	}
	if !known {
		return errors.New(teamUsage)
	}
	fs, u := teamFlags(sub)
	fs.SetOutput(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (a password is read from stdin, never an argument)", fs.Arg(0))
	}
	if u.db == "" {
		u.db = os.Getenv(dbEnv)
	}
	if !store.IsPostgresURL(u.db) {
		return fmt.Errorf("team %s needs --db (or %s) with the team's postgres:// URL", sub, dbEnv)
	}
	if (sub == "add-user" || sub == "set-role") && auth.ParseRole(u.role) == 0 {
		return fmt.Errorf("--role must be lead, moderator or observer, not %q", u.role)
	}
	if sub != "list-users" && u.name == "" {
		return errors.New("--name is required")
	}
	var hash string
	if sub == "add-user" || sub == "reset-password" {
		var err error
		if hash, err = readPassword(u.name, stdin, stderr); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.OpenPostgres(ctx, u.db)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add-user":
		created, err := st.CreateUser(ctx, u.name, u.role, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "modconsole: added %s (%s), user id %d\n", created.Name, created.Role, created.ID)
	case "list-users":
		us, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED")
		for _, x := range us {
			state := "active"
			if x.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Name, x.Role, state, x.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "set-role":
		if err := st.SetUserRole(ctx, u.name, u.role); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "modconsole: %s is now %s\n", u.name, u.role)
	case "disable", "enable":
		if err := st.SetUserDisabled(ctx, u.name, sub == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "modconsole: %s is %sd\n", u.name, sub)
	case "reset-password":
		if err := st.SetUserPassword(ctx, u.name, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "modconsole: new password set for %s; their sessions ended\n", u.name)
	}
	return nil
}

// readPassword reads the first line of stdin (prompting on a terminal) and
// returns its argon2id hash.
func readPassword(name string, stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(stderr, "password for %s (at least %d characters; it is echoed, so prefer a pipe): ", name, auth.MinPasswordLen)
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return auth.Hash(strings.TrimRight(line, "\r\n"), auth.DefaultParams)
}

// runNewKey runs `modconsole team new-key PATH`: a new key for the team
// secret store (serve --secrets-key-file), 32 random bytes in a file of
// mode 0600 that it never overwrites.
func runNewKey(args []string, stdout io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: modconsole team new-key PATH (writes a new 32-byte key, mode 0600; never replaces a file)")
	}
	id, err := secrets.WriteNewKey(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "modconsole: wrote a new team secret key to %s (key id %s)\n"+
		"Give every instance a copy (mode 0600 or 0400, readable by the console's user only) and pass it as serve --secrets-key-file.\n"+
		"Back it up apart from the database's backups: a dump alone opens no token, and without the key the stored tokens are lost.\n", args[0], id)
	return nil
}
