package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Under a steady stream of readers the WAL is still cut back: it stays near
// the truncation threshold however much is written.
func TestWALStaysBounded(t *testing.T) {
	every, pages := checkpointEvery, walTruncatePages
	checkpointEvery, walTruncatePages = 20*time.Millisecond, 64
	defer func() { checkpointEvery, walTruncatePages = every, pages }()

	path := filepath.Join(t.TempDir(), "wal.db")
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.w.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 { // readers that never all pause at once
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var v []string
				_ = Select(ctx, db.Reader(), &v, `SELECT v FROM t ORDER BY id DESC LIMIT 3`)
			}
		})
	}
	biggest, last, cuts := int64(0), int64(0), 0
	pad := string(make([]byte, 2000))
	for i := range 4000 {
		if err := db.Tx(ctx, func(tx *Tx) error {
			_, err := Exec(ctx, tx, `INSERT INTO t (v) VALUES (?)`, pad)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			biggest = max(biggest, fi.Size())
			if fi.Size() < last { // only a TRUNCATE checkpoint makes the file smaller
				cuts++
			}
			last = fi.Size()
		}
		if i%20 == 0 {
			time.Sleep(time.Millisecond) // writes come from requests, with gaps between them
		}
	}
	close(stop)
	wg.Wait()
	var rows int
	if err := Get(ctx, db.Reader(), &rows, `SELECT count(*) FROM t`); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// How big the WAL gets between cuts depends on how busy the machine is;
	// that it is cut, again and again, does not.
	if cuts < 3 {
		t.Fatalf("the WAL was cut back %d times while %d rows were written", cuts, rows)
	}
	// Two kilobytes a row, about a page each: without truncation the WAL
	// holds more than was written.
	if written := int64(rows) * 2000; biggest > written*3/4 {
		t.Fatalf("the WAL grew to %d bytes for %d bytes of rows", biggest, written)
	}
	t.Logf("%d rows, %d bytes written; the WAL was cut back %d times, held at most %d bytes, its file is %d bytes", rows, rows*2000, cuts, biggest, fi.Size())
}
