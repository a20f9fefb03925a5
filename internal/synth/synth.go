// Package synth generates a data set of a city's, a province's or a
// nation's size: registered units with their facilities, vehicles,
// licences and accounts, a year of filed plans, and every manifest's
// waste generated into containers, stored, and moved through the manifest
// steps at its business time. Every record goes through the domain
// services, with their checks and audit entries, as in real use; the same
// seed gives the same units, wastes, quantities and outcomes.
package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"wufei/internal/auth"
	"wufei/internal/calendar"
	"wufei/internal/demo"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/plan"
	"wufei/internal/registry"
	"wufei/internal/store"
)

// Password is the password of every generated account.
const Password = "wufei-synth"

// Options says what to generate.
type Options struct {
	Scale   Scale
	Seed    uint64
	Workers int       // concurrent writers; 0 for 8 per core
	Now     time.Time // the moment the year of activity ends; zero for now
	// Progress, if set, receives a line per phase and a running count.
	Progress io.Writer
}

// Report counts what was generated and how long each phase took.
type Report struct {
	Scale     string         `json:"scale"`
	Seed      uint64         `json:"seed"`
	Units     int            `json:"units"`
	Plans     int            `json:"plans"`
	Manifests int            `json:"manifests"`
	Statuses  map[string]int `json:"statuses"`
	Phases    []Phase        `json:"phases"`
	Seconds   float64        `json:"seconds"`
}

// Phase is one step of the generation.
type Phase struct {
	Name    string  `json:"name"`
	Count   int     `json:"count"`
	Seconds float64 `json:"seconds"`
	PerS    float64 `json:"per_s"`
}

// Generate writes the data set into db, which must be prepared (migrated,
// reference data loaded) and hold no units yet.
func Generate(ctx context.Context, db *store.DB, opt Options) (Report, error) {
	var n int
	if err := store.Get(ctx, db.Reader(), &n, `SELECT count(*) FROM units`); err != nil {
		return Report{}, err
	}
	if n > 0 {
		return Report{}, errors.New("synth: the database already holds units; generate into an empty one")
	}
	if opt.Workers <= 0 {
		opt.Workers = 8 * runtime.GOMAXPROCS(0)
	}
	if opt.Now.IsZero() {
		opt.Now = store.Now()
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	g := &gen{opt: opt, db: db, reg: registry.NewService(db), auth: auth.NewService(db), plans: plan.NewService(db),
		led: ledger.NewService(db), man: manifest.NewService(db), statuses: map[string]int{}}
	local := opt.Now.In(calendar.Zone)
	g.year = local.Year()
	g.start = time.Date(g.year, 1, 1, 0, 0, 0, 0, calendar.Zone)
	began := time.Now()
	rep := Report{Scale: opt.Scale.Name, Seed: opt.Seed}
	for _, ph := range []struct {
		name string
		fn   func(context.Context) (int, error)
	}{{"regions", g.regions}, {"accounts", g.accounts}, {"units", g.units}, {"plans", g.filePlans},
		{"manifests", g.transfers}, {"declarations", g.declarations}, {"rules", g.rules}, {"programme", g.programme},
		{"statistics", g.statistics}} {
		t0 := time.Now()
		fmt.Fprintf(opt.Progress, "%s …\n", ph.name)
		count, err := ph.fn(ctx)
		if err != nil {
			return rep, fmt.Errorf("synth: %s: %w", ph.name, err)
		}
		s := time.Since(t0).Seconds()
		rep.Phases = append(rep.Phases, Phase{Name: ph.name, Count: count, Seconds: round(s), PerS: round(float64(count) / s)})
		fmt.Fprintf(opt.Progress, "%s: %d in %.1f s\n", ph.name, count, s)
	}
	rep.Units, rep.Plans, rep.Manifests, rep.Statuses = len(g.refs), int(g.planCount.Load()), int(g.manifestCount.Load()), g.statuses
	rep.Seconds = round(time.Since(began).Seconds())
	return rep, nil
}

// programme adds the units' stream records and the city's programme, as
// the demo has them.
func (g *gen) programme(ctx context.Context) (int, error) {
	return 1, demo.Programme(ctx, g.db)
}

// statistics has PostgreSQL's planner learn the tables just filled, as
// after any bulk load: without them (autovacuum may be off, or not yet
// round) it plans a trace's join by sorting every ledger record. SQLite's
// queries are written for a planner without statistics and are left so.
func (g *gen) statistics(ctx context.Context) (int, error) {
	if g.db.Dialect != store.Postgres {
		return 0, nil
	}
	_, err := g.db.Writer().ExecContext(ctx, `ANALYZE`)
	return 1, err
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

// gen carries the generation's state. What it keeps per unit is a few
// dozen bytes, so memory stays flat as the manifests stream through.
type gen struct {
	opt   Options
	db    *store.DB
	reg   *registry.Service
	auth  *auth.Service
	plans *plan.Service
	led   *ledger.Service
	man   *manifest.Service

	year  int
	start time.Time // 1 January, China time

	places    []place
	refs      []ref // by unit index
	weightSum float64
	receivers map[string]*pool // by receiver kind
	carriers  *pool

	planCount, manifestCount atomic.Int64
	mu                       sync.Mutex
	statuses                 map[string]int
}

// place is a prefecture with the parks and townships units there may name.
type place struct {
	prefecture
	parks []string
}

// ref is what later phases need of a generated unit.
type ref struct {
	unit, user uuid.UUID
}

func (g *gen) principal(i int) auth.Principal {
	s := g.spec(i)
	return auth.Principal{UserID: g.refs[i].user.String(), Username: s.username(), DisplayName: s.contact,
		Role: auth.UnitAdmin, UnitID: g.refs[i].unit.String()}
}

// rng is the random source for one unit and one purpose, so that what a
// unit gets does not depend on the order workers happen to take it in.
func (g *gen) rng(i, purpose int) *rand.Rand {
	return rand.New(rand.NewPCG(g.opt.Seed, uint64(i)<<8|uint64(purpose)))
}

// parallel runs fn for 0..n-1 on the workers, stopping at the first error,
// and shows the count done every few seconds.
func (g *gen) parallel(ctx context.Context, what string, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, count atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(3 * time.Second)
		defer t.Stop()
		began := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d := count.Load()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Fprintf(g.opt.Progress, "  %s: %d/%d units (%.0f/s), %d manifests so far, heap %d MiB\n", what, d, n,
					float64(d)/time.Since(began).Seconds(), g.manifestCount.Load(), ms.HeapInuse>>20)
			}
		}
	}()
	for range g.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				// Announced, a worker's next write joins the group commit
				// being formed rather than waiting for the next one.
				done := g.db.Expect()
				err := fn(ctx, i)
				done()
				if err != nil {
					cancel(err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	return context.Cause(ctx)
}
