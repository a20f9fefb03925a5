// Package store opens the platform's database — embedded SQLite or PostgreSQL —
// from one code base, runs the migrations and provides the transaction helper
// every domain service writes through.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the engine behind a DB. It is the whole dialect seam: the SQL
// itself is written to run on both engines.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Sentinel errors every domain package compares against, whatever the engine.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: version conflict")
	ErrExists   = errors.New("store: already exists")
	// ErrRetained is a change the retention triggers refused: a regulated
	// record changed in place or deleted within its retention period.
	ErrRetained = errors.New("store: retained")
)

// retentionPrefix starts the message of every retention trigger.
const retentionPrefix = "wufei: retention:"

// DB is an open database. On SQLite writes go through a one-connection pool so
// that writers queue in Go instead of failing with SQLITE_BUSY; reads use a
// separate pool. On PostgreSQL both are the same pool.
type DB struct {
	Dialect  Dialect
	w        *sqlx.DB
	r        *sqlx.DB
	wcache   *stmtCache    // SQLite only
	group    *group        // SQLite only
	stop     chan struct{} // ends checkpoints; SQLite only
	stopOnce sync.Once
	reader   *Pool
	locals   sync.Map // *Memo[T] → memoEntry[T], *Local[T] → *T
	gens     generations
}

// Open parses a database URL — "sqlite:PATH" (or "sqlite::memory:") or
// "postgres://…" — and opens it.
func Open(ctx context.Context, dbURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dbURL, "sqlite:"))
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return openPostgres(ctx, dbURL)
	}
	return nil, fmt.Errorf("store: unsupported database URL %q (want sqlite:PATH or postgres://…)", redact(dbURL))
}

// busyTimeoutMS is how long an SQLite connection waits for a lock.
const busyTimeoutMS = 10000

// sqlitePragmas are set in the DSN so every pooled connection gets them;
// busy_timeout must come before journal_mode.
var sqlitePragmas = []string{
	"busy_timeout(" + strconv.Itoa(busyTimeoutMS) + ")",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(1)",
	"temp_store(MEMORY)",
	"cache_size(-16000)",
	"wal_autocheckpoint(0)",        // see checkpoints
	"journal_size_limit(67108864)", // a WAL started over is cut back to 64 MiB
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: sqlite: empty path")
	}
	if path != ":memory:" {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: sqlite: %w", err)
			}
		}
	} else {
		// A named in-memory database shared by both pools.
		path = fmt.Sprintf("file:mem%d?mode=memory&cache=shared", time.Now().UnixNano())
	}
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	q.Set("_time_format", "sqlite")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	readDSN := path + sep + q.Encode()
	q.Set("_txlock", "immediate")
	writeDSN := path + sep + q.Encode()

	w, err := sqlx.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sqlx.Open("sqlite", readDSN)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	r.SetMaxOpenConns(max(4, 2*runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, 2*runtime.GOMAXPROCS(0)))
	db := &DB{Dialect: SQLite, w: w, r: r, wcache: newStmtCache(w), reader: &Pool{DB: r, cache: newStmtCache(r)}}
	db.group, db.reader.db, db.stop = &group{db: db}, db, make(chan struct{})
	go db.checkpoints(checkpointEvery)
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dbURL string) (*DB, error) {
	x, err := sqlx.Open("pgx", dbURL)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	x.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
	x.SetMaxIdleConns(2 * runtime.GOMAXPROCS(0))
	x.SetConnMaxIdleTime(5 * time.Minute)
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("store: postgres %s: %w", redact(dbURL), err)
	}
	db := &DB{Dialect: Postgres, w: x, r: x, reader: &Pool{DB: x}}
	db.reader.db = db
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.stop != nil {
		db.stopOnce.Do(func() { close(db.stop) })
	}
	if db.wcache != nil {
		db.wcache.close()
		db.reader.cache.close()
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Checkpoints: how often the WAL is copied back into the database, and the
// WAL size (in pages) past which it is also cut back to nothing.
var (
	checkpointEvery  = 250 * time.Millisecond
	walTruncatePages = 8192
	truncateWait     = 50 * time.Millisecond
)

// checkpoints copies the WAL back into the database file from a reader
// connection, so that the writer never does it inside a commit (SQLite's
// automatic checkpoint, switched off in the pragmas, runs in the commit
// that crosses its threshold). A PASSIVE checkpoint waits for nobody, but
// under a steady stream of readers the WAL may never start over and grows
// without end; past walTruncatePages a TRUNCATE checkpoint waits for the
// readers and starts it over. It holds new writers back while it waits, so
// it waits at most truncateWait and tries again at the next tick.
func (db *DB) checkpoints(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			if pages := db.checkpoint("PASSIVE", 0); pages > walTruncatePages {
				db.checkpoint("TRUNCATE", truncateWait)
			}
		}
	}
}

