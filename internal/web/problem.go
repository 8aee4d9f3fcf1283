package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ProblemContentType is the media type of an API error (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is the one shape of podium's API errors: an RFC 9457 problem
// details object, with two extension members for a request's data.
type Problem struct {
	// Type is "about:blank" (the status says it all) unless set.
	Type string `json:"type"`
	// Title is the status text unless set.
	Title  string `json:"title"`
	Status int    `json:"status"`
	// Detail says what is wrong with this request and how to fix it.
	Detail string `json:"detail,omitempty"`
	// Instance is the request's path.
	Instance string `json:"instance,omitempty"`
	// Field is the JSON name of the field at fault, if one is.
	Field string `json:"field,omitempty"`
	// Index is the position of the faulty item of a batch.
	Index *int `json:"index,omitempty"`
}

// Problemf is a Problem with a status, the field at fault ("" for none) and
// a detail.
func Problemf(status int, field, format string, args ...any) Problem {
	return Problem{Status: status, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// WriteProblem answers r with p as application/problem+json.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// isAPI reports whether path is one of the JSON APIs' (their errors are
// problems, not pages).
func isAPI(path string) bool {
	return strings.HasPrefix(path, "/api/")
}

// handler is the server's handler: the mux, with podium's own answer to a
// path nothing serves — an HTML page with the navigation and links back,
// or a problem for the APIs.
func (s *Server) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.Mux.Handler(r); pattern == "" {
			if isAPI(r.URL.Path) {
				WriteProblem(w, r, Problemf(http.StatusNotFound, "", "no API at %s %s", r.Method, r.URL.Path))
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				s.Error(w, r, http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
				return
			}
		}
		s.Mux.ServeHTTP(w, r)
	})
}
