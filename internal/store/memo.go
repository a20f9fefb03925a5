package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// MemoTTL bounds how long a memoised value may lag a change made by another
// process on the same database (several servers on one PostgreSQL).
const MemoTTL = 5 * time.Second

// Memo keeps a value read from rows that change rarely — the rule settings,
// the calendar's overrides — so that every manifest step need not read them
// again. A transaction that changes the rows says so with Changed; once it
// commits, the next read loads them afresh. Reads inside that transaction
// always load, so they see its own change.
type Memo[T any] struct {
	Table string
	Load  func(ctx context.Context, q Querier) (T, error)
}

type memoEntry[T any] struct {
	v   T
	gen int64
	at  time.Time
}

// Get returns the value for q's database.
func (m *Memo[T]) Get(ctx context.Context, q Querier) (T, error) {
	db, tx := owner(q)
	if db == nil || (tx != nil && tx.changed[m.Table]) {
		return m.Load(ctx, q)
	}
	gen := db.generation(m.Table).Load()
	if e, ok := db.locals.Load(m); ok {
		if e := e.(memoEntry[T]); e.gen == gen && time.Since(e.at) < MemoTTL {
			return e.v, nil
		}
	}
	v, err := m.Load(ctx, q)
	if err == nil {
		db.locals.Store(m, memoEntry[T]{v: v, gen: gen, at: time.Now()})
	}
	return v, err
}

// Changed records that tx changes table, so that memos of it reload once tx
// has committed.
func Changed(tx *Tx, table string) {
	if tx.changed == nil {
		tx.changed = map[string]bool{}
	}
	tx.changed[table] = true
	if tx.db != nil {
		gen := tx.db.generation(table)
		tx.AfterCommit(func() { gen.Add(1) })
	}
}

// generations counts the committed changes per table, for memos.
type generations struct {
	mu sync.Mutex
	m  map[string]*atomic.Int64
}

func (db *DB) generation(table string) *atomic.Int64 {
	db.gens.mu.Lock()
	defer db.gens.mu.Unlock()
	if db.gens.m == nil {
		db.gens.m = map[string]*atomic.Int64{}
	}
	g, ok := db.gens.m[table]
	if !ok {
		g = &atomic.Int64{}
		db.gens.m[table] = g
	}
	return g
}

// owner returns the database behind q, and the transaction when q is one.
func owner(q Querier) (*DB, *Tx) {
	switch q := q.(type) {
	case *Tx:
		return q.db, q
	case *Pool:
		return q.db, nil
	}
	return nil, nil
}

// Local is state a package keeps in memory for each open database, such as
// the audit log's head; New makes it on first use.
type Local[T any] struct{ New func() *T }

// Of returns the state for q's database, or nil when q is not one of the
// store's (a raw pool).
func (l *Local[T]) Of(q Querier) *T {
	db, _ := owner(q)
	if db == nil {
		return nil
	}
	if v, ok := db.locals.Load(l); ok {
		return v.(*T)
	}
	v, _ := db.locals.LoadOrStore(l, l.New())
	return v.(*T)
}
