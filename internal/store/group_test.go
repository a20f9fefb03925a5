package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// Concurrent writers that share commits: each member's work stands or falls
// alone, a panic is rolled back and raised in its own caller, a cancelled
// caller writes nothing, and after-commit hooks run exactly for the members
// that committed.
func TestConcurrentMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		var hooks atomic.Int32
		var wg sync.WaitGroup
		results := make([]error, 120)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						results[i] = fmt.Errorf("panic: %v", p)
					}
				}()
				results[i] = db.Tx(ctx, func(tx *store.Tx) error {
					code := fmt.Sprint(970000 + i)
					if _, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES (?, 'g', 'province')`, code); err != nil {
						return err
					}
					tx.AfterCommit(func() { hooks.Add(1) })
					switch i % 10 {
					case 3:
						return boom
					case 7:
						panic("member panics")
					case 9: // a unique violation inside the member
						_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES (?, 'g', 'province')`, code)
						return err
					}
					return nil
				})
			}()
		}
		wg.Wait()
		want := 0
		for i, err := range results {
			switch i % 10 {
			case 3:
				if !errors.Is(err, boom) {
					t.Errorf("member %d: %v, want boom", i, err)
				}
			case 7:
				if err == nil || err.Error() != "panic: member panics" {
					t.Errorf("member %d: %v, want its panic", i, err)
				}
			case 9:
				if !errors.Is(err, store.ErrExists) {
					t.Errorf("member %d: %v, want ErrExists", i, err)
				}
			default:
				want++
				if err != nil {
					t.Errorf("member %d: %v", i, err)
				}
			}
		}
		var n int
		if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM regions WHERE code >= '970000' AND code < '970120'`); err != nil {
			t.Fatal(err)
		}
		if n != want || int(hooks.Load()) != want {
			t.Errorf("%d rows and %d hooks, want %d of each", n, hooks.Load(), want)
		}

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		err := db.Tx(cancelled, func(tx *store.Tx) error {
			_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES ('970500', 'g', 'province')`)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: %v", err)
		}
		if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM regions WHERE code = '970500'`); err != nil || n != 0 {
			t.Errorf("cancelled caller wrote %d rows (%v)", n, err)
		}
	})
}

// Announced writes: a group waits a moment for writes on their way, and one
// announced write that never comes holds nobody up for long.
func TestExpectedWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		insert := func(code string) error {
			return db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES (?, 'e', 'province')`, code)
				return err
			})
		}
		never := db.Expect() // announced, never written
		defer never()
		var wg sync.WaitGroup
		errc := make(chan error, 40)
		for i := range 40 {
			wg.Go(func() {
				done := db.Expect()
				defer done()
				errc <- insert(fmt.Sprint(960000 + i))
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		if err := insert("960500"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("a write waited %v for one that never came", d)
		}
		var n int
		if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM regions WHERE name = 'e'`); err != nil || n != 41 {
			t.Errorf("%d rows (%v), want 41", n, err)
		}
	})
}
