package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"modconsole/backend/auth"
	"modconsole/backend/chat"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// TestTeamAddUser: `team add-user` reads the password from stdin, stores an
// argon2id hash of it (never the password) under the name and role, and
// refuses a password given as an argument, a bad role, a short password, a
// missing --db and a second user of the same name.
func TestTeamAddUser(t *testing.T) {
	url := pgtest.Database(t)
	t.Setenv(dbEnv, "")
	const pw = "first lead's password"
	var out bytes.Buffer
	if err := runTeam([]string{"add-user", "--db", url, "--name", "ann", "--role", "lead"}, strings.NewReader(pw+"\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "added ann (lead)") {
		t.Fatalf("output %q", out.String())
	}
	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"add-user", "--db", url, "--name", "bob", "--role", "moderator", "hunter2hunter2"}, pw, "never an argument"},
		{[]string{"add-user", "--db", url, "--name", "bob", "--role", "admin"}, pw, "--role"},
		{[]string{"add-user", "--db", url, "--name", "bob", "--role", "observer"}, "short\n", "at least"},
		{[]string{"add-user", "--name", "bob", "--role", "observer"}, pw, "--db"},
		{[]string{"add-user", "--db", url, "--name", "ann", "--role", "observer"}, pw, "already exists"},
		{[]string{"add-users"}, pw, "usage"},
	} {
		err := runTeam(c.args, strings.NewReader(c.stdin), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("team %v: %v, want an error with %q", c.args, err, c.want)
		}
	}
	st, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByName(context.Background(), "ann")
	if err != nil || u.Role != "lead" {
		t.Fatalf("ann: %+v, %v", u, err)
	}
	if strings.Contains(u.PWHash, pw) || auth.Verify(u.PWHash, pw) != nil || auth.Verify(u.PWHash, pw+"\n") == nil {
		t.Fatalf("stored hash %q does not verify the password (without its newline) or holds it", u.PWHash)
	}
	if n, _ := st.CountUsers(context.Background()); n != 1 {
		t.Fatalf("%d users, want 1 (the refused ones must not be stored)", n)
	}
}