// checkpoint runs one checkpoint of the given mode and returns the pages
// the WAL held. With a wait, it runs on a connection of its own whose busy
// timeout is that wait.
func (db *DB) checkpoint(mode string, wait time.Duration) int {
	ctx := context.Background()
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return 0
	}
	defer conn.Close()
	if wait > 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", wait.Milliseconds())); err != nil {
			return 0
		}
		// The connection goes back to the pool: give it its usual timeout again.
		defer conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.Itoa(busyTimeoutMS)) //nolint:errcheck
	}
	var busy, pages, copied int
	_ = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &pages, &copied)
	return pages
}

// Reader is the pool for reads outside a transaction.
func (db *DB) Reader() Querier { return db.reader }

// Writer is the raw writer pool, for benchmarks and tools that measure the
// engine itself; domain code writes through Tx.
func (db *DB) Writer() *sqlx.DB { return db.w }

// Querier is what both *sqlx.DB and *sqlx.Tx offer; the helpers below rebind
// '?' placeholders to the engine's own.
type Querier interface {
	sqlx.ExtContext
}

// Tx is a write transaction. Now is taken once so that every row and audit
// entry written in one transaction carries the same time. Its statements run
// to their end even when the caller's context ends: on SQLite they may share
// a database transaction with other callers' (see group).
type Tx struct {
	*sqlx.Tx
	Dialect Dialect
	Now     time.Time
	cache   *stmtCache
	db      *DB
	after   []func()        // see AfterCommit
	undo    []func()        // see OnRollback
	before  []func() error  // see BeforeCommit
	local   map[any]any     // see Local
	changed map[string]bool // tables changed, see Changed
}

// AfterCommit runs f once the transaction has committed, before the next
// write transaction begins; nothing runs if it rolls back. It is for
// in-memory state that mirrors what the transaction wrote.
func (tx *Tx) AfterCommit(f func()) { tx.after = append(tx.after, f) }

// OnRollback runs f if the transaction's work is rolled back, for in-memory
// state updated ahead of the commit.
func (tx *Tx) OnRollback(f func()) { tx.undo = append(tx.undo, f) }

// BeforeCommit runs f once the transaction's function has succeeded, before
// it commits; an error rolls it back. It lets a transaction that moves one
// row many times — a counter, the audit log's head — write it once, at the
// end: PostgreSQL keeps every version of a row a transaction updates, and
// each update walks past the ones before.
func (tx *Tx) BeforeCommit(f func() error) { tx.before = append(tx.before, f) }

// finish runs the before-commit hooks, including any they add.
func (tx *Tx) finish() error {
	for i := 0; i < len(tx.before); i++ {
		if err := tx.before[i](); err != nil {
			return err
		}
	}
	return nil
}

// Local returns the transaction's own value for key, made by mk on first
// use: state that lives as long as the transaction.
func (tx *Tx) Local(key any, mk func() any) any {
	if v, ok := tx.local[key]; ok {
		return v
	}
	if tx.local == nil {
		tx.local = map[any]any{}
	}
	v := mk()
	tx.local[key] = v
	return v
}

func run(fs []func()) {
	for _, f := range fs {
		f()
	}
}

// FirstLock, when set, is a statement every PostgreSQL write transaction
// runs first: it locks the row that serialises writers (the audit log's
// head), so that no transaction holds another row while waiting for it.
// Taken later, a transaction that holds the head and then needs a counter
// row can wait on one that holds the counter and waits for the head: a
// deadlock. The audit package sets it.
var FirstLock string

