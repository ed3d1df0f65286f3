// Package golden runs golden-file tests. A golden file holds an input, a
// line "----" and the expected output; Run checks every file of a directory
// as a subtest, and `go test -update` rewrites the expected parts from what
// the code produces now.
//
// Only tests import this package. Its functions are safe to call from
// parallel tests as long as they work on different files.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sep separates a golden file's input from its expected output.
const sep = "\n----\n"

// update is the -update flag of every test binary that imports golden.
var update = flag.Bool("update", false, "rewrite the expected part of golden files")

// Files returns the golden files (*.txt) of dir, sorted; it fails t when
// there are none.
func Files(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("golden: no golden files in %s: %v", dir, err)
	}
	return files
}

// Read returns the input and expected parts of the golden file at path,
// spaces trimmed. A file without the "----" line fails t unless the run
// updates the files (then the whole file is the input).
func Read(t testing.TB, path string) (in, want []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in, want, ok := bytes.Cut(b, []byte(sep))
	if !ok && !*update {
		t.Fatalf("golden: %s: no ---- separator", path)
	}
	return bytes.TrimSpace(in), bytes.TrimSpace(want)
}

// Write replaces the golden file at path with in, the "----" line and got.
func Write(t testing.TB, path string, in, got []byte) {
	t.Helper()
	out := make([]byte, 0, len(in)+len(sep)+len(got)+1)
	out = append(append(append(out, in...), sep...), got...)
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Run runs one subtest per golden file of dir, named after the file: it
// passes the input part to produce and compares the result with the
// expected part, or with -update writes the result as the expected part.
func Run(t *testing.T, dir string, produce func(t *testing.T, in []byte) []byte) {
	t.Helper()
	for _, file := range Files(t, dir) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			in, want := Read(t, file)
			got := produce(t, in)
			if *update {
				Write(t, file, in, got)
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s:\n got: %s\nwant: %s", in, got, want)
			}
		})
	}
}
