package idempotency_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"wufei/internal/auth"
	"wufei/internal/idempotency"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// app is a tiny real handler behind the middleware: every call it gets
// inserts one row into a table of the real database and answers 201 with
// the new row's id.
type app struct {
	t     *testing.T
	db    *store.DB
	calls atomic.Int64
	h     http.Handler

	// fail makes the next calls on /flaky answer 500.
	fail atomic.Int64
	// gate, if set, is waited on by /gated after signalling entered.
	entered chan struct{}
	gate    chan struct{}
}

func newApp(t *testing.T, db *store.DB) *app {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := store.Exec(ctx, tx, `CREATE TABLE IF NOT EXISTS idem_calls (id TEXT PRIMARY KEY, path TEXT NOT NULL, body TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, db: db}
	a.h = withUser(idempotency.Middleware(db)(http.HandlerFunc(a.serve)))
	return a
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	n := a.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/flaky":
		if a.fail.Add(-1) >= 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
	case "/reject":
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"code":"validation_failed","call":%d}`, n)
		return
	case "/slow":
		time.Sleep(50 * time.Millisecond)
	case "/gated":
		a.entered <- struct{}{}
		<-a.gate
	}
	id := uuid.Must(uuid.NewV7()).String()
	ctx := context.WithoutCancel(r.Context())
	if err := a.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := store.Exec(ctx, tx, `INSERT INTO idem_calls (id, path, body) VALUES (?, ?, ?)`, id, r.URL.Path, string(body))
		return err
	}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", "/things/"+id)
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q,"call":%d,"method":%q}`, id, n, r.Method)
}

// rows counts the rows the handler inserted.
func (a *app) rows() int {
	a.t.Helper()
	var n int
	if err := store.Get(context.Background(), a.db.Reader(), &n, `SELECT count(*) FROM idem_calls`); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// withUser stands in for authentication: X-User names the caller.
func withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-User"); u != "" {
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: u, Username: u, Role: auth.UnitAdmin}))
		}
		next.ServeHTTP(w, r)
	})
}

// req is one request to send.
type req struct {
	method, path, user, key, body string
	ctx                           context.Context
}

func (a *app) do(q req) *httptest.ResponseRecorder {
	if q.method == "" {
		q.method = http.MethodPost
	}
	r := httptest.NewRequest(q.method, q.path, strings.NewReader(q.body))
	if q.ctx != nil {
		r = r.WithContext(q.ctx)
	}
	r.Header.Set("Content-Type", "application/json")
	if q.user != "" {
		r.Header.Set("X-User", q.user)
	}
	if q.key != "" {
		r.Header.Set(idempotency.Header, q.key)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

func replayed(w *httptest.ResponseRecorder) bool {
	return w.Header().Get("Idempotent-Replayed") == "true"
}

// wantProblem fails unless w is a problem+json response with status and code.
func wantProblem(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("%d %q: %v", w.Code, w.Body, err)
	}
	if w.Code != status || p.Code != code || p.Status != status ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("got %d %s %q, want %d %s", w.Code, w.Header().Get("Content-Type"), w.Body, status, code)
	}
}

func TestReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		body := `{"name":"淮北测试化工","roles":["generator"]}`

		first := a.do(req{path: "/units", user: "alice", key: "k-1", body: body})
		if first.Code != http.StatusCreated || replayed(first) || a.calls.Load() != 1 {
			t.Fatalf("first: %d %q replayed=%v", first.Code, first.Body, replayed(first))
		}
		for i := range 3 {
			again := a.do(req{path: "/units", user: "alice", key: "k-1", body: body})
			if again.Code != http.StatusCreated || !replayed(again) || again.Body.String() != first.Body.String() ||
				again.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("retry %d: %d %q %v, want the stored %q", i, again.Code, again.Body, again.Header(), first.Body)
			}
		}
		if a.calls.Load() != 1 || a.rows() != 1 {
			t.Fatalf("the handler ran %d times, %d rows", a.calls.Load(), a.rows())
		}

		t.Run("another body with the same key is refused", func(t *testing.T) {
			w := a.do(req{path: "/units", user: "alice", key: "k-1", body: `{"name":"另一个"}`})
			wantProblem(t, w, http.StatusUnprocessableEntity, "idempotency_key_reused")
			w = a.do(req{path: "/units", user: "alice", key: "k-1", body: ""})
			wantProblem(t, w, http.StatusUnprocessableEntity, "idempotency_key_reused")
			if a.calls.Load() != 1 {
				t.Fatal("the handler ran for a reused key")
			}
		})

		t.Run("keys belong to their caller and path", func(t *testing.T) {
			bob := a.do(req{path: "/units", user: "bob", key: "k-1", body: body})
			if bob.Code != http.StatusCreated || replayed(bob) || bob.Body.String() == first.Body.String() {
				t.Fatalf("bob got alice's response: %d %q replayed=%v", bob.Code, bob.Body, replayed(bob))
			}
			// Bob's key is now his own, with another body than alice's.
			bob2 := a.do(req{path: "/units", user: "bob", key: "k-1", body: body})
			if !replayed(bob2) || bob2.Body.String() != bob.Body.String() {
				t.Fatalf("bob's retry: %d %q", bob2.Code, bob2.Body)
			}
			carol := a.do(req{path: "/units", user: "carol", key: "k-1", body: `{"other":true}`})
			if carol.Code != http.StatusCreated || replayed(carol) {
				t.Fatalf("carol: %d %q", carol.Code, carol.Body)
			}
			other := a.do(req{path: "/vehicles", user: "alice", key: "k-1", body: body})
			if other.Code != http.StatusCreated || replayed(other) {
				t.Fatalf("the same key on another path: %d %q", other.Code, other.Body)
			}
			// The anonymous caller is one more caller.
			anon := a.do(req{path: "/units", key: "k-1", body: body})
			if anon.Code != http.StatusCreated || replayed(anon) {
				t.Fatalf("anonymous: %d %q", anon.Code, anon.Body)
			}
			if anon2 := a.do(req{path: "/units", key: "k-1", body: body}); !replayed(anon2) || anon2.Body.String() != anon.Body.String() {
				t.Fatalf("anonymous retry: %d %q", anon2.Code, anon2.Body)
			}
			if a.calls.Load() != 5 || a.rows() != 5 {
				t.Fatalf("the handler ran %d times, %d rows; want 5", a.calls.Load(), a.rows())
			}
		})

		t.Run("client errors are kept and replayed", func(t *testing.T) {
			calls := a.calls.Load()
			w := a.do(req{path: "/reject", user: "alice", key: "k-422", body: "{}"})
			again := a.do(req{path: "/reject", user: "alice", key: "k-422", body: "{}"})
			if w.Code != http.StatusUnprocessableEntity || again.Code != http.StatusUnprocessableEntity || !replayed(again) ||
				again.Body.String() != w.Body.String() || again.Header().Get("Content-Type") != "application/problem+json" ||
				a.calls.Load() != calls+1 {
				t.Fatalf("422: %d %q then %d %q, %d calls", w.Code, w.Body, again.Code, again.Body, a.calls.Load()-calls)
			}
		})
	})
}

func TestPassThrough(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		for i := range 3 {
			for _, q := range []req{
				{method: http.MethodGet, path: "/units", user: "alice", key: "k-get"},
				{method: http.MethodPut, path: "/units/1", user: "alice", key: "k-put", body: "{}"},
				{method: http.MethodPatch, path: "/units/1", user: "alice", key: "k-patch", body: "{}"},
				{path: "/units", user: "alice", body: `{"same":"body"}`},
			} {
				w := a.do(q)
				method := cmp.Or(q.method, http.MethodPost)
				if w.Code != http.StatusCreated || replayed(w) || !strings.Contains(w.Body.String(), `"method":"`+method+`"`) ||
					!strings.Contains(w.Body.String(), fmt.Sprintf(`"call":%d,`, a.calls.Load())) {
					t.Fatalf("%s %s (round %d): %d %q replayed=%v", method, q.path, i, w.Code, w.Body, replayed(w))
				}
			}
		}
		if a.calls.Load() != 12 || a.rows() != 12 {
			t.Fatalf("the handler ran %d times, %d rows; want every request", a.calls.Load(), a.rows())
		}
		var keys int
		if err := store.Get(context.Background(), db.Reader(), &keys, `SELECT count(*) FROM idempotency_keys`); err != nil {
			t.Fatal(err)
		}
		if keys != 0 {
			t.Fatalf("%d keys stored for requests that pass through", keys)
		}
	})
}

func TestKeyLength(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		w := a.do(req{path: "/units", user: "alice", key: strings.Repeat("k", 256), body: "{}"})
		wantProblem(t, w, http.StatusBadRequest, "idempotency_key_invalid")
		if a.calls.Load() != 0 {
			t.Fatal("the handler ran for an over-long key")
		}
		key := strings.Repeat("k", 255)
		if w := a.do(req{path: "/units", user: "alice", key: key, body: "{}"}); w.Code != http.StatusCreated || replayed(w) {
			t.Fatalf("a 255-character key: %d %q", w.Code, w.Body)
		}
		if w := a.do(req{path: "/units", user: "alice", key: key, body: "{}"}); !replayed(w) {
			t.Fatalf("a 255-character key is not replayed: %d %q", w.Code, w.Body)
		}
		w = a.do(req{path: "/units", user: "alice", key: "big", body: `"` + strings.Repeat("x", 1<<20) + `"`})
		wantProblem(t, w, http.StatusRequestEntityTooLarge, "body_too_large")
		if a.calls.Load() != 1 {
			t.Fatalf("the handler ran %d times", a.calls.Load())
		}
	})
}

func TestServerErrorsAreNotKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		a.fail.Store(2)
		q := req{path: "/flaky", user: "alice", key: "k-flaky", body: `{"n":1}`}
		for i := range 2 {
			if w := a.do(q); w.Code != http.StatusInternalServerError || replayed(w) {
				t.Fatalf("failing call %d: %d %q", i, w.Code, w.Body)
			}
		}
		ok := a.do(q)
		if ok.Code != http.StatusCreated || replayed(ok) || a.calls.Load() != 3 || a.rows() != 1 {
			t.Fatalf("retry after 500s: %d %q, %d calls, %d rows", ok.Code, ok.Body, a.calls.Load(), a.rows())
		}
		if again := a.do(q); !replayed(again) || again.Body.String() != ok.Body.String() || a.calls.Load() != 3 {
			t.Fatalf("after success: %d %q", again.Code, again.Body)
		}
	})
}

func TestExpiredKeyRunsAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newApp(t, db)
		q := req{path: "/units", user: "alice", key: "k-old", body: "{}"}
		first := a.do(q)
		ctx := context.Background()
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := store.Exec(ctx, tx, `UPDATE idempotency_keys SET created_at = ?`, store.Now().Add(-idempotency.TTL-time.Minute))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		second := a.do(q)
		if second.Code != http.StatusCreated || replayed(second) || second.Body.String() == first.Body.String() || a.calls.Load() != 2 {
			t.Fatalf("after the TTL: %d %q replayed=%v", second.Code, second.Body, replayed(second))
		}
		if third := a.do(q); !replayed(third) || third.Body.String() != second.Body.String() {
			t.Fatalf("the renewed key is not kept: %d %q", third.Code, third.Body)
		}
	})
}

func TestConcurrentRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Run("a burst runs the handler once", func(t *testing.T) {
			a := newApp(t, db)
			const n = 20
			start := make(chan struct{})
			results := make([]*httptest.ResponseRecorder, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					results[i] = a.do(req{path: "/slow", user: "alice", key: "k-burst", body: `{"burst":true}`})
				})
			}
			close(start)
			wg.Wait()
			if a.calls.Load() != 1 || a.rows() != 1 {
				t.Fatalf("the handler ran %d times, %d rows", a.calls.Load(), a.rows())
			}
			stored := a.do(req{path: "/slow", user: "alice", key: "k-burst", body: `{"burst":true}`})
			if stored.Code != http.StatusCreated || !replayed(stored) {
				t.Fatalf("after the burst: %d %q", stored.Code, stored.Body)
			}
			originals, replays, busy := 0, 0, 0
			for _, w := range results {
				switch {
				case w.Code == http.StatusCreated && w.Body.String() == stored.Body.String() && replayed(w):
					replays++
				case w.Code == http.StatusCreated && w.Body.String() == stored.Body.String():
					originals++
				case w.Code == http.StatusConflict:
					wantProblem(t, w, http.StatusConflict, "idempotency_in_progress")
					busy++
				default:
					t.Fatalf("unexpected response %d %q", w.Code, w.Body)
				}
			}
			if originals != 1 || replays+busy != n-1 {
				t.Fatalf("%d originals, %d replays, %d in progress", originals, replays, busy)
			}
		})

		t.Run("retries while the first is running are told so", func(t *testing.T) {
			a := newApp(t, db)
			a.entered, a.gate = make(chan struct{}, 1), make(chan struct{})
			q := req{path: "/gated", user: "alice", key: "k-gated", body: `{"gated":true}`}
			first := make(chan *httptest.ResponseRecorder)
			go func() { first <- a.do(q) }()
			select {
			case <-a.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the first request never reached the handler")
			}
			// The handler is held: every retry meanwhile is in progress,
			// whatever its body.
			var wg sync.WaitGroup
			for range 19 {
				wg.Go(func() {
					w := a.do(q)
					if w.Code != http.StatusConflict {
						t.Errorf("retry during the first: %d %q", w.Code, w.Body)
					}
				})
			}
			wg.Wait()
			wantProblem(t, a.do(req{path: "/gated", user: "alice", key: "k-gated", body: `{"other":1}`}),
				http.StatusUnprocessableEntity, "idempotency_key_reused")
			close(a.gate)
			w := <-first
			if w.Code != http.StatusCreated || replayed(w) || a.calls.Load() != 1 {
				t.Fatalf("first: %d %q, %d calls", w.Code, w.Body, a.calls.Load())
			}
			if again := a.do(q); !replayed(again) || again.Body.String() != w.Body.String() {
				t.Fatalf("after the first: %d %q", again.Code, again.Body)
			}
		})
	})
}

// A client that times out and hangs up while its request runs is exactly
// the client that will retry: the outcome must still be kept (or, for a
// server error, released), never left "in progress".
func TestClientHangsUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, c := range []struct {
			name   string
			status int
		}{{"after a success", http.StatusCreated}, {"after a server error", http.StatusInternalServerError}} {
			t.Run(c.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var calls atomic.Int64
				h := withUser(idempotency.Middleware(db)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n := calls.Add(1)
					if n == 1 {
						cancel() // the connection drops while the work is done
					}
					w.Header().Set("Content-Type", "application/json")
					if n == 1 && c.status >= 500 {
						w.WriteHeader(c.status)
						return
					}
					w.WriteHeader(http.StatusCreated)
					fmt.Fprintf(w, `{"call":%d}`, n)
				})))
				send := func(ctx context.Context) *httptest.ResponseRecorder {
					r := httptest.NewRequest(http.MethodPost, "/units", strings.NewReader(`{"x":1}`)).WithContext(ctx)
					r.Header.Set("X-User", "device-7")
					r.Header.Set(idempotency.Header, "k-"+c.name)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					return w
				}
				send(ctx)
				retry := send(context.Background())
				switch {
				case c.status < 500 && (retry.Code != http.StatusCreated || !replayed(retry) || retry.Body.String() != `{"call":1}`):
					t.Fatalf("retry after hanging up: %d %q, want the kept 201", retry.Code, retry.Body)
				case c.status >= 500 && (retry.Code != http.StatusCreated || replayed(retry) || calls.Load() != 2):
					t.Fatalf("retry after hanging up on a 500: %d %q, %d calls; want a fresh run", retry.Code, retry.Body, calls.Load())
				}
			})
		}
	})
}
