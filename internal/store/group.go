package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// maxGroup bounds how many write transactions share one commit, and so how
// long the first of them waits for its acknowledgement.
const maxGroup = 64

// commitDelay is how long a group stays open for writes that are on their
// way (see DB.Expect) before it commits without them.
const commitDelay = 200 * time.Microsecond

// group commits concurrent write transactions on SQLite together. SQLite
// runs one writer at a time; what each commit costs (writing the changed
// pages to the WAL) is paid once for a group instead of once per caller.
//
// Each caller runs its function in turn on the one writer connection,
// inside a savepoint of the group's database transaction: a function that
// fails is rolled back to its savepoint and fails alone. The caller that
// finds nobody queued behind it commits the group, and every member returns
// only once that commit is done, with its result — so nothing is
// acknowledged before it is durable, and a failed commit fails every member.
//
// A group also waits up to commitDelay for writes that have been announced
// (DB.Expect) but have not reached it yet — the same idea as PostgreSQL's
// commit_delay with commit_siblings — so that under load a commit carries
// many members; with nothing announced it commits at once.
type group struct {
	db       *DB
	mu       sync.Mutex   // held while a member runs or the group commits
	waiting  atomic.Int32 // callers queued for mu
	expected atomic.Int32 // writes announced and not yet over
	tx       *sqlx.Tx     // the open transaction, nil between groups
	open     *commit      // the open group's outcome
	serial   int          // names savepoints
}

// commit is a group's outcome, known once done is closed.
type commit struct {
	n      int           // members applied
	after  []func()      // their after-commit hooks, in order
	undo   []func()      // their rollback hooks
	joined chan struct{} // closed, and replaced, when a member joins
	done   chan struct{}
	err    error
}

// run runs fn as one member of a group.
func (g *group) run(ctx context.Context, fn func(tx *Tx) error) (err error) {
	g.waiting.Add(1)
	g.mu.Lock()
	g.waiting.Add(-1)
	c, err := g.member(ctx, fn)
	if g.linger() {
		// The last to join commits: if someone joins while this one waits,
		// the newcomer takes that over.
		open, n, joined := g.open, g.open.n, g.open.joined
		g.mu.Unlock()
		t := time.NewTimer(commitDelay)
		select {
		case <-joined:
		case <-t.C:
		}
		t.Stop()
		g.mu.Lock()
		if g.open == open && open.n == n {
			g.maybeCommit()
		}
	} else {
		g.maybeCommit()
	}
	g.mu.Unlock()
	if err != nil {
		return err
	}
	<-c.done
	return c.err
}

// linger reports whether the open group should wait for announced writes
// before it commits: nobody is queued to join now, but more writes are in
// progress than the group holds.
func (g *group) linger() bool {
	if g.tx == nil || g.waiting.Load() > 0 || g.open.n >= maxGroup {
		return false
	}
	return int(g.expected.Load()) > g.open.n
}

// member applies fn inside a savepoint of the open transaction, beginning
// one if there is none. A panic in fn is rolled back like an error and then
// raised again in the caller, after the group has been dealt with.
func (g *group) member(ctx context.Context, fn func(tx *Tx) error) (c *commit, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g.tx == nil {
		// The transaction outlives the caller that begins it: it must not end
		// with that caller's context.
		x, err := g.db.w.BeginTxx(context.Background(), nil)
		if err != nil {
			return nil, fmt.Errorf("store: begin: %w", err)
		}
		g.tx, g.open = x, &commit{done: make(chan struct{}), joined: make(chan struct{})}
	}
	c = g.open
	close(c.joined) // wakes a member lingering for this one
	c.joined = make(chan struct{})
	// The first member needs no savepoint: if it fails, the whole
	// transaction is rolled back, with nobody else's work in it.
	first := c.n == 0
	sp := ""
	if !first {
		g.serial++
		sp = fmt.Sprintf("m%d", g.serial)
		if _, err := g.tx.Exec("SAVEPOINT " + sp); err != nil {
			g.abort(err)
			return nil, fmt.Errorf("store: savepoint: %w", err)
		}
	}
	tx := &Tx{Tx: g.tx, Dialect: SQLite, Now: NowIn(ctx), cache: g.db.wcache, db: g.db}
	defer func() {
		if p := recover(); p != nil {
			g.undo(sp)
			run(tx.undo)
			g.maybeCommit()
			g.mu.Unlock()
			panic(p)
		}
	}()
	err = fn(tx)
	if err == nil {
		err = tx.finish()
	}
	if err != nil {
		g.undo(sp)
		run(tx.undo)
		return nil, err
	}
	if !first {
		if _, err := g.tx.Exec("RELEASE " + sp); err != nil {
			run(tx.undo)
			g.abort(err)
			return nil, fmt.Errorf("store: release: %w", mapErr(err))
		}
	}
	c.n++
	c.after = append(c.after, tx.after...)
	c.undo = append(c.undo, tx.undo...)
	return c, nil
}

// undo rolls a failed member back to its savepoint, or the first member
// (sp "") back with the whole transaction. When SQLite has already rolled
// the whole transaction back (it does so on some errors), the group is lost
// and its members fail.
func (g *group) undo(sp string) {
	if g.tx == nil {
		return
	}
	if sp == "" {
		g.abort(nil)
		return
	}
	_, err := g.tx.Exec("ROLLBACK TO " + sp)
	if err == nil {
		_, err = g.tx.Exec("RELEASE " + sp)
	}
	if err != nil {
		g.abort(fmt.Errorf("store: group rolled back: %w", err))
	}
}

// maybeCommit commits the open group when nobody is queued to join it or it
// is full.
func (g *group) maybeCommit() {
	if g.tx == nil || (g.waiting.Load() > 0 && g.open.n < maxGroup) {
		return
	}
	g.commit()
}

// commit commits the open group.
func (g *group) commit() {
	c := g.open
	if c.n == 0 {
		g.abort(nil)
		return
	}
	err := g.tx.Commit()
	g.tx, g.open = nil, nil
	if err != nil {
		c.err = fmt.Errorf("store: commit: %w", mapErr(err))
		run(c.undo)
	} else {
		run(c.after)
		if g.db.wcache != nil {
			g.db.wcache.prepareNoted(context.Background())
		}
	}
	close(c.done)
}

// abort rolls the open transaction back and fails its members with err.
func (g *group) abort(err error) {
	if g.tx == nil {
		return
	}
	_ = g.tx.Rollback()
	c := g.open
	g.tx, g.open = nil, nil
	run(c.undo)
	if err == nil {
		err = fmt.Errorf("store: group rolled back")
	}
	c.err = err
	close(c.done)
}

// Expect announces a write that is on its way to DB.Tx — a request that
// will write once it has read and checked what it needs — so that a group
// about to commit may wait a moment for it. Call the returned function when
// the write is over. On PostgreSQL it does nothing.
func (db *DB) Expect() (done func()) {
	if db.group == nil {
		return func() {}
	}
	db.group.expected.Add(1)
	return func() { db.group.expected.Add(-1) }
}