// TestServeTeamMode runs the real binary: `team add-user` with the password
// piped in, `team new-key`, then `serve --db --secrets-key-file`, which
// prints the login URL instead of a token URL; a logged-out call gets 401,
// the observer's login reads but gets 403 on an action, the lead's login
// acts on rules and saves an account whose token lands sealed in the team
// secret store (the Overview says "team"; the key file opens it; no table
// holds it in clear). A serve with another key, and a serve --db with no
// secret store chosen, refuse to start and say why.
func TestServeTeamMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dbURL := pgtest.Database(t)
	bin := buildConsole(t)
	const pw = "the team's long password"
	for _, u := range [][2]string{{"lea", "lead"}, {"obi", "observer"}} {
		cmd := exec.Command(bin, "team", "add-user", "--db", dbURL, "--name", u[0], "--role", u[1])
		cmd.Stdin = strings.NewReader(pw + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("team add-user %s: %v\n%s", u[0], err, out)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "team.key")
	if out, err := exec.Command(bin, "team", "new-key", keyFile).CombinedOutput(); err != nil || !strings.Contains(string(out), "key id") {
		t.Fatalf("team new-key: %v\n%s", err, out)
	}
	base := startTeamServe(t, bin, dbURL, "--secrets-key-file", keyFile)
	post := func(hc *http.Client, path, body string) int {
		t.Helper()
		resp, err := hc.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	anon := &http.Client{Timeout: 10 * time.Second}
	if st := post(anon, "/api/Overview", "[]"); st != http.StatusUnauthorized {
		t.Fatalf("logged out: %d, want 401", st)
	}
	client := func(name string) *http.Client {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		if st := post(hc, "/auth/login", `{"name":"`+name+`","password":"`+pw+`"}`); st != http.StatusOK {
			t.Fatalf("login %s: %d", name, st)
		}
		return hc
	}
	obi, lea := client("obi"), client("lea")
	if st := post(obi, "/api/Overview", "[]"); st != http.StatusOK {
		t.Fatalf("observer reads: %d, want 200", st)
	}
	if st := post(obi, "/api/Act", `[{}]`); st != http.StatusForbidden {
		t.Fatalf("observer acts: %d, want 403", st)
	}
	if st := post(lea, "/api/SaveRule", `[{}]`); st == http.StatusForbidden || st == http.StatusUnauthorized {
		t.Fatalf("lead saves a rule: %d, want past the role check", st)
	}
	checkTeamSecretStore(t, bin, base, lea, dbURL, keyFile)
}

// checkTeamSecretStore: the lead saves an account with a token and a
// further secret through the running serve; both are sealed in the team
// secret store under the key file, and nothing in the database holds them
// in clear. Then serve refuses another key and a team mode without a store.
func checkTeamSecretStore(t *testing.T, bin, base string, lea *http.Client, dbURL, keyFile string) {
	t.Helper()
	const token, bot = "team-token-7c1e9a5b3d", "bridge-secret-4f2a8e6c"
	call := func(method, body string, out any) {
		t.Helper()
		resp, err := lea.Post(base+"/api/"+method, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", method, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v in %s", method, err, b)
		}
	}
	var acct struct {
		ID       int64 `json:"id"`
		HasToken bool  `json:"hasToken"`
	}
	call("SaveAccount", `[{"platform":"velora","name":"team account","settings":{"url":"http://127.0.0.1:9"},"token":"`+token+`","secrets":{"streamerbot":"`+bot+`"}}]`, &acct)
	if acct.ID == 0 || !acct.HasToken {
		t.Fatalf("SaveAccount answered %+v", acct)
	}
	var ov struct {
		Keyring struct {
			OK      bool   `json:"ok"`
			Kind    string `json:"kind"`
			Backend string `json:"backend"`
		} `json:"keyring"`
	}
	call("Overview", "[]", &ov)
	key, err := secrets.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !ov.Keyring.OK || ov.Keyring.Kind != "team" || !strings.Contains(ov.Keyring.Backend, "team secret store") || !strings.Contains(ov.Keyring.Backend, secrets.KeyID(key)) {
		t.Fatalf("Overview's secret store: %+v", ov.Keyring)
	}
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sec, err := secrets.OpenSealed(ctx, st, key)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := sec.Get(secrets.Key(chat.Velora, acct.ID, "")); err != nil || v != token {
		t.Fatalf("the token in the team secret store: %q, %v", v, err)
	}
	if v, err := sec.Get(secrets.Key(chat.Velora, acct.ID, "streamerbot")); err != nil || v != bot {
		t.Fatalf("the bridge secret in the team secret store: %q, %v", v, err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables []string
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var dump strings.Builder
	for _, tbl := range tables {
		var s *string
		if err := conn.QueryRow(ctx, `SELECT string_agg(x::text, E'\n') FROM `+tbl+` x`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s != nil {
			dump.WriteString(*s)
		}
	}
	if !strings.Contains(dump.String(), secrets.Key(chat.Velora, acct.ID, "streamerbot")) {
		t.Fatalf("no team secret row in the scanned tables %v", tables)
	}
	for _, s := range []string{token, bot, hex.EncodeToString([]byte(token)), hex.EncodeToString([]byte(bot)), hex.EncodeToString(key)} {
		if strings.Contains(dump.String(), s) {
			t.Fatalf("the database holds %q in clear", s)
		}
	}

	// Another key, and team mode with no secret store chosen: refused.
	other := filepath.Join(t.TempDir(), "other.key")
	if out, err := exec.Command(bin, "team", "new-key", other).CombinedOutput(); err != nil {
		t.Fatalf("team new-key: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--secrets-key-file", other}, "this database's secrets were sealed with another key"},
		{nil, "--secrets-key-file"},
	} {
		cmd := exec.Command(bin, append([]string{"serve", "--no-open", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", dbURL}, c.args...)...)
		cmd.Env = append(os.Environ(), dbEnv+"=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("serve %v: %v, want a refusal with %q:\n%s", c.args, err, c.want, out)
		}
	}
}

// startTeamServe starts `modconsole serve --db dbURL` with args (default:
// --secrets memory), killed at the end of the test, checks that it prints
// the login URL and no token, and returns its base URL.
func startTeamServe(t *testing.T, bin, dbURL string, args ...string) string {
	t.Helper()
	if len(args) == 0 {
		args = []string{"--secrets", "memory"}
	}
	cmd := exec.Command(bin, append([]string{"serve", "--no-open", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--db", dbURL}, args...)...)
	cmd.Env = append(os.Environ(), dbEnv+"=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "token=") {
				urls <- "TOKEN " + sc.Text()
			}
			if _, u, ok := strings.Cut(sc.Text(), "team mode: log in at "); ok {
				urls <- strings.TrimSpace(u)
			}
		}
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGKILL); <-done })
	var loginURL string
	select {
	case loginURL = <-urls:
	case <-done:
		t.Fatal("serve exited before serving")
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not print its login URL within 60 s")
	}
	if !strings.HasSuffix(loginURL, "/auth/login") {
		t.Fatalf("serve printed %q, want the login URL (and no token)", loginURL)
	}
	return strings.TrimSuffix(loginURL, "/auth/login")
}

// TestTeamAdmin runs the real binary: list-users shows the users with their
// role and state; set-role applies to a logged-in user's next request;
// disable ends the user's session at once (their next request is 401) and
// refuses their login until enable; reset-password (from stdin) ends the
// sessions and replaces the password. Unknown users and bad roles are refused.
func TestTeamAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dbURL := pgtest.Database(t)
	bin := buildConsole(t)
	team := func(stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"team"}, args...)...)
		cmd.Env = append(os.Environ(), dbEnv+"="+dbURL)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	const pw, pw2 = "the team's long password", "bo's brand new password"
	for _, u := range [][2]string{{"lea", "lead"}, {"bo", "moderator"}} {
		if out, err := team(pw+"\n", "add-user", "--name", u[0], "--role", u[1]); err != nil {
			t.Fatalf("add-user %s: %v\n%s", u[0], err, out)
		}
	}
	base := startTeamServe(t, bin, dbURL)
	post := func(hc *http.Client, path, body string) int {
		t.Helper()
		resp, err := hc.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	login := func(name, password string) (*http.Client, int) {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		return hc, post(hc, "/auth/login", `{"name":"`+name+`","password":"`+password+`"}`)
	}
	bo, st := login("bo", pw)
	if st != http.StatusOK {
		t.Fatalf("bo logs in: %d", st)
	}
	// A moderator gets past the role check of Act (the empty action is then refused as invalid).
	if st := post(bo, "/api/Act", `[{}]`); st == http.StatusForbidden || st == http.StatusUnauthorized {
		t.Fatalf("moderator acts: %d, want past the role check", st)
	}

	out, err := team("", "list-users")
	if err != nil {
		t.Fatalf("list-users: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		strings.Join(strings.Fields(lines[1])[:3], " ") != "bo moderator active" ||
		strings.Join(strings.Fields(lines[2])[:3], " ") != "lea lead active" {
		t.Fatalf("list-users:\n%s", out)
	}

	if out, err := team("", "set-role", "--name", "bo", "--role", "observer"); err != nil || !strings.Contains(out, "bo is now observer") {
		t.Fatalf("set-role: %v\n%s", err, out)
	}
	if st := post(bo, "/api/Act", `[{}]`); st != http.StatusForbidden {
		t.Fatalf("bo acts after becoming an observer: %d, want 403", st)
	}
	if st := post(bo, "/api/Overview", `[]`); st != http.StatusOK {
		t.Fatalf("bo reads as an observer: %d, want 200 (the session stays)", st)
	}

	if out, err := team("", "disable", "--name", "bo"); err != nil || !strings.Contains(out, "bo is disabled") {
		t.Fatalf("disable: %v\n%s", err, out)
	}
	if st := post(bo, "/api/Overview", `[]`); st != http.StatusUnauthorized {
		t.Fatalf("a disabled user's next request: %d, want 401", st)
	}
	if _, st := login("bo", pw); st != http.StatusUnauthorized {
		t.Fatalf("a disabled user logs in: %d, want 401", st)
	}
	if out, _ := team("", "list-users"); !strings.Contains(out, "disabled") {
		t.Fatalf("list-users does not show bo disabled:\n%s", out)
	}
	if out, err := team("", "enable", "--name", "bo"); err != nil {
		t.Fatalf("enable: %v\n%s", err, out)
	}
	bo, st = login("bo", pw)
	if st != http.StatusOK {
		t.Fatalf("bo logs in after enable: %d", st)
	}

	if out, err := team(pw2+"\n", "reset-password", "--name", "bo"); err != nil || !strings.Contains(out, "sessions ended") {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	if st := post(bo, "/api/Overview", `[]`); st != http.StatusUnauthorized {
		t.Fatalf("a session after a password reset: %d, want 401", st)
	}
	if _, st := login("bo", pw); st != http.StatusUnauthorized {
		t.Fatalf("the old password: %d, want 401", st)
	}
	if _, st := login("bo", pw2); st != http.StatusOK {
		t.Fatalf("the new password: %d, want 200", st)
	}

	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"set-role", "--name", "nobody", "--role", "lead"}, "not found"},
		{"", []string{"set-role", "--name", "bo", "--role", "admin"}, "--role"},
		{"", []string{"disable"}, "--name"},
		{"", []string{"disable", "--name", "nobody"}, "not found"},
		{"short\n", []string{"reset-password", "--name", "bo"}, "at least"},
		{pw2 + "\n", []string{"reset-password", "--name", "bo", pw2}, "never an argument"},
		{"", []string{"remove-user", "--name", "bo"}, "usage"},
	} {
		out, err := team(c.stdin, c.args...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("team %v: %v, want an error with %q:\n%s", c.args, err, c.want, out)
		}
	}
}
