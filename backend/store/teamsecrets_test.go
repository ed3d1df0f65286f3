package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// TestTeamSecretRows: on PostgreSQL the first key id recorded stays (a
// second one is answered with the first), sealed values are stored,
// replaced, read and deleted by name, and empty or oversized values are
// refused; on SQLite every method says the team secret store needs team mode.
func TestTeamSecretRows(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if !s.pg {
		if _, err := s.RecordSecretsKeyID(ctx, "abc"); !errors.Is(err, ErrNoTeamSecrets) {
			t.Fatalf("RecordSecretsKeyID on SQLite: %v", err)
		}
		if _, _, err := s.TeamSecret(ctx, "velora:1"); !errors.Is(err, ErrNoTeamSecrets) {
			t.Fatalf("TeamSecret on SQLite: %v", err)
		}
		if err := s.PutTeamSecret(ctx, "velora:1", []byte{1}); !errors.Is(err, ErrNoTeamSecrets) {
			t.Fatalf("PutTeamSecret on SQLite: %v", err)
		}
		if _, err := s.DeleteTeamSecret(ctx, "velora:1"); !errors.Is(err, ErrNoTeamSecrets) {
			t.Fatalf("DeleteTeamSecret on SQLite: %v", err)
		}
		return
	}
	if id, err := s.RecordSecretsKeyID(ctx, "0011223344556677"); err != nil || id != "0011223344556677" {
		t.Fatalf("first RecordSecretsKeyID = %q, %v", id, err)
	}
	if id, err := s.RecordSecretsKeyID(ctx, "8899aabbccddeeff"); err != nil || id != "0011223344556677" {
		t.Fatalf("second RecordSecretsKeyID = %q, %v (want the first id kept)", id, err)
	}
	if _, found, err := s.TeamSecret(ctx, "velora:1"); found || err != nil {
		t.Fatalf("TeamSecret of nothing: %v, %v", found, err)
	}
	for _, v := range [][]byte{{1, 0, 2, 0xff}, {3, 4}} {
		if err := s.PutTeamSecret(ctx, "velora:1", v); err != nil {
			t.Fatal(err)
		}
		if got, found, err := s.TeamSecret(ctx, "velora:1"); !found || err != nil || !bytes.Equal(got, v) {
			t.Fatalf("TeamSecret = %x, %v, %v; want %x", got, found, err, v)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, maxSealed+1)} {
		if err := s.PutTeamSecret(ctx, "velora:2", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutTeamSecret of %d bytes: %v", len(bad), err)
		}
	}
	if del, err := s.DeleteTeamSecret(ctx, "velora:1"); !del || err != nil {
		t.Fatalf("DeleteTeamSecret = %v, %v", del, err)
	}
	if del, err := s.DeleteTeamSecret(ctx, "velora:1"); del || err != nil {
		t.Fatalf("second DeleteTeamSecret = %v, %v", del, err)
	}
}
