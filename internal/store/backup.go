package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of an SQLite database to path while it
// stays open for reads and writes: VACUUM INTO reads one snapshot of the
// database, so the copy holds every transaction committed before it began
// and nothing of those after. The copy is a plain database file (no WAL),
// compacted. On PostgreSQL it refuses: pg_dump or a base backup does that
// (docs/operations.md).
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Dialect != SQLite {
		return errors.New("store: backup: PostgreSQL is backed up with pg_dump or a base backup")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return fmt.Errorf("store: backup: %s exists already", abs)
	}
	// On a reader connection, so writers are not held up.
	_, err = db.r.ExecContext(ctx, `VACUUM INTO '`+strings.ReplaceAll(abs, `'`, `''`)+`'`)
	return err
}

// Restore puts the backup at from in place of the SQLite database file at
// to, which must not be open: the file is copied to a temporary name beside
// the target and renamed over it, and a stale WAL and index are removed, so
// a crash midway leaves the old database or the new one.
func Restore(from, to string) error {
	src, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(src[:min(len(src), 16)]), "SQLite format 3") {
		return fmt.Errorf("store: restore: %s is not an SQLite database", from)
	}
	tmp := to + ".restore"
	if err := os.WriteFile(tmp, src, 0o600); err != nil {
		return err
	}
	for _, f := range []string{to + "-wal", to + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(tmp, to)
}
