package api

import (
	"encoding/json"
	"net/http"
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
