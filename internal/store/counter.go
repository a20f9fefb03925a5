package store

import (
	"context"
	"fmt"
)

// counterKey names a counter row in tx.Local.
type counterKey struct{ table, key string }

// counter is a counter row as a transaction has advanced it.
type counter struct{ first, last int64 }

// Next advances the counter row key of table — a table of (keyCol, last) —
// by n and returns its new value. The first call in a transaction upserts
// the row, which on PostgreSQL also locks it until the transaction ends, so
// no two transactions draw the same numbers; later calls count on in
// memory, and the row is written once before the commit (see BeforeCommit).
func Next(ctx context.Context, tx *Tx, table, keyCol string, key any, n int64) (int64, error) {
	c := tx.Local(counterKey{table, fmt.Sprint(key)}, func() any { return &counter{} }).(*counter)
	if c.first > 0 {
		c.last += n
		return c.last, nil
	}
	var last int64
	if err := Get(ctx, tx, &last, `INSERT INTO `+table+` (`+keyCol+`, last) VALUES (?, ?)
		ON CONFLICT (`+keyCol+`) DO UPDATE SET last = `+table+`.last + excluded.last RETURNING last`, key, n); err != nil {
		return 0, err
	}
	c.first, c.last = last, last
	tx.BeforeCommit(func() error {
		if c.last == c.first {
			return nil
		}
		_, err := Exec(ctx, tx, `UPDATE `+table+` SET last = ? WHERE `+keyCol+` = ?`, c.last, key)
		return err
	})
	return last, nil
}
