// Package jobs runs the platform's time-based rules — a receipt past its
// working-day deadline, waste stored too long — in the background while the
// server runs. Rules that are caused by a change run in that change's
// transaction instead; these are the ones nothing but the clock triggers.
//
// Several app nodes may share one PostgreSQL database. Each rule has a lease
// row in job_leases: a node runs the rule only after taking the lease, renews
// it while the rule runs, and on finishing leaves it held until the rule is
// next due. So a rule runs on one node at a time and about once per period
// across all nodes; if a node dies mid-run, its lease lapses and another node
// takes the rule over.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"wufei/internal/store"
)

// Rule is one scheduled rule. Run gets the time of the tick (UTC,
// microseconds, as the store keeps times); its context is cancelled only if
// the node loses the lease, so a rule should commit its work in transactions
// short enough to be cut between.
type Rule struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// Stat counts what a rule did on this node.
type Stat struct {
	Runs      int64     `json:"runs"`
	Errors    int64     `json:"errors"`  // failed runs and lease errors
	Skipped   int64     `json:"skipped"` // ticks at which another node held the lease
	LastRun   time.Time `json:"last_run"`
	LastError string    `json:"last_error"`
}

// DefaultLease is how long a run holds its rule between renewals.
const DefaultLease = time.Minute

// retryAfter bounds the wait after an error taking the lease.
const retryAfter = 30 * time.Second

// Scheduler runs rules on one node.
type Scheduler struct {
	// Lease is how long a run holds its rule before it must renew (every
	// third of it); a node that dies loses its rules after at most this long.
	// Set it before Start.
	Lease time.Duration

	db     *store.DB
	holder string

	mu      sync.Mutex
	rules   []Rule
	stats   map[string]*Stat
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a scheduler on db. holder names this node in the leases; ""
// makes a unique name from the host name and process id.
func New(db *store.DB, holder string) *Scheduler {
	if holder == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		holder = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return &Scheduler{Lease: DefaultLease, db: db, holder: holder, stats: map[string]*Stat{}}
}

// Holder is the name this node takes leases under.
func (s *Scheduler) Holder() string { return s.holder }

// Add registers a rule. Rules are wired at start-up, so a rule without a
// name, period or function, a second rule of one name, or a rule added after
// Start is a programming error and panics.
func (s *Scheduler) Add(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Name == "" || r.Every <= 0 || r.Run == nil:
		panic("jobs: a rule needs a name, a period and a function")
	case s.stats[r.Name] != nil:
		panic("jobs: rule " + r.Name + " added twice")
	case s.started:
		panic("jobs: rule " + r.Name + " added after Start")
	}
	s.rules = append(s.rules, r)
	s.stats[r.Name] = &Stat{}
}

// Rules lists the registered rules' names.
func (s *Scheduler) Rules() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, len(s.rules))
	for i, r := range s.rules {
		names[i] = r.Name
	}
	return names
}

// Start runs every rule in the background until ctx ends or Stop is called.
// Each rule is tried at once, then whenever it is next due.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	for _, r := range s.rules {
		s.wg.Add(1)
		go s.loop(ctx, r)
	}
}

// Stop stops scheduling and waits for rules that are running to finish.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
}

// Stats returns each rule's counters on this node.
func (s *Scheduler) Stats() map[string]Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Stat, len(s.stats))
	for k, v := range s.stats {
		out[k] = *v
	}
	return out
}

func (s *Scheduler) count(name string, f func(*Stat)) {
	s.mu.Lock()
	f(s.stats[name])
	s.mu.Unlock()
}

func (s *Scheduler) loop(ctx context.Context, r Rule) {
	defer s.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(s.tick(ctx, r))
	}
}

// tick runs r if its lease can be had and returns how long to wait.
func (s *Scheduler) tick(ctx context.Context, r Rule) time.Duration {
	now := store.Now()
	got, until, err := s.acquire(ctx, r.Name, now)
	switch {
	case ctx.Err() != nil:
		return 0 // stopping
	case err != nil:
		s.count(r.Name, func(st *Stat) { st.Errors++; st.LastError = err.Error() })
		slog.Error("jobs: lease", "job", r.Name, "err", err)
		return min(r.Every, retryAfter)
	case !got:
		s.count(r.Name, func(st *Stat) { st.Skipped++ })
		// Wake when the holder's lease or period ends.
		return min(max(until.Sub(store.Now()), time.Millisecond), r.Every)
	}
	s.run(ctx, r, now)
	return max(time.Until(now.Add(r.Every)), 0)
}

