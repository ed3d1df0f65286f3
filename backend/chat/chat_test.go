package chat

import "testing"

func TestLengthUnits(t *testing.T) {
	for _, c := range []struct {
		s                   string
		runes, utf16, bytes int
	}{
		{"", 0, 0, 0},
		{"abc", 3, 3, 3},
		{"é", 1, 1, 2},
		{"😀", 1, 2, 4},
		{"a😀é", 3, 4, 7},
	} {
		if n := Runes.Len(c.s); n != c.runes {
			t.Errorf("runes(%q) = %d, want %d", c.s, n, c.runes)
		}
		if n := LengthUnit("").Len(c.s); n != c.runes {
			t.Errorf("default(%q) = %d, want runes %d", c.s, n, c.runes)
		}
		if n := UTF16.Len(c.s); n != c.utf16 {
			t.Errorf("utf16(%q) = %d, want %d", c.s, n, c.utf16)
		}
		if n := Bytes.Len(c.s); n != c.bytes {
			t.Errorf("bytes(%q) = %d, want %d", c.s, n, c.bytes)
		}
	}
}
