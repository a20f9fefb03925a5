package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wufei/internal/audit"
	"wufei/internal/bench"
	"wufei/internal/registry"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

// TestCrashSafety runs the server as its own process under concurrent
// manifest steps, kills it with SIGKILL at random moments, starts it again,
// and proves that every step it acknowledged is there, that nothing
// half-written is visible, that a keyed create retried after a restart
// returns what it first did, and that the audit log verifies — on every
// engine.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	bin := filepath.Join(t.TempDir(), "wufei")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			db, url := e.Open(t)
			db.Close()
			crashes(t, bin, url)
		})
	}
}

// acked is a step the server answered 2xx.
type acked struct{ manifest, step string }

func crashes(t *testing.T, bin, url string) {
	ctx := context.Background()
	key := filepath.Join(t.TempDir(), "audit.key")
	var mu sync.Mutex
	var ok []acked
	var keyed []keyedUnit
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 4 {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "serve", "--db", url, "--addr", addr, "--demo", "--demo-units", "0", "--key-file", key)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := healthy("http://"+addr, 60*time.Second); err != nil {
			cmd.Process.Kill()
			t.Fatalf("round %d: %v", round, err)
		}
		if round == 3 { // the last start only proves it comes back
			cmd.Process.Kill()
			cmd.Wait()
			break
		}
		c := bench.NewClient("http://"+addr, 8)
		p, err := c.Parties(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A create answered before a kill is answered again, the same unit,
		// when retried with its Idempotency-Key after the restart.
		for _, u := range keyed {
			if id := createUnit(t, "http://"+addr, p.Regulator, u.key, u.body); id != u.id {
				t.Errorf("round %d: retried %s gave unit %s, first %s", round, u.key, id, u.id)
			}
		}
		k := keyedUnit{key: fmt.Sprintf("crash-%d", round), body: fmt.Sprintf(`{"uscc":%q,"name":"淮北重启幂等测试第%d有限公司",
			"roles":["generator"],"region_code":"340602"}`, registry.MakeUSCC("91", "340602", fmt.Sprintf("MA2K%04d", round)), round)}
		k.id = createUnit(t, "http://"+addr, p.Regulator, k.key, k.body)
		keyed = append(keyed, k)
		if round == 0 {
			// Room on the demo licence for every manifest of the test.
			raw, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			_, err = store.Exec(ctx, raw.Writer(), `UPDATE licences SET capacity_g = 9000000000000000`)
			raw.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					walk(ctx, c, p, func(a acked) {
						mu.Lock()
						ok = append(ok, a)
						mu.Unlock()
					})
				}
			})
		}
		time.Sleep(time.Duration(400+r.IntN(600)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		cmd.Wait()
		close(stop)
		wg.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ok) < 20 {
		t.Fatalf("only %d steps acknowledged: the load did not run", len(ok))
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every acknowledged step is there.
	for _, a := range ok {
		var n int
		if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM manifest_steps WHERE manifest_id = ? AND action = ?`,
			a.manifest, a.step); err != nil || n != 1 {
			t.Errorf("acknowledged %s of %s: %d steps recorded (%v)", a.step, a.manifest, n, err)
		}
	}
	// Nothing half-written: each manifest has its line, leg and one step per status it has passed.
	var bad int
	if err := store.Get(ctx, db.Reader(), &bad, `SELECT count(*) FROM manifests m WHERE
		NOT EXISTS (SELECT 1 FROM manifest_lines l WHERE l.manifest_id = m.id) OR
		NOT EXISTS (SELECT 1 FROM manifest_carriers c WHERE c.manifest_id = m.id) OR
		(SELECT count(*) FROM manifest_steps s WHERE s.manifest_id = m.id) <>
		CASE m.status WHEN 'draft' THEN 1 WHEN 'submitted' THEN 2 WHEN 'in_transit' THEN 3 WHEN 'received' THEN 4
		WHEN 'completed' THEN 5 ELSE -1 END`); err != nil || bad != 0 {
		t.Errorf("%d half-written manifests (%v)", bad, err)
	}
	// Every step has its audit entry, and the log verifies.
	if err := store.Get(ctx, db.Reader(), &bad, `SELECT count(*) FROM manifest_steps s
		LEFT JOIN audit_entries a ON a.seq = s.audit_seq WHERE a.seq IS NULL OR a.entity_id <> s.manifest_id`); err != nil || bad != 0 {
		t.Errorf("%d steps without their audit entry (%v)", bad, err)
	}
	rep, err := audit.Verify(ctx, db, "")
	if err != nil || !rep.OK {
		t.Fatalf("audit verify: %v %v", rep, err)
	}
	t.Logf("%d acknowledged steps over 3 kills; %d keyed creates replayed after restarts; audit log of %d entries verifies",
		len(ok), len(keyed)*(len(keyed)-1)/2, rep.Entries)
}

// keyedUnit is a unit created with an Idempotency-Key.
type keyedUnit struct{ key, body, id string }

// createUnit posts a unit with an Idempotency-Key and returns its id.
func createUnit(t *testing.T, base, token, key, body string) string {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/units", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var u struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&u); err != nil || res.StatusCode != 201 {
		t.Fatalf("create unit %s: %d %v", key, res.StatusCode, err)
	}
	return u.ID
}

// walk takes one manifest as far as it gets, reporting each acknowledged
// step; a failed request (the server was killed) ends it.
func walk(ctx context.Context, c *bench.Client, p bench.Parties, ack func(acked)) {
	var m struct {
		ID string `json:"id"`
	}
	body := fmt.Sprintf(`{"carrier_unit_id":%q,"receiver_unit_id":%q,"vehicle_plate":%q,
		"lines":[{"waste_code":"900-249-08","quantity_t":1,"form":"L","packaging":"桶","package_count":4}]}`,
		p.CarrierUnit, p.DisposerUnit, p.Plate)
	if c.Call(ctx, p.Gen, "POST", "/api/v1/manifests", body, &m) != nil {
		return
	}
	ack(acked{m.ID, "create"})
	for _, s := range []struct{ token, step, body string }{
		{p.Gen, "submit", ""}, {p.Carrier, "pickup", ""},
		{p.Disposer, "receive", `{"lines":[{"line_no":1,"received_t":1}]}`},
		{p.Disposer, "complete", `{"lines":[{"line_no":1,"method":"R9"}]}`},
	} {
		if c.Call(ctx, s.token, "POST", "/api/v1/manifests/"+m.ID+"/"+s.step, s.body, nil) != nil {
			return
		}
		ack(acked{m.ID, s.step})
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func healthy(base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not healthy within %v", base, within)
}
