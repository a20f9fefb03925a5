package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// BenchmarkLifecycle runs a manifest's whole life over HTTP — create,
// submit, pickup, receive, complete, each with its checks, audit entry and
// step — against the same rows written raw on the same engine: the manifest,
// its line and leg, and one update per step, each step in its own
// transaction as over HTTP.
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
			// Room for every benchmark iteration on the demo licence and vehicle.
			if _, err := store.Exec(ctx, db.Writer(), `UPDATE licences SET capacity_g = 9000000000000000`); err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(app.Handler)
			defer ts.Close()
			// A connection per concurrent client, as a server's clients keep.
			ts.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			c := &benchClient{b: b, base: ts.URL, hc: ts.Client()}
			gen, carrier, disposer := c.login("gen"), c.login("carrier"), c.login("disposer")
			var me struct {
				UnitID string `json:"unit_id"`
			}
			c.call(carrier, "GET", "/api/v1/me", nil, &me)
			carrierUnit := me.UnitID
			c.call(disposer, "GET", "/api/v1/me", nil, &me)
			disposerUnit := me.UnitID
			c.call(gen, "GET", "/api/v1/me", nil, &me)
			genUnit := me.UnitID
			body := fmt.Sprintf(`{"carrier_unit_id":%q,"receiver_unit_id":%q,"vehicle_plate":"皖F3A721",
				"lines":[{"waste_code":"900-249-08","quantity_t":1.2,"form":"L","packaging":"桶","package_count":6}]}`,
				carrierUnit, disposerUnit)

			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					rawSerial++
					n := rawSerial
					id := uuid.Must(uuid.NewV7()).String()
					steps := []string{
						`UPDATE manifests SET status = 'submitted', submitted_at = ?, version = version + 1 WHERE id = ?`,
						`UPDATE manifests SET status = 'in_transit', picked_up_at = ?, version = version + 1 WHERE id = ?`,
						`UPDATE manifests SET status = 'received', received_at = ?, version = version + 1 WHERE id = ?`,
						`UPDATE manifests SET status = 'completed', completed_at = ?, version = version + 1 WHERE id = ?`,
					}
					err := db.Tx(ctx, func(tx *store.Tx) error {
						if _, err := store.Exec(ctx, tx, `INSERT INTO manifests (id, number, year, status, consignor_unit_id,
							receiver_unit_id, region_code, receiver_region_code, created_at, updated_at, version)
							VALUES (?, ?, 2099, 'draft', ?, ?, '340621', '340604', ?, ?, 1)`,
							id, fmt.Sprintf("2099%010d", n), genUnit, disposerUnit, tx.Now, tx.Now); err != nil {
							return err
						}
						if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_lines (manifest_id, line_no, waste_code, category,
							name, official_name, quantity_g, form, characteristics, packaging, package_count)
							VALUES (?, 1, '900-249-08', 'HW08', 'x', 'x', 1200000, 'L', 'T,I', '桶', 6)`, id); err != nil {
							return err
						}
						_, err := store.Exec(ctx, tx, `INSERT INTO manifest_carriers (manifest_id, leg, carrier_unit_id, vehicle_plate)
							VALUES (?, 1, ?, '皖F3A721')`, id, carrierUnit)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					for _, q := range steps {
						if err := db.Tx(ctx, func(tx *store.Tx) error {
							_, err := store.Exec(ctx, tx, q, tx.Now, id)
							return err
						}); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
			})
			b.Run("http", func(b *testing.B) {
				b.ReportAllocs()
				before := store.Statements.Load()
				for b.Loop() {
					c.lifecycle(gen, carrier, disposer, body)
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
					b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
					cpu := cpuTime()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							c.lifecycle(gen, carrier, disposer, body)
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
					b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
				})
			}
		})
	}
}

// rawSerial numbers the raw side's manifests across benchmark runs.
var rawSerial int

type benchClient struct {
	b    *testing.B
	base string
	hc   *http.Client
}

// lifecycle walks one manifest from create to complete.
func (c *benchClient) lifecycle(gen, carrier, disposer, body string) {
	var m struct {
		ID string `json:"id"`
	}
	c.call(gen, "POST", "/api/v1/manifests", body, &m)
	c.call(gen, "POST", "/api/v1/manifests/"+m.ID+"/submit", nil, nil)
	c.call(carrier, "POST", "/api/v1/manifests/"+m.ID+"/pickup", nil, nil)
	c.call(disposer, "POST", "/api/v1/manifests/"+m.ID+"/receive", `{"lines":[{"line_no":1,"received_t":1.2}]}`, nil)
	c.call(disposer, "POST", "/api/v1/manifests/"+m.ID+"/complete", `{"lines":[{"line_no":1,"method":"R9"}]}`, nil)
}

func (c *benchClient) login(user string) string {
	var s struct {
		Token string `json:"token"`
	}
	c.call("", "POST", "/api/v1/auth/login", `{"username":"`+user+`","password":"wufei-demo"}`, &s)
	return s.Token
}

func (c *benchClient) call(token, method, path string, body any, dst any) {
	var r io.Reader
	if s, ok := body.(string); ok {
		r = bytes.NewBufferString(s)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		c.b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if dst != nil {
		if err := json.Unmarshal(raw, dst); err != nil {
			c.b.Fatal(err)
		}
	}
}

// cpuTime is the CPU time the process has used, user and system: the
// client's share and the server's, on the same cores.
func cpuTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
