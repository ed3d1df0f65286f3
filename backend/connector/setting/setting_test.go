package setting

import (
	"testing"
	"time"
)

func TestString(t *testing.T) {
	m := map[string]string{"a": "  x ", "blank": "   "}
	for _, c := range []struct{ key, want string }{{"a", "x"}, {"blank", "def"}, {"missing", "def"}} {
		if got := String(m, c.key, "def"); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.key, got, c.want)
		}
	}
}

func TestDuration(t *testing.T) {
	cases := []struct {
		in   string
		max  time.Duration
		want time.Duration
		bad  bool
	}{
		{"", 0, 7 * time.Second, false},
		{"1.5", 0, 1500 * time.Millisecond, false},
		{" 250ms ", 0, 250 * time.Millisecond, false},
		{"0", 0, 0, true},
		{"-1", 0, 0, true},
		{"-1s", 0, 0, true},
		{"soon", 0, 0, true},
		{"86400", 24 * time.Hour, 24 * time.Hour, false},
		{"86401", 24 * time.Hour, 0, true},
		{"48h", 24 * time.Hour, 48 * time.Hour, false}, // the bound applies to seconds only
	}
	for _, c := range cases {
		got, err := Duration(c.in, 7*time.Second, c.max)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("Duration(%q, max %v) = %v, %v; want %v, error %v", c.in, c.max, got, err, c.want, c.bad)
		}
	}
}

func TestInt(t *testing.T) {
	cases := []struct {
		in   string
		want int
		bad  bool
	}{{"", 5, false}, {"1", 1, false}, {" 10 ", 10, false}, {"0", 0, true}, {"11", 0, true}, {"2.5", 0, true}}
	for _, c := range cases {
		got, err := Int(c.in, 5, 10)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("Int(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestFlag(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "true": true, " TRUE ": true, "": false, "0": false, "yes": false, "false": false} {
		if got := Flag(in); got != want {
			t.Errorf("Flag(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestHTTPBase(t *testing.T) {
	cases := []struct {
		in       string
		suffixes []string
		want     string
		bad      bool
	}{
		{"wss://chat.example/chat/", []string{"/chat", "/socket.io"}, "https://chat.example", false},
		{"ws://127.0.0.1:9/socket.io?x=1#f", []string{"/socket.io"}, "http://127.0.0.1:9", false},
		{"https://api.example/v1/", nil, "https://api.example/v1", false},
		{"ftp://x", nil, "", true},
		{"/relative", nil, "", true},
	}
	for _, c := range cases {
		u, err := HTTPBase(c.in, c.suffixes...)
		if (err != nil) != c.bad {
			t.Errorf("HTTPBase(%q): error %v", c.in, err)
			continue
		}
		if err == nil && u.String() != c.want {
			t.Errorf("HTTPBase(%q) = %q, want %q", c.in, u.String(), c.want)
		}
	}
}
