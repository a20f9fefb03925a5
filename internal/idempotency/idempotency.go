// Package idempotency makes POST requests that carry an Idempotency-Key
// header safe to retry: the first response is stored and replayed to every
// retry with the same key and body, so a device or integrator that retries
// after a time-out never creates a record twice.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"wufei/internal/api"
	"wufei/internal/auth"
	"wufei/internal/store"
)

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// TTL is how long a stored response is replayed.
const TTL = 24 * time.Hour

// Middleware stores and replays responses to keyed POSTs. It must run after
// authentication: keys are scoped to the caller.
func Middleware(db *store.DB) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := r.Header.Get(Header)
			if r.Method != http.MethodPost || key == "" {
				next.ServeHTTP(w, r)
				return
			}
			if len(key) > 255 {
				api.WriteProblem(w, http.StatusBadRequest, "idempotency_key_invalid", "Idempotency-Key 最长 255 个字符")
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.BodyLimit(r)))
			if err != nil {
				api.WriteProblem(w, http.StatusRequestEntityTooLarge, "body_too_large", "请求体过大")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			who := "anonymous"
			if p, ok := auth.FromContext(r.Context()); ok {
				who = p.UserID
			}
			keyHash := digest(who, r.URL.Path, key)
			reqHash := digest(string(body))
			ctx := r.Context()

			claimed, err := claim(r, db, keyHash, reqHash)
			if err != nil {
				api.WriteProblem(w, http.StatusInternalServerError, "internal", "服务器内部错误")
				return
			}
			if !claimed {
				var prev struct {
					RequestHash string `db:"request_hash"`
					Status      int    `db:"status"`
					ContentType string `db:"content_type"`
					Body        []byte `db:"body"`
				}
				if err := store.Get(ctx, db.Reader(), &prev, `SELECT request_hash, status, content_type, body
					FROM idempotency_keys WHERE key_hash = ?`, keyHash); err != nil {
					api.WriteProblem(w, http.StatusConflict, "idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理")
					return
				}
				switch {
				case prev.RequestHash != reqHash:
					api.WriteProblem(w, http.StatusUnprocessableEntity, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求体")
				case prev.Status == 0:
					api.WriteProblem(w, http.StatusConflict, "idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理")
				default:
					w.Header().Set("Content-Type", prev.ContentType)
					w.Header().Set("Idempotent-Replayed", "true")
					w.WriteHeader(prev.Status)
					_, _ = w.Write(prev.Body)
				}
				return
			}

			rec := &recorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			// The outcome is kept even if the client has hung up meanwhile
			// (it is the client that will retry); with the request's context
			// the key would stay "in progress" until the TTL.
			ctx = context.WithoutCancel(ctx)
			// Server errors are not kept, so the client may retry them.
			_ = db.Tx(ctx, func(tx *store.Tx) error {
				if rec.status >= 500 {
					_, err := store.Exec(ctx, tx, `DELETE FROM idempotency_keys WHERE key_hash = ?`, keyHash)
					return err
				}
				_, err := store.Exec(ctx, tx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE key_hash = ?`,
					rec.status, rec.Header().Get("Content-Type"), rec.body.Bytes(), keyHash)
				return err
			})
		})
	}
}

// claim inserts the key as in progress; false means it was already there
// (and not expired).
func claim(r *http.Request, db *store.DB, keyHash, reqHash string) (bool, error) {
	ctx := r.Context()
	err := db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := store.Exec(ctx, tx, `DELETE FROM idempotency_keys WHERE key_hash = ? AND created_at < ?`,
			keyHash, tx.Now.Add(-TTL)); err != nil {
			return err
		}
		_, err := store.Exec(ctx, tx, `INSERT INTO idempotency_keys (key_hash, request_hash, status, created_at) VALUES (?, ?, 0, ?)`,
			keyHash, reqHash, tx.Now)
		return err
	})
	if errors.Is(err, store.ErrExists) {
		return false, nil
	}
	return err == nil, err
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
