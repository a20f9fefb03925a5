package store_test

import (
	"context"
	"sync"
	"testing"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// Counters drawn many times in one transaction and by concurrent
// transactions give each number once, and the row ends at the last.
func TestNext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		for w := range 8 {
			wg.Go(func() {
				errc <- db.Tx(ctx, func(tx *store.Tx) error {
					for range 5 {
						n, err := store.Next(ctx, tx, "ledger_serials", "scope", "test", 1)
						if err != nil {
							return err
						}
						mu.Lock()
						if seen[n] {
							t.Errorf("worker %d drew %d twice", w, n)
						}
						seen[n] = true
						mu.Unlock()
					}
					return nil
				})
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		var last int64
		if err := store.Get(ctx, db.Reader(), &last, `SELECT last FROM ledger_serials WHERE scope = 'test'`); err != nil || last != 40 {
			t.Fatalf("counter at %d (%v), want 40", last, err)
		}
		// Numbers drawn by a transaction that rolls back are drawn again.
		_ = db.Tx(ctx, func(tx *store.Tx) error {
			_, _ = store.Next(ctx, tx, "ledger_serials", "scope", "test", 3)
			return context.Canceled
		})
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			n, err := store.Next(ctx, tx, "ledger_serials", "scope", "test", 1)
			if err == nil && n != 41 {
				t.Errorf("after a rollback drew %d, want 41", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}
