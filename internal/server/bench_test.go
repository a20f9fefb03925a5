package server_test

import (
	"context"
	"path/filepath"
	"testing"

	"wufei/internal/server"
	"wufei/internal/store"
)

// BenchmarkStartup measures what `wufei serve` does before it listens, on an
// empty SQLite database: open, migrate, load the regions, departments and
// built-in catalogue, create the audit key, build the handler. The baseline
// "migrate" is opening and migrating the same engine with nothing else.
func BenchmarkStartup(b *testing.B) {
	ctx := context.Background()
	b.Run("migrate", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			url := "sqlite:" + filepath.Join(b.TempDir(), "w.db")
			b.StartTimer()
			db, err := store.Open(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
	})
	b.Run("serve", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			app, err := server.Open(ctx, server.Config{DB: "sqlite:" + filepath.Join(dir, "w.db"),
				KeyFile: filepath.Join(dir, "k"), Version: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			app.DB.Close()
		}
	})
}
