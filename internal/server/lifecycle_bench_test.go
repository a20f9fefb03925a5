package server_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"testing"

	"wufei/internal/bench"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkLifecycle runs a manifest's whole life over HTTP — create,
// submit, pickup, receive, complete, each with its checks, audit entry and
// step — against the same rows written raw on the same engine: the manifest,
// its line and leg, and one update per step, each step in its own
// transaction straight through database/sql (bench.RawLifecycles).
// `wufei bench` measures the same with a server of its own.
func BenchmarkLifecycle(b *testing.B) {
	// The collector as the server runs it, for the raw side too.
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	server.TuneGC()
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db, _ := e.Open(b)
			app, err := server.New(ctx, db, server.Config{Demo: true, DemoUnits: 0, Version: "bench",
				KeyFile: filepath.Join(b.TempDir(), "k")})
			if err != nil {
				b.Fatal(err)
			}
			// Room for every benchmark iteration on the demo licence.
			if _, err := store.Exec(ctx, db.Writer(), `UPDATE licences SET capacity_g = 9000000000000000`); err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(app.Handler)
			defer ts.Close()
			c := bench.NewClient(ts.URL, 128)
			p, err := c.Parties(ctx)
			if err != nil {
				b.Fatal(err)
			}
			lifecycle := func(ctx context.Context) error {
				_, err := c.Lifecycle(ctx, p)
				return err
			}

			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				took, err := bench.RawLifecycles(ctx, db, p, b.N)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/took.Seconds(), "lifecycles/s")
			})
			b.Run("http", func(b *testing.B) {
				b.ReportAllocs()
				before := store.Statements.Load()
				for b.Loop() {
					if err := lifecycle(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
				b.ReportMetric(float64(store.Statements.Load()-before)/float64(b.N), "statements/op")
			})
			// The same with concurrent clients, as a city's parties work: the
			// HTTP, JSON and checks of one request overlap another's writes,
			// and more writers share each commit.
			for _, clients := range []int{8, 32, 128} {
				b.Run(fmt.Sprintf("http-%dclients", clients), func(b *testing.B) {
					b.ReportAllocs()
					cpu := bench.CPUTime()
					took, err := c.Concurrently(ctx, b.N, clients, lifecycle)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/took.Seconds(), "lifecycles/s")
					b.ReportMetric(float64((bench.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
				})
			}
		})
	}
}
