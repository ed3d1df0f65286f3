// Package desktop holds what the desktop app needs of the desktop session
// beyond its window, without Wails: the preferences file (window geometry,
// notifications on or off), the single-instance claim and native
// notifications over the session D-Bus (freedesktop Notifications).
package desktop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// PrefsFile is the name of the preferences file in the data directory.
const PrefsFile = "desktop.json"

// Window size limits: a saved geometry outside them is ignored.
const (
	MinWidth, MinHeight = 720, 480
	MaxSide             = 16384
)

// Geometry is the window's size and position on the screen.
type Geometry struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	X      int `json:"x"`
	Y      int `json:"y"`
}

// Valid reports whether g is a size the window can take and a position
// within a sane range (a saved file may be edited or come from another
// screen).
func (g Geometry) Valid() bool {
	return g.Width >= MinWidth && g.Height >= MinHeight && g.Width <= MaxSide && g.Height <= MaxSide &&
		g.X > -MaxSide && g.X < MaxSide && g.Y > -MaxSide && g.Y < MaxSide
}

// Prefs are the desktop app's own preferences.
type Prefs struct {
	Window *Geometry `json:"window,omitempty"` // nil: never saved
	// Notify turns native notifications on (opt-in): a message held by a
	// high-severity rule, or a failed action, while the window is not
	// focused.
	Notify bool `json:"notify"`
}

// PrefsStore reads and writes Prefs in a data directory. Safe for
// concurrent use.
type PrefsStore struct {
	path string
	mu   sync.Mutex
}

// NewPrefsStore returns the store of dir/PrefsFile.
func NewPrefsStore(dir string) *PrefsStore {
	return &PrefsStore{path: filepath.Join(dir, PrefsFile)}
}

// Load returns the saved preferences; a missing file gives the defaults.
// An unreadable file is an error (with the defaults), so one bad edit does
// not silently reset anything it would then overwrite.
func (s *PrefsStore) Load() (Prefs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadLocked()
}

func (s *PrefsStore) loadLocked() (Prefs, error) {
	var p Prefs
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("desktop: prefs: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return Prefs{}, fmt.Errorf("desktop: prefs %s: %w", s.path, err)
	}
	if p.Window != nil && !p.Window.Valid() {
		p.Window = nil
	}
	return p, nil
}

// Update loads the preferences, applies f and saves the result
// atomically (a new file renamed over the old one, mode 0600).
func (s *PrefsStore) Update(f func(*Prefs)) (Prefs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.loadLocked()
	if err != nil {
		return p, err
	}
	f(&p)
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return p, fmt.Errorf("desktop: prefs: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return p, fmt.Errorf("desktop: prefs: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".desktop-*.json")
	if err != nil {
		return p, fmt.Errorf("desktop: prefs: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return p, fmt.Errorf("desktop: prefs: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		os.Remove(tmp.Name())
		return p, fmt.Errorf("desktop: prefs: %w", err)
	}
	return p, nil
}
