package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

const testHash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"

// TestUsersAndSessions: on PostgreSQL users are created once per name with a
// valid role and an argon2id hash, sessions are found by their token hash
// until they expire or are deleted; on SQLite every method says users need
// team mode.
func TestUsersAndSessions(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if !s.pg {
		if _, err := s.CreateUser(ctx, "ann", "lead", testHash); !errors.Is(err, ErrNoUsers) {
			t.Fatalf("CreateUser on SQLite: %v, want ErrNoUsers", err)
		}
		if _, err := s.SessionUser(ctx, make([]byte, 32)); !errors.Is(err, ErrNoUsers) {
			t.Fatalf("SessionUser on SQLite: %v, want ErrNoUsers", err)
		}
		return
	}
	ann, err := s.CreateUser(ctx, "ann", "lead", testHash)
	if err != nil || ann.ID == 0 {
		t.Fatalf("CreateUser: %+v, %v", ann, err)
	}
	if _, err := s.CreateUser(ctx, "ann", "observer", testHash); !errors.Is(err, ErrExists) {
		t.Fatalf("second ann: %v, want ErrExists", err)
	}
	for _, bad := range [][3]string{{"", "lead", testHash}, {"bob", "admin", testHash}, {"bob", "lead", "hunter2"},
		{"bo\nb", "lead", testHash}, {"rule:caps", "lead", testHash}, {strings.Repeat("x", 65), "lead", testHash}} {
		if _, err := s.CreateUser(ctx, bad[0], bad[1], bad[2]); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateUser%q: %v, want ErrInvalid", bad, err)
		}
	}
	got, err := s.UserByName(ctx, "ann")
	if err != nil || got.ID != ann.ID || got.Role != "lead" || got.PWHash != testHash {
		t.Fatalf("UserByName: %+v, %v", got, err)
	}
	if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UserByName(nobody): %v", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
	live, old := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
	if err := s.CreateSession(ctx, live, ann.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, old, ann.ID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if u, err := s.SessionUser(ctx, live); err != nil || u.Name != "ann" {
		t.Fatalf("SessionUser(live): %+v, %v", u, err)
	}
	if _, err := s.SessionUser(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, live); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: %v, want ErrNotFound", err)
	}
}

// TestUserAdministration: users are listed by name; a role change keeps the
// sessions and applies at once; disabling ends the user's sessions and they
// stay ended (a new one is not found either) until enabled; a new password
// hash ends the sessions too; unknown names and bad values are refused.
func TestUserAdministration(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if !s.pg {
		if _, err := s.ListUsers(ctx); !errors.Is(err, ErrNoUsers) {
			t.Fatalf("ListUsers on SQLite: %v, want ErrNoUsers", err)
		}
		if err := s.SetUserDisabled(ctx, "ann", true); !errors.Is(err, ErrNoUsers) {
			t.Fatalf("SetUserDisabled on SQLite: %v, want ErrNoUsers", err)
		}
		return
	}
	bo, err := s.CreateUser(ctx, "bo", "moderator", testHash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "ann", "lead", testHash); err != nil {
		t.Fatal(err)
	}
	us, err := s.ListUsers(ctx)
	if err != nil || len(us) != 2 || us[0].Name != "ann" || us[1].Name != "bo" || us[1].Role != "moderator" {
		t.Fatalf("ListUsers: %+v, %v", us, err)
	}
	tok := []byte("0123456789abcdef0123456789abcdef")
	if err := s.CreateSession(ctx, tok, bo.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserRole(ctx, "bo", "observer"); err != nil {
		t.Fatal(err)
	}
	if u, err := s.SessionUser(ctx, tok); err != nil || u.Role != "observer" {
		t.Fatalf("session after the role change: %+v, %v (want it kept, role observer)", u, err)
	}
	if err := s.SetUserRole(ctx, "bo", "admin"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("role admin: %v, want ErrInvalid", err)
	}
	if err := s.SetUserRole(ctx, "nobody", "lead"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("role of nobody: %v, want ErrNotFound", err)
	}
	if err := s.SetUserDisabled(ctx, "bo", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session of a disabled user: %v, want ErrNotFound", err)
	}
	if u, _ := s.UserByName(ctx, "bo"); !u.Disabled {
		t.Fatal("bo is not disabled")
	}
	if err := s.SetUserDisabled(ctx, "bo", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the session ended by disabling came back on enabling: %v", err)
	}
	if err := s.CreateSession(ctx, tok, bo.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	newHash := strings.Replace(testHash, "a2V5", "b2V5", 1)
	if err := s.SetUserPassword(ctx, "bo", newHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session after a password reset: %v, want ErrNotFound", err)
	}
	if u, _ := s.UserByName(ctx, "bo"); u.PWHash != newHash {
		t.Fatalf("hash %q, want the new one", u.PWHash)
	}
	if err := s.SetUserPassword(ctx, "bo", "plain"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a non-argon2id hash: %v, want ErrInvalid", err)
	}
	if err := s.SetUserDisabled(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable nobody: %v, want ErrNotFound", err)
	}
}
