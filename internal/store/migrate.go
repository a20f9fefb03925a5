package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrations holds the schema migrations, one folder per engine.
//
//go:embed migrations
var Migrations embed.FS

// Migrate brings the schema up to date with the migrations for this engine.
func (db *DB) Migrate(ctx context.Context) error {
	dir, err := fs.Sub(Migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.w.DB, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if db.Dialect == SQLite {
		// Fold the migration's WAL back into the main file.
		if _, err := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(RESTART)"); err != nil {
			return fmt.Errorf("store: checkpoint: %w", err)
		}
	}
	return nil
}
