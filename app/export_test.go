package app

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"modconsole/backend/service"
)

// fakeExporter writes rows lines, then fails when fail is set.
type fakeExporter struct {
	rows int
	fail bool
}

func (f fakeExporter) Export(context.Context, service.ExportRequest) (service.ExportTicket, error) {
	return service.ExportTicket{Filename: "x.csv"}, nil
}

func (f fakeExporter) WriteExport(_ context.Context, w io.Writer, _ service.ExportRequest) (int64, error) {
	for range f.rows {
		if _, err := io.WriteString(w, "row\n"); err != nil {
			return 0, err
		}
	}
	if f.fail {
		return int64(f.rows), errors.New("store gone")
	}
	return int64(f.rows), nil
}

func TestExportToWritesTheFileOrRemovesIt(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.csv")
	n, err := exportTo(context.Background(), fakeExporter{rows: 3}, ok, service.ExportRequest{})
	if err != nil || n != 3 {
		t.Fatalf("exportTo = %d, %v", n, err)
	}
	b, err := os.ReadFile(ok)
	if err != nil || string(b) != "row\nrow\nrow\n" {
		t.Fatalf("file = %q, %v", b, err)
	}
	if st, _ := os.Stat(ok); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	bad := filepath.Join(dir, "bad.csv")
	if _, err := exportTo(context.Background(), fakeExporter{rows: 2, fail: true}, bad, service.ExportRequest{}); err == nil {
		t.Fatal("a failed export returned no error")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}
	if _, err := exportTo(context.Background(), fakeExporter{}, filepath.Join(dir, "missing", "x.csv"), service.ExportRequest{}); err == nil {
		t.Error("no error for a path in a missing directory")
	}
}
