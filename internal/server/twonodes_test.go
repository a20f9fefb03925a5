package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"wufei/internal/audit"
	"wufei/internal/bench"
	"wufei/internal/server"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// Two servers on one PostgreSQL database, each with its own pools and its
// own remembered audit head, take the same manifests' steps at the same
// moment: each step is taken once and the other party's attempt is answered
// 409, manifest numbers are neither duplicated nor skipped, and the audit
// log is one gapless chain that verifies.
func TestTwoNodesOnePostgres(t *testing.T) {
	engines := storetest.Engines()
	i := slices.IndexFunc(engines, func(e storetest.Engine) bool { return e.Name == "postgres" })
	if i < 0 {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	ctx := context.Background()
	db, url := engines[i].Open(t)
	db.Close()
	key := filepath.Join(t.TempDir(), "k")
	var clients []*bench.Client
	var first *server.App
	for n := range 2 {
		app, err := server.Open(ctx, server.Config{DB: url, Demo: true, DemoUnits: 0, KeyFile: key})
		if err != nil {
			t.Fatal(err)
		}
		defer app.DB.Close()
		if n == 0 {
			first = app
		}
		ts := httptest.NewServer(app.Handler)
		defer ts.Close()
		clients = append(clients, bench.NewClient(ts.URL, 16))
	}
	if _, err := store.Exec(ctx, first.DB.Writer(), `UPDATE licences SET capacity_g = 9000000000000000`); err != nil {
		t.Fatal(err)
	}
	var parties []bench.Parties
	for _, c := range clients {
		p, err := c.Parties(ctx)
		if err != nil {
			t.Fatal(err)
		}
		parties = append(parties, p)
	}

	// Drafts raised on both nodes at once.
	const drafts = 20
	type draft struct{ ID, Number string }
	var mu sync.Mutex
	var made []draft
	var wg sync.WaitGroup
	for n := range drafts {
		wg.Go(func() {
			c, p := clients[n%2], parties[n%2]
			var d draft
			body := fmt.Sprintf(`{"carrier_unit_id":%q,"receiver_unit_id":%q,"vehicle_plate":%q,
				"lines":[{"waste_code":"900-249-08","quantity_t":1,"form":"L","packaging":"桶","package_count":4}]}`,
				p.CarrierUnit, p.DisposerUnit, p.Plate)
			if err := c.Call(ctx, p.Gen, "POST", "/api/v1/manifests", body, &d); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			made = append(made, d)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(made) != drafts {
		t.Fatalf("%d drafts of %d", len(made), drafts)
	}
	serials := make([]int, 0, drafts)
	for _, d := range made {
		var s int
		fmt.Sscanf(d.Number[8:], "%d", &s)
		serials = append(serials, s)
	}
	slices.Sort(serials)
	for i := 1; i < len(serials); i++ {
		if serials[i] != serials[i-1]+1 {
			t.Fatalf("manifest serials not one after another: %v", serials)
		}
	}

	// Each step of each manifest tried on both nodes at once, naming the
	// version both read: one succeeds, the other is told 409.
	steps := []struct {
		step, body string
		token      func(p bench.Parties) string
	}{
		{"submit", "", func(p bench.Parties) string { return p.Gen }},
		{"pickup", "", func(p bench.Parties) string { return p.Carrier }},
		{"receive", `"lines":[{"line_no":1,"received_t":1}]`, func(p bench.Parties) string { return p.Disposer }},
		{"complete", `"lines":[{"line_no":1,"method":"R9"}]`, func(p bench.Parties) string { return p.Disposer }},
	}
	for v, s := range steps {
		for _, d := range made {
			results := make([]error, 2)
			var wg sync.WaitGroup
			for n := range 2 {
				wg.Go(func() {
					body := fmt.Sprintf(`{"version":%d`, v+1)
					if s.body != "" {
						body += "," + s.body
					}
					results[n] = clients[n].Call(ctx, s.token(parties[n]), "POST", "/api/v1/manifests/"+d.ID+"/"+s.step, body+"}", nil)
				})
			}
			wg.Wait()
			ok, conflicts := 0, 0
			for _, err := range results {
				switch {
				case err == nil:
					ok++
				case strings.Contains(err.Error(), ": 409 "):
					conflicts++
				default:
					t.Errorf("%s %s: %v", s.step, d.Number, err)
				}
			}
			if ok != 1 || conflicts != 1 {
				t.Errorf("%s %s: %d taken, %d conflicts (%v)", s.step, d.Number, ok, conflicts, errors.Join(results...))
			}
		}
	}
	rep, err := audit.Verify(ctx, first.DB, "")
	if err != nil || !rep.OK {
		t.Fatalf("audit verify: %v %v", rep, err)
	}
	var steps5 int
	if err := store.Get(ctx, first.DB.Reader(), &steps5, `SELECT count(*) FROM manifest_steps WHERE action IN
		('submit', 'pickup', 'receive', 'complete')`); err != nil || steps5 != drafts*4 {
		t.Errorf("%d steps recorded, want %d (%v)", steps5, drafts*4, err)
	}
}
