package httpapi

import (
	"encoding/json"
	"mime"
	"net/http"

	"modconsole/backend/service"
)

// serveExport streams an export: GET /api/export?req=<ExportRequest as
// JSON>, the URL that service.API Export returns in browser mode. The
// session cookie is checked by guard like on every route. Rows are written
// as they are read; the response is chunked, with Content-Disposition
// naming the file. An error before the first byte is a JSON error with its
// status; after it, the connection is aborted so the download fails
// instead of ending as a file that looks complete.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	ex, ok := s.api.(service.Exporter)
	if !ok {
		writeError(w, http.StatusNotFound, "export is not available")
		return
	}
	if !s.allowed(w, r, "Export") {
		return
	}
	var req service.ExportRequest
	if err := json.Unmarshal([]byte(r.URL.Query().Get("req")), &req); err != nil {
		writeError(w, http.StatusBadRequest, "req must be the export request as JSON: "+err.Error())
		return
	}
	t, err := ex.Export(r.Context(), req)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	cw := &startWriter{w: w}
	h := w.Header()
	h.Set("Content-Type", t.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": t.Filename}))
	if r.Method == http.MethodHead {
		return // the headers only: no rows are read
	}
	n, err := ex.WriteExport(r.Context(), cw, req)
	if err != nil {
		if !cw.started {
			h.Del("Content-Disposition")
			writeError(w, statusOf(err), err.Error())
			return
		}
		if r.Context().Err() == nil { // not the client going away
			s.log.Warn("export failed mid-stream", "kind", req.Kind, "rows", n, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// startWriter notes whether anything was written.
type startWriter struct {
	w       http.ResponseWriter
	started bool
}

func (c *startWriter) Write(p []byte) (int, error) {
	c.started = true
	return c.w.Write(p)
}