// acquire takes the lease of name if it is free (its until has passed) and
// otherwise reports until when it is held. One statement, so two nodes
// racing for it cannot both win: PostgreSQL re-checks the WHERE on the row
// the other node committed, and SQLite runs writers one at a time.
func (s *Scheduler) acquire(ctx context.Context, name string, now time.Time) (bool, time.Time, error) {
	var got bool
	var until time.Time
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		n, err := store.Exec(ctx, tx, `INSERT INTO job_leases (name, holder, until, last_error) VALUES (?, ?, ?, '')
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
			WHERE job_leases.until <= ?`, name, s.holder, now.Add(s.Lease), now)
		if err != nil || n == 1 {
			got = n == 1
			return err
		}
		return store.Get(ctx, tx, &until, `SELECT until FROM job_leases WHERE name = ?`, name)
	})
	return got, until, err
}

// run runs r under its lease, renewing the lease meanwhile, and then leaves
// the lease held until r is next due. Lease rows are bookkeeping, not facts
// of the register, so they are not audited.
func (s *Scheduler) run(ctx context.Context, r Rule, now time.Time) {
	// Stop waits for the run instead of cutting it short; only a lost lease
	// cancels it.
	base := context.WithoutCancel(ctx)
	runCtx, cancel := context.WithCancel(base)
	defer cancel()
	var renewing sync.WaitGroup
	done := make(chan struct{})
	renewing.Add(1)
	go func() {
		defer renewing.Done()
		s.renew(runCtx, cancel, r.Name, done)
	}()

	start := time.Now()
	err := safeRun(runCtx, r, now)
	close(done)
	renewing.Wait()
	took := time.Since(start)

	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if ferr := s.db.Tx(base, func(tx *store.Tx) error {
		_, err := store.Exec(base, tx, `UPDATE job_leases SET until = ?, last_run_at = ?, last_error = ?
			WHERE name = ? AND holder = ?`, now.Add(r.Every), now, msg, r.Name, s.holder)
		return err
	}); ferr != nil {
		slog.Error("jobs: lease", "job", r.Name, "err", ferr)
	}
	s.count(r.Name, func(st *Stat) {
		st.Runs++
		st.LastRun = now
		if err != nil {
			st.Errors++
			st.LastError = msg
		}
	})
	if err != nil {
		slog.Error("jobs: rule failed", "job", r.Name, "err", err, "took", took)
		return
	}
	slog.Debug("jobs: rule ran", "job", r.Name, "took", took)
}

// renew extends the lease every third of its length until done; if another
// node has taken the lease meanwhile, it cancels the run.
func (s *Scheduler) renew(ctx context.Context, cancel context.CancelFunc, name string, done <-chan struct{}) {
	t := time.NewTicker(max(s.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var n int64
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = store.Exec(ctx, tx, `UPDATE job_leases SET until = ? WHERE name = ? AND holder = ?`,
				store.Now().Add(s.Lease), name, s.holder)
			return err
		})
		switch {
		case err != nil:
			slog.Warn("jobs: renewing lease", "job", name, "err", err) // try again at the next tick
		case n == 0:
			slog.Error("jobs: lease lost; stopping the run", "job", name)
			cancel()
			return
		}
	}
}

// safeRun turns a panicking rule into a failed run.
func safeRun(ctx context.Context, r Rule, now time.Time) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r.Run(ctx, now)
}

// Sweep makes a Rule of a check in the lifecycle packages' shape — it looks
// at everything due at now, raises alerts and says how many — and logs the
// count when there is one.
func Sweep(name string, every time.Duration, db *store.DB, check func(context.Context, *store.DB, time.Time) (int, error)) Rule {
	return Rule{Name: name, Every: every, Run: func(ctx context.Context, now time.Time) error {
		n, err := check(ctx, db, now)
		if n > 0 {
			slog.Info("jobs: alerts raised", "job", name, "alerts", n)
		}
		return err
	}}
}
