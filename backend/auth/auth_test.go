package auth

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"modconsole/backend/service"
)

// fast keeps the tests quick; the format and checks are the same.
var fast = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q: want an argon2id PHC string without the password", h)
	}
	if err := Verify(h, "correct horse battery"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := Verify(h, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v, want ErrMismatch", err)
	}
	h2, _ := Hash("correct horse battery", fast)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	// The parameters come from the hash: a DefaultParams hash verifies too.
	hd, err := Hash("another long password", DefaultParams)
	if err != nil || Verify(hd, "another long password") != nil {
		t.Fatalf("default params: %v", err)
	}
}

func TestHashRefusesShortAndVerifyRefusesMalformed(t *testing.T) {
	if _, err := Hash("short", fast); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	good, _ := Hash("a long enough password", fast)
	parts := strings.Split(good, "$")
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5], // 4 GiB: refused, not computed
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5]} {
		if err := Verify(bad, "a long enough password"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a malformed-hash error", bad, err)
		}
	}
}

func TestTokenHash(t *testing.T) {
	tok, h, err := NewToken()
	if err != nil || len(tok) != 64 || len(h) != 32 {
		t.Fatalf("NewToken = %q, %x, %v", tok, h, err)
	}
	if string(TokenHash(tok)) != string(h) || strings.Contains(string(h), tok) {
		t.Fatal("TokenHash does not match NewToken's hash")
	}
}

// TestEveryMethodHasARole keeps the role table in step with service.API.
func TestEveryMethodHasARole(t *testing.T) {
	it := reflect.TypeOf((*service.API)(nil)).Elem()
	for i := 0; i < it.NumMethod(); i++ {
		if name := it.Method(i).Name; !Classified(name) {
			t.Errorf("service.API.%s has no role in methodRoles", name)
		}
	}
	for name := range methodRoles {
		if _, ok := it.MethodByName(name); !ok {
			t.Errorf("methodRoles lists %s, which is not in service.API", name)
		}
	}
}

func TestRoles(t *testing.T) {
	for _, c := range []struct {
		r      Role
		method string
		want   bool
	}{
		{Observer, "Search", true}, {Observer, "Act", false}, {Observer, "SaveRule", false},
		{Moderator, "Act", true}, {Moderator, "SaveRule", false}, {Moderator, "SaveAccount", false},
		{Lead, "SaveRule", true}, {Lead, "Act", true}, {Moderator, "NoSuchMethod", false}, {0, "Search", false},
	} {
		if got := c.r.May(c.method); got != c.want {
			t.Errorf("%v may %s = %v, want %v", c.r, c.method, got, c.want)
		}
	}
	if ParseRole("lead") != Lead || ParseRole("admin") != 0 {
		t.Fatal("ParseRole")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if !l.Allow("ann", now) {
			t.Fatalf("attempt %d refused", i+1)
		}
		l.Failed("ann", now)
	}
	if l.Allow("ann", now) {
		t.Fatal("a 4th attempt after 3 failures was allowed")
	}
	if !l.Allow("bob", now) {
		t.Fatal("another name is limited by ann's failures")
	}
	if !l.Allow("ann", now.Add(time.Minute)) {
		t.Fatal("one attempt a minute later was refused")
	}
	l.Succeeded("ann")
	if !l.Allow("ann", now) {
		t.Fatal("a success did not clear the failures")
	}
}
