package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wufei/internal/jobs"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// nodes opens n connections to one fresh database per engine, as n app
// nodes sharing it would.
func nodes(t *testing.T, n int, fn func(t *testing.T, dbs []*store.DB)) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			db, url := e.Open(t)
			dbs := []*store.DB{db}
			for range n - 1 {
				other, err := store.Open(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { other.Close() })
				dbs = append(dbs, other)
			}
			fn(t, dbs)
		})
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSchedule(t *testing.T) {
	nodes(t, 1, func(t *testing.T, dbs []*store.DB) {
		const every = 40 * time.Millisecond
		var mu sync.Mutex
		var times []time.Time
		s := jobs.New(dbs[0], "node-a")
		s.Add(jobs.Rule{Name: "tick", Every: every, Run: func(ctx context.Context, now time.Time) error {
			mu.Lock()
			times = append(times, now)
			mu.Unlock()
			return nil
		}})
		s.Start(context.Background())
		eventually(t, "four runs", func() bool { mu.Lock(); defer mu.Unlock(); return len(times) >= 4 })
		s.Stop()
		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < every {
				t.Errorf("run %d came %s after the one before, sooner than every %s", i, gap, every)
			}
			if times[i].Location() != time.UTC {
				t.Errorf("now is in %s, want UTC", times[i].Location())
			}
		}
		n := len(times)
		if st := s.Stats()["tick"]; st.Runs != int64(n) || st.Errors != 0 {
			t.Errorf("stats %+v after %d runs", st, n)
		}
		// After Stop nothing runs.
		time.Sleep(3 * every)
		if len(times) != n {
			t.Errorf("%d runs after Stop", len(times)-n)
		}
		// The lease records the run and is held until the next due time.
		var lease struct {
			Holder  string    `db:"holder"`
			Until   time.Time `db:"until"`
			LastRun time.Time `db:"last_run_at"`
		}
		if err := store.Get(context.Background(), dbs[0].Reader(), &lease,
			`SELECT holder, until, last_run_at FROM job_leases WHERE name = 'tick'`); err != nil {
			t.Fatal(err)
		}
		if last := times[n-1]; lease.Holder != "node-a" || !lease.LastRun.Equal(last) || !lease.Until.Equal(last.Add(every)) {
			t.Errorf("lease %+v, last run %s", lease, last)
		}
	})
}

func TestOneNodeAtATime(t *testing.T) {
	nodes(t, 3, func(t *testing.T, dbs []*store.DB) {
		var running, most, runs atomic.Int64
		rule := func(ctx context.Context, now time.Time) error {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			runs.Add(1)
			time.Sleep(15 * time.Millisecond)
			return nil
		}
		var ss []*jobs.Scheduler
		for i, db := range dbs {
			s := jobs.New(db, "")
			s.Add(jobs.Rule{Name: "sweep", Every: 5 * time.Millisecond, Run: rule})
			// A second rule of another name is not held back by the first.
			s.Add(jobs.Rule{Name: "other", Every: time.Hour, Run: func(context.Context, time.Time) error { return nil }})
			if i == 0 && s.Holder() == "" {
				t.Fatal("no holder name")
			}
			ss = append(ss, s)
		}
		for _, s := range ss {
			s.Start(context.Background())
		}
		eventually(t, "ten runs", func() bool { return runs.Load() >= 10 })
		for _, s := range ss {
			s.Stop()
		}
		if most.Load() != 1 {
			t.Fatalf("%d nodes ran the rule at once", most.Load())
		}
		var total, skipped, other int64
		for _, s := range ss {
			st := s.Stats()
			total += st["sweep"].Runs
			skipped += st["sweep"].Skipped
			other += st["other"].Runs
		}
		if total != runs.Load() || skipped == 0 {
			t.Errorf("runs %d (counted %d), skipped %d", runs.Load(), total, skipped)
		}
		if other != 1 {
			t.Errorf("the hourly rule ran %d times on three nodes, want once", other)
		}
	})
}

