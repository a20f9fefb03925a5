package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

func TestSQLitePragmas(t *testing.T) {
	db, _ := storetest.SQLite(t)
	ctx := context.Background()
	for _, q := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "1"},
		{"busy_timeout", "10000"},
	} {
		for name, pool := range map[string]store.Querier{"reader": db.Reader(), "writer": db.Writer()} {
			var got string
			if err := store.Get(ctx, pool, &got, "PRAGMA "+q.pragma); err != nil {
				t.Fatal(err)
			}
			if got != q.want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, q.pragma, got, q.want)
			}
		}
	}
}

// The conformance checks below run on every engine.
func TestConformance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t.Run("time round-trips at microsecond precision", func(t *testing.T) {
			now := time.Date(2026, 3, 31, 23, 59, 58, 123456000, time.UTC)
			err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES ('990000', 't', 'province')`)
				if err != nil {
					return err
				}
				_, err = store.Exec(ctx, tx, `INSERT INTO departments (id, code, name, region_code, created_at) VALUES (?, ?, ?, ?, ?)`,
					"d1", "d1", "测试局", "990000", now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var got time.Time
			if err := store.Get(ctx, db.Reader(), &got, `SELECT created_at FROM departments WHERE id = ?`, "d1"); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(now) {
				t.Fatalf("got %v, want %v", got, now)
			}
		})
		t.Run("unique violation maps to ErrExists", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES ('990000', 'dup', 'province')`)
				return err
			})
			if !errors.Is(err, store.ErrExists) {
				t.Fatalf("got %v, want ErrExists", err)
			}
		})
		t.Run("a failed transaction leaves nothing", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.Tx(ctx, func(tx *store.Tx) error {
				if _, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES ('990001', 'x', 'province')`); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			var n int
			if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM regions WHERE code = '990001'`); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatal("rolled-back row is visible")
			}
		})
		t.Run("missing row is ErrNotFound", func(t *testing.T) {
			var s string
			err := store.Get(ctx, db.Reader(), &s, `SELECT name FROM regions WHERE code = ?`, "nope")
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("concurrent writers do not fail", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- db.Tx(ctx, func(tx *store.Tx) error {
						_, err := store.Exec(ctx, tx, `INSERT INTO regions (code, name, level) VALUES (?, 'c', 'province')`, fmt.Sprint(980000+i))
						return err
					})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("audit tables refuse updates", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := store.Exec(ctx, tx, `UPDATE audit_head SET seq = seq`)
				if err != nil {
					return err
				}
				_, err = store.Exec(ctx, tx, `INSERT INTO audit_tree (idx, hash) VALUES (0, ?)`, []byte{1})
				if err != nil {
					return err
				}
				_, err = store.Exec(ctx, tx, `UPDATE audit_tree SET hash = ? WHERE idx = 0`, []byte{2})
				return err
			})
			if err == nil {
				t.Fatal("update of audit_tree succeeded")
			}
		})
	})
}
