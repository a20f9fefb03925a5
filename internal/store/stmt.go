package store

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxStmts bounds the statement cache; queries with expanded IN lists vary,
// and past the bound they simply run unprepared.
const maxStmts = 512

// stmtCache keeps prepared statements on SQLite, which otherwise parses
// every statement anew — about a third of an audited write's CPU.
// (PostgreSQL's driver caches statements per connection by itself.)
type stmtCache struct {
	pool    *sqlx.DB
	mu      sync.Mutex
	ready   map[string]*sql.Stmt
	pending map[string]struct{}
}

func newStmtCache(pool *sqlx.DB) *stmtCache {
	return &stmtCache{pool: pool, ready: map[string]*sql.Stmt{}, pending: map[string]struct{}{}}
}

// lookup returns the prepared statement for query. Inside a transaction on
// the one-connection writer pool it cannot prepare (the connection is
// taken), so it notes the query and prepareNoted does it after the commit;
// on the reader pool it prepares at once.
func (c *stmtCache) lookup(ctx context.Context, query string, now bool) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.ready[query]; ok {
		return st
	}
	if len(c.ready)+len(c.pending) >= maxStmts {
		return nil
	}
	if !now {
		c.pending[query] = struct{}{}
		return nil
	}
	c.mu.Unlock()
	st, err := c.pool.PrepareContext(ctx, query)
	c.mu.Lock()
	if err != nil {
		return nil // the query then runs unprepared and reports its own error
	}
	if prev, dup := c.ready[query]; dup {
		st.Close()
		return prev
	}
	c.ready[query] = st
	return st
}

// prepareNoted prepares the queries noted during transactions. It must not
// hold the lock while it waits for the writer connection: the transaction
// that has it may need the lock to look up its statements.
func (c *stmtCache) prepareNoted(ctx context.Context) {
	c.mu.Lock()
	noted := make([]string, 0, len(c.pending))
	for q := range c.pending {
		noted = append(noted, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range noted {
		st, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, dup := c.ready[q]; dup {
			st.Close()
		} else {
			c.ready[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.ready {
		st.Close()
	}
	c.ready = map[string]*sql.Stmt{}
}

// Pool is a connection pool that reuses prepared statements where the
// engine benefits.
type Pool struct {
	*sqlx.DB
	cache *stmtCache
	db    *DB
}

// prepared returns a ready statement for query on q, bound to q's
// transaction when q is one, or nil to run the query unprepared.
func prepared(ctx context.Context, q Querier, query string) *sqlx.Stmt {
	switch q := q.(type) {
	case *Tx:
		if q.cache == nil {
			return nil
		}
		if st := q.cache.lookup(ctx, query, false); st != nil {
			return &sqlx.Stmt{Stmt: q.Tx.StmtContext(ctx, st), Mapper: q.Mapper}
		}
	case *Pool:
		if q.cache == nil {
			return nil
		}
		if st := q.cache.lookup(ctx, query, true); st != nil {
			return &sqlx.Stmt{Stmt: st, Mapper: q.Mapper}
		}
	}
	return nil
}