func TestStopWaits(t *testing.T) {
	nodes(t, 1, func(t *testing.T, dbs []*store.DB) {
		started, release := make(chan struct{}), make(chan struct{})
		var finished atomic.Bool
		var ctxErr atomic.Value
		s := jobs.New(dbs[0], "node-a")
		s.Add(jobs.Rule{Name: "slow", Every: time.Hour, Run: func(ctx context.Context, now time.Time) error {
			close(started)
			<-release
			if ctx.Err() != nil {
				ctxErr.Store(ctx.Err())
			}
			finished.Store(true)
			return nil
		}})
		s.Start(context.Background())
		<-started
		stopped := make(chan struct{})
		go func() { s.Stop(); close(stopped) }()
		select {
		case <-stopped:
			t.Fatal("Stop returned while the rule was running")
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("Stop did not return after the rule finished")
		}
		if !finished.Load() {
			t.Fatal("Stop returned before the rule finished")
		}
		if err := ctxErr.Load(); err != nil {
			t.Errorf("Stop cancelled the running rule: %v", err)
		}
		if st := s.Stats()["slow"]; st.Runs != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestErrorsAndLeases(t *testing.T) {
	nodes(t, 2, func(t *testing.T, dbs []*store.DB) {
		ctx := context.Background()

		// Errors and panics are counted and recorded with the lease.
		var calls atomic.Int64
		s := jobs.New(dbs[0], "node-a")
		s.Add(jobs.Rule{Name: "failing", Every: 5 * time.Millisecond, Run: func(context.Context, time.Time) error {
			if calls.Add(1)%2 == 0 {
				panic("boom")
			}
			return errors.New("库不可用")
		}})
		s.Start(ctx)
		eventually(t, "four failures", func() bool { return calls.Load() >= 4 })
		s.Stop()
		st := s.Stats()["failing"]
		if st.Errors != st.Runs || st.Runs < 4 || st.LastError == "" {
			t.Errorf("stats %+v", st)
		}
		var lastError string
		if err := store.Get(ctx, dbs[0].Reader(), &lastError, `SELECT last_error FROM job_leases WHERE name = 'failing'`); err != nil {
			t.Fatal(err)
		}
		if lastError != st.LastError {
			t.Errorf("lease last_error %q, stats %q", lastError, st.LastError)
		}

		// A lease left by a node that died is taken over once it lapses.
		lapse := store.Now().Add(300 * time.Millisecond)
		if err := dbs[0].Tx(ctx, func(tx *store.Tx) error {
			_, err := store.Exec(ctx, tx, `INSERT INTO job_leases (name, holder, until) VALUES ('orphan', 'dead-node', ?)`, lapse)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		ran := make(chan time.Time, 1)
		b := jobs.New(dbs[1], "node-b")
		b.Add(jobs.Rule{Name: "orphan", Every: time.Hour, Run: func(_ context.Context, now time.Time) error {
			select {
			case ran <- now:
			default:
			}
			return nil
		}})
		b.Start(ctx)
		select {
		case now := <-ran:
			if now.Before(lapse) {
				t.Errorf("ran at %s, before the dead node's lease lapsed at %s", now, lapse)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the lapsed lease was not taken over")
		}
		b.Stop()

		// A node that finds its lease taken while running is told to stop.
		started := make(chan struct{})
		cancelled := make(chan error, 1)
		c := jobs.New(dbs[0], "node-c")
		c.Lease = 30 * time.Millisecond
		c.Add(jobs.Rule{Name: "long", Every: time.Hour, Run: func(ctx context.Context, now time.Time) error {
			close(started)
			select {
			case <-ctx.Done():
				cancelled <- ctx.Err()
				return ctx.Err()
			case <-time.After(10 * time.Second):
				cancelled <- nil
				return nil
			}
		}})
		c.Start(ctx)
		<-started
		if err := dbs[1].Tx(ctx, func(tx *store.Tx) error {
			_, err := store.Exec(ctx, tx, `UPDATE job_leases SET holder = 'node-d' WHERE name = 'long'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := <-cancelled; err == nil {
			t.Error("the run went on after its lease was taken")
		}
		c.Stop()
		var holder string
		if err := store.Get(ctx, dbs[0].Reader(), &holder, `SELECT holder FROM job_leases WHERE name = 'long'`); err != nil {
			t.Fatal(err)
		}
		if holder != "node-d" {
			t.Errorf("the lease is held by %s after node-c lost it", holder)
		}
	})
}

func TestAddChecks(t *testing.T) {
	db, _ := storetest.SQLite(t)
	s := jobs.New(db, "n")
	ok := jobs.Rule{Name: "a", Every: time.Second, Run: func(context.Context, time.Time) error { return nil }}
	s.Add(ok)
	for name, r := range map[string]jobs.Rule{
		"twice":     ok,
		"no name":   {Every: time.Second, Run: ok.Run},
		"no period": {Name: "b", Run: ok.Run},
		"no run":    {Name: "c", Every: time.Second},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			s.Add(r)
		}()
	}
	if got := s.Rules(); len(got) != 1 || got[0] != "a" {
		t.Errorf("rules %v", got)
	}
	s.Stop() // before Start: nothing to stop
}

func TestSweep(t *testing.T) {
	db, _ := storetest.SQLite(t)
	var got *store.DB
	r := jobs.Sweep("check", time.Minute, db, func(_ context.Context, d *store.DB, now time.Time) (int, error) {
		got = d
		return 2, errors.New("部分失败")
	})
	if r.Name != "check" || r.Every != time.Minute {
		t.Fatalf("rule %+v", r)
	}
	if err := r.Run(context.Background(), store.Now()); err == nil || got != db {
		t.Fatalf("run: %v, db %v", err, got)
	}
}