// Tx runs fn in a write transaction and commits it if fn returns nil. On
// SQLite, concurrent callers share commits (see group) and the transaction
// begins IMMEDIATE, so writers are serialised up front; on PostgreSQL the
// transaction takes FirstLock first, to the same end.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.group != nil {
		return db.group.run(ctx, fn)
	}
	x, err := db.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if FirstLock != "" {
		if _, err := x.ExecContext(ctx, FirstLock); err != nil {
			_ = x.Rollback()
			return fmt.Errorf("store: first lock: %w", err)
		}
	}
	tx := &Tx{Tx: x, Dialect: db.Dialect, Now: NowIn(ctx), cache: db.wcache, db: db}
	defer func() {
		if p := recover(); p != nil {
			_ = x.Rollback()
			run(tx.undo)
			panic(p)
		}
	}()
	err = fn(tx)
	if err == nil {
		err = tx.finish()
	}
	if err != nil {
		_ = x.Rollback()
		run(tx.undo)
		return err
	}
	if err := x.Commit(); err != nil {
		run(tx.undo)
		return fmt.Errorf("store: commit: %w", mapErr(err))
	}
	run(tx.after)
	return nil
}

// Statements counts the statements run through Get, Select and Exec, for
// /metrics and for benchmarks that report statements per operation.
var Statements atomic.Int64

// Contains is a LIKE pattern matching s anywhere, with s's own % and _ taken
// literally; use it as `x LIKE ? ESCAPE '\'`, which both engines accept.
func Contains(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

// StringAgg is the engine's aggregate that joins expr's values with commas,
// in no particular order.
func StringAgg(q Querier, expr string) string {
	if q.DriverName() == "pgx" {
		return "string_agg(" + expr + ", ',')"
	}
	return "group_concat(" + expr + ", ',')"
}

// Now is the current time as the store keeps it: UTC, microsecond precision,
// which both engines round-trip exactly.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

type clockKey struct{}

// At returns a context whose transactions are stamped t rather than the
// current time. Seeding uses it to write records at their business time in
// the first place, since regulated rows cannot be changed afterwards; no
// request path sets it.
func At(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, t.UTC().Truncate(time.Microsecond))
}

// NowIn is the time a transaction begun with ctx is stamped: the one At
// set, or the current time.
func NowIn(ctx context.Context) time.Time {
	if t, ok := ctx.Value(clockKey{}).(time.Time); ok {
		return t
	}
	return Now()
}

// Get scans one row into dest; no row is ErrNotFound.
func Get(ctx context.Context, q Querier, dest any, query string, args ...any) error {
	Statements.Add(1)
	ctx = detach(ctx, q)
	query = q.Rebind(query)
	var err error
	if st := prepared(ctx, q, query); st != nil {
		err = st.GetContext(ctx, dest, args...)
	} else {
		err = sqlx.GetContext(ctx, q, dest, query, args...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return mapErr(err)
}

// Select scans all rows into dest, a pointer to a slice.
func Select(ctx context.Context, q Querier, dest any, query string, args ...any) error {
	Statements.Add(1)
	ctx = detach(ctx, q)
	query = q.Rebind(query)
	if st := prepared(ctx, q, query); st != nil {
		return mapErr(st.SelectContext(ctx, dest, args...))
	}
	return mapErr(sqlx.SelectContext(ctx, q, dest, query, args...))
}

// Exec runs a statement and returns the number of rows it affected.
func Exec(ctx context.Context, q Querier, query string, args ...any) (int64, error) {
	Statements.Add(1)
	ctx = detach(ctx, q)
	query = q.Rebind(query)
	var res sql.Result
	var err error
	if st := prepared(ctx, q, query); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = q.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

// detach lets a transaction's statements run to their end: cancelling one
// midway would roll back the whole SQLite transaction, which other callers'
// work may share. (It also spares the driver a watcher per statement.)
func detach(ctx context.Context, q Querier) context.Context {
	if _, ok := q.(*Tx); ok {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// In expands the slice arguments of "IN (?)" lists; Select and Get rebind
// the result.
func In(query string, args ...any) (string, []any, error) { return sqlx.In(query, args...) }

// mapErr turns engine-specific constraint errors into the store's sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrExists, err)
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			if strings.Contains(se.Error(), retentionPrefix) {
				return fmt.Errorf("%w: %v", ErrRetained, err)
			}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %v", ErrExists, err)
	}
	if errors.As(err, &pe) && strings.HasPrefix(pe.Message, retentionPrefix) {
		return fmt.Errorf("%w: %v", ErrRetained, err)
	}
	return err
}

// redact hides a password in a database URL for messages and logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
