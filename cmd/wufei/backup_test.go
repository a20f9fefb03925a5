package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wufei/internal/bench"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// `wufei backup` copies an SQLite database while manifests are being
// written to it; `wufei audit verify` passes on the copy, which holds a
// whole number of lifecycles' steps, and `wufei restore` puts it in place.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db, url := storetest.SQLite(t)
	db.Close()
	app, err := server.Open(ctx, server.Config{DB: url, Demo: true, DemoUnits: 0, KeyFile: filepath.Join(t.TempDir(), "k")})
	if err != nil {
		t.Fatal(err)
	}
	defer app.DB.Close()
	if _, err := store.Exec(ctx, app.DB.Writer(), `UPDATE licences SET capacity_g = 9000000000000000`); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()
	c := bench.NewClient(srv.URL, 8)
	p, err := c.Parties(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var done atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Lifecycle(ctx, p); err != nil {
					t.Error(err)
					return
				}
				done.Add(1)
			}
		})
	}
	for done.Load() < 20 && !t.Failed() {
		time.Sleep(5 * time.Millisecond)
	}
	copyFile := filepath.Join(t.TempDir(), "copy.db")
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backup", "--db", url, "--to", copyFile}, &out, &errb); err != nil {
		t.Fatalf("backup: %v %s", err, errb.String())
	}
	close(stop)
	wg.Wait()
	out.Reset()
	if err := run(ctx, []string{"audit", "verify", "--db", "sqlite:" + copyFile}, &out, &errb); err != nil ||
		!strings.Contains(out.String(), "OK") {
		t.Fatalf("verify the copy: %v %s %s", err, out.String(), errb.String())
	}
	// Nothing half-written: every manifest in the copy has its line and a step per status it passed.
	cp, err := store.Open(ctx, "sqlite:"+copyFile)
	if err != nil {
		t.Fatal(err)
	}
	var orphans int
	if err := store.Get(ctx, cp.Reader(), &orphans, `SELECT count(*) FROM manifests m WHERE m.year <> 2099 AND (
		NOT EXISTS (SELECT 1 FROM manifest_lines l WHERE l.manifest_id = m.id) OR
		(SELECT count(*) FROM manifest_steps s WHERE s.manifest_id = m.id) <>
		CASE m.status WHEN 'draft' THEN 1 WHEN 'submitted' THEN 2 WHEN 'in_transit' THEN 3 WHEN 'received' THEN 4
		WHEN 'completed' THEN 5 ELSE -1 END)`); err != nil || orphans != 0 {
		t.Errorf("%d half-written manifests in the copy (%v)", orphans, err)
	}
	cp.Close()

	// Restore into a new place and verify there too.
	target := filepath.Join(t.TempDir(), "restored.db")
	if err := run(ctx, []string{"restore", "--from", copyFile, "--db", "sqlite:" + target}, &out, &errb); err != nil {
		t.Fatalf("restore: %v %s", err, errb.String())
	}
	out.Reset()
	if err := run(ctx, []string{"audit", "verify", "--db", "sqlite:" + target}, &out, &errb); err != nil ||
		!strings.Contains(out.String(), "OK") {
		t.Fatalf("verify the restored database: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"backup", "--db", url, "--to", copyFile}, &out, &errb); err == nil {
		t.Error("a backup over an existing file was written")
	}
}
