package api

import (
	"encoding/json"
	"net/http"
	"strings"
)

// writeProblem writes a problem outside huma (middleware).
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteProblem writes a problem with a status and stable code; middleware
// outside this package (idempotency, limits) uses it.
func WriteProblem(w http.ResponseWriter, status int, code, detail string) {
	writeProblem(w, newProblem(status, code, detail))
}

// AssumeJSON treats API request bodies sent without a JSON content type (as
// `curl -d` sends them) as JSON; the body is still validated as JSON.
func AssumeJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Body != nil && r.ContentLength != 0 {
			switch ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) {
			case "", "application/x-www-form-urlencoded", "text/plain":
				r.Header.Set("Content-Type", "application/json")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// MaxUploadBytes bounds a multipart request carrying evidence files.
const MaxUploadBytes = 16 << 20

// BodyLimit is the most a request's body may hold: a multipart upload of
// evidence files may be larger than any JSON body.
func BodyLimit(r *http.Request) int64 {
	if n := importLimit(r); n > 0 {
		return n
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return MaxUploadBytes
	}
	return MaxBodyBytes
}
