package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/hw/plan"
	"wufei/internal/store"
)

// Purposes of a unit's random sources (see gen.rng).
const (
	forPlan        = 2
	forDestination = 10 // + the waste's index
	forDeclaration = 3
	forMonth       = 32 // + the month
)

// destination is the receiver (an index of refs) and method for waste w
// of generator s, or -1: the first route with a receiver near it.
func (g *gen) destination(s spec, w int) (int, string) {
	x := g.rng(s.i, forDestination+w).Float64()
	for _, rt := range industries[s.industry].wastes[w].routes {
		if j := g.receivers[rt.kind].near(s, x); j >= 0 {
			return j, rt.method
		}
	}
	return -1, ""
}

// filed is when generator s filed its plan: in the first quarter, a few
// after the 31 March deadline.
func (g *gen) filed(s spec) time.Time {
	r := g.rng(s.i, forPlan)
	days := 2 + r.IntN(78)
	if r.IntN(25) == 0 {
		days = 91 + r.IntN(20)
	}
	return g.start.AddDate(0, 0, days).Add(time.Duration(9*60+r.IntN(8*60)) * time.Minute)
}

// filePlans files every generator's management plan for the year.
func (g *gen) filePlans(ctx context.Context) (int, error) {
	err := g.parallel(ctx, "plans", g.opt.Scale.Units, func(ctx context.Context, i int) error {
		s := g.spec(i)
		at := g.filed(s)
		if s.role != generates || !at.Before(g.opt.Now) {
			return nil
		}
		ind, p := industries[s.industry], g.principal(i)
		in := plan.NewPlan{Year: g.year, Storage: []plan.StorageLine{{FacilityCode: "ZC001", CapacityT: math.Ceil(s.yearT/4) + 1}},
			ReductionMeasures: "危险废物分类收集、规范贮存，及时委托持证单位利用处置"}
		r := g.rng(i, forPlan)
		for w, ws := range ind.wastes {
			planned := math.Round(s.yearT*ws.share*1100) / 1000
			in.Generation = append(in.Generation, plan.GenerationLine{WasteCode: ws.code, Name: ws.name, Form: ws.form,
				PlannedT: max(planned, 0.001), LastYearT: math.Round(s.yearT*ws.share*(850+200*r.Float64())) / 1000, Source: ws.source})
			if j, method := g.destination(s, w); j >= 0 {
				if method == "" {
					method = "R4" // a collector passes lead-acid batteries on for lead recovery
				}
				in.Transfers = append(in.Transfers, plan.TransferLine{WasteCode: ws.code, ReceiverUnitID: g.refs[j].unit.String(),
					Method: method, PlannedT: max(planned, 0.001)})
			}
		}
		pl, err := g.plans.Create(store.At(ctx, at.Add(-26*time.Hour)), p, in)
		if err != nil {
			return fmt.Errorf("plan of unit %d: %w", i, err)
		}
		if _, err := g.plans.Submit(store.At(ctx, at), p, pl.ID, pl.Version); err != nil {
			return fmt.Errorf("filing the plan of unit %d: %w", i, err)
		}
		g.planCount.Add(1)
		return nil
	})
	return int(g.planCount.Load()), err
}

// transfers runs the year's manifests month by month, so their numbers
// follow their dates from one month to the next.
func (g *gen) transfers(ctx context.Context) (int, error) {
	months := int(g.opt.Now.In(g.start.Location()).Month())
	covered := g.opt.Now.Sub(g.start).Hours() / 24 / 365 * 12
	for m := range months {
		from := g.start.AddDate(0, m, 0)
		to := from.AddDate(0, 1, 0)
		part := 1.0
		if to.After(g.opt.Now) {
			to, part = g.opt.Now, g.opt.Now.Sub(from).Hours()/to.Sub(from).Hours()
		}
		err := g.parallel(ctx, fmt.Sprintf("manifests %d-%02d", g.year, m+1), g.opt.Scale.Units, func(ctx context.Context, i int) error {
			s := g.spec(i)
			if s.role != generates {
				return nil
			}
			r := g.rng(i, forMonth+m)
			perYear := float64(g.opt.Scale.Manifests) * weight(s) / g.weightSum
			n := poisson(r, perYear/covered*part)
			for range n {
				at := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)))))
				if err := g.ship(ctx, s, r, at, perYear); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return int(g.manifestCount.Load()), nil
}

// poisson draws from a Poisson distribution with mean l (Knuth's method,
// which is fine for the small means here).
func poisson(r *rand.Rand, l float64) int {
	if l > 30 {
		return max(int(math.Round(l+math.Sqrt(l)*r.NormFloat64())), 0)
	}
	k, p, lim := 0, 1.0, math.Exp(-l)
	for {
		p *= r.Float64()
		if p <= lim {
			return k
		}
		k++
	}
}

// ship generates one load of waste into containers, stores it, and raises
// its manifest, taking it as far as the time allows: what was raised in the
// last days is still under way.
func (g *gen) ship(ctx context.Context, s spec, r *rand.Rand, at time.Time, perYear float64) error {
	ind := industries[s.industry]
	x, w := r.Float64(), 0
	for k, ws := range ind.wastes {
		if x < ws.share {
			w = k
			break
		}
		x -= ws.share
	}
	ws := ind.wastes[w]
	to, method := g.destination(s, w)
	carrier := g.carriers.near(s, r.Float64())
	if to < 0 || carrier < 0 {
		return nil
	}
	// Nothing moves before the plan is filed, and in working hours.
	local := at.In(g.start.Location())
	at = time.Date(local.Year(), local.Month(), local.Day(), 8+r.IntN(9), r.IntN(60), 0, 0, local.Location())
	if filed := g.filed(s); at.Before(filed.Add(24 * time.Hour)) {
		// What waited for the plan goes in the fortnight after it.
		at = filed.Add(time.Duration(24+r.IntN(14*24)) * time.Hour)
	}
	if at.After(g.opt.Now.Add(-time.Hour)) {
		return nil
	}
	q := math.Round(min(s.yearT/max(perYear, 1)*(0.6+0.8*r.Float64()), 25)*1000) / 1000
	q = max(q, 0.005)
	count := min(max(int(math.Round(q/ws.each)), 1), 12)
	p := g.principal(s.i)
	made := at.Add(-time.Duration(24+r.IntN(96)) * time.Hour)
	if made.Before(g.start) {
		made = g.start.Add(time.Hour)
	}
	gen, err := g.led.RecordGeneration(store.At(ctx, made), p, ledger.NewGeneration{WasteCode: ws.code, Name: ws.name,
		Form: ws.form, Packaging: ws.pack, VolumeL: volumeL[ws.pack], Count: count, QuantityT: q, Handler: s.contact, Destination: "厂内贮存",
		OccurredAt: &made})
	if err != nil {
		return fmt.Errorf("generation at unit %d: %w", s.i, err)
	}
	ids := make([]string, len(gen.Items))
	for k, c := range gen.Items {
		ids[k] = c.DigitalID
	}
	stored := made.Add(time.Duration(30+r.IntN(150)) * time.Minute)
	if _, err := g.led.StoreIn(store.At(ctx, stored), p, ledger.Movement{ContainerIDs: ids, FacilityCode: "ZC001",
		Handler: s.contact, OccurredAt: &stored}); err != nil {
		return fmt.Errorf("storage at unit %d: %w", s.i, err)
	}
	cs := g.spec(carrier)
	in := manifest.Input{ReceiverUnitID: g.refs[to].unit.String(), CarrierUnitID: g.refs[carrier].unit.String(),
		VehiclePlate: cs.plate(r.IntN(2)), EmergencyMeasures: "泄漏时立即围堵收集，通知当地生态环境部门",
		Lines: []manifest.LineInput{{WasteCode: ws.code, Name: ws.name, QuantityT: q, Form: ws.form, Packaging: ws.pack,
			PackageCount: max(int(math.Round(q/ws.each)), count), ContainerIDs: ids}}}
	m, err := g.man.Create(store.At(ctx, at), p, in)
	if err != nil {
		return fmt.Errorf("manifest of unit %d: %w", s.i, err)
	}
	g.manifestCount.Add(1)
	defer func() { g.tally(m.Status) }()

	// Each step happens only if its time has come.
	fate := r.Float64()
	step := func(gap time.Duration, f func(context.Context) (manifest.Manifest, error)) (bool, error) {
		next := at.Add(gap)
		if next.After(g.opt.Now.Add(-30 * time.Minute)) {
			return false, nil
		}
		got, err := f(store.At(ctx, next))
		if err != nil {
			return false, fmt.Errorf("manifest %s of unit %d: %w", m.Number, s.i, err)
		}
		m, at = got, next
		return true, nil
	}
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo)) * time.Minute }
	if fate < 0.007 {
		_, err := step(minutes(20, 120), func(ctx context.Context) (manifest.Manifest, error) {
			return g.man.Cancel(ctx, p, m.ID, 0, "填报有误，作废后重新填报")
		})
		return err
	}
	if ok, err := step(minutes(20, 90), func(ctx context.Context) (manifest.Manifest, error) {
		return g.man.Submit(ctx, p, m.ID, 0)
	}); !ok {
		return err
	}
	if fate < 0.015 {
		_, err := step(minutes(120, 600), func(ctx context.Context) (manifest.Manifest, error) {
			return g.man.Cancel(ctx, p, m.ID, 0, "运输车辆故障，本次转移取消，另行安排")
		})
		return err
	}
	cp := g.principal(carrier)
	if ok, err := step(minutes(14*60, 20*60), func(ctx context.Context) (manifest.Manifest, error) {
		return g.man.Pickup(ctx, cp, m.ID, 0)
	}); !ok {
		return err
	}
	if ok, err := step(minutes(60, 360), func(ctx context.Context) (manifest.Manifest, error) {
		return g.man.Deliver(ctx, cp, m.ID, 0)
	}); !ok {
		return err
	}
	rp := g.principal(to)
	receipt := make([]manifest.ReceiptLine, len(m.Lines))
	for k, l := range m.Lines {
		got := math.Round(l.QuantityT*(1+(r.Float64()-0.5)*0.005)*1000) / 1000
		receipt[k] = manifest.ReceiptLine{LineNo: l.LineNo, ReceivedT: max(got, 0.001)}
		switch {
		case fate < 0.025: // weighed well short of the declared weight
			receipt[k].ReceivedT = math.Round(l.QuantityT*900) / 1000
		case fate < 0.028: // part refused
			refused := math.Round(receipt[k].ReceivedT*200) / 1000
			accepted := receipt[k].ReceivedT - refused
			receipt[k].AcceptedT, receipt[k].RefusedT = &accepted, &refused
			receipt[k].Reason = "部分包装破损渗漏，与联单申报不符，该部分拒收"
		case fate < 0.030: // all refused: the manifest ends refused
			none, all := 0.0, receipt[k].ReceivedT
			receipt[k].AcceptedT, receipt[k].RefusedT = &none, &all
			receipt[k].Reason = "废物类别与联单申报不符，超出本单位经营许可范围，全部拒收"
		}
	}
	if ok, err := step(minutes(30, 20*60), func(ctx context.Context) (manifest.Manifest, error) {
		return g.man.Receive(ctx, rp, m.ID, 0, receipt)
	}); !ok || method == "" || m.Status == manifest.Refused {
		return err
	}
	done := make([]manifest.CompletionLine, len(m.Lines))
	for k, l := range m.Lines {
		done[k] = manifest.CompletionLine{LineNo: l.LineNo, Method: method}
	}
	_, err = step(minutes(20*60, 72*60), func(ctx context.Context) (manifest.Manifest, error) {
		return g.man.Complete(ctx, rp, m.ID, 0, done)
	})
	return err
}

// declarations files each generator's HJ 1259 declarations for the
// periods ended, a few days before each is due; one in fifty is left
// undone, which the declaration rule then finds overdue.
func (g *gen) declarations(ctx context.Context) (int, error) {
	var n atomic.Int64
	err := g.parallel(ctx, "declarations", g.opt.Scale.Units, func(ctx context.Context, i int) error {
		s := g.spec(i)
		if s.role != generates {
			return nil
		}
		p, r := g.principal(i), g.rng(i, forDeclaration)
		var items []plan.PeriodStatus
		for _, year := range []int{g.year - 1, g.year} {
			sc, err := g.plans.Schedule(ctx, p, p.UnitID, year, g.opt.Now)
			if err != nil {
				return err
			}
			items = append(items, sc.Items...)
		}
		for _, it := range items {
			if it.Status != plan.Overdue || r.IntN(50) == 0 {
				continue
			}
			at := it.DueAt.Add(-time.Duration(24+r.IntN(6*24)) * time.Hour)
			if end := it.To.Add(time.Hour); at.Before(end) {
				at = end.Add(time.Duration(r.IntN(48*60)) * time.Minute)
			}
			d, err := g.plans.Compile(store.At(ctx, at.Add(-2*time.Hour)), p, p.UnitID, it.Key)
			if err != nil {
				return fmt.Errorf("declaration %s of unit %d: %w", it.Key, i, err)
			}
			if _, err := g.plans.SubmitDeclaration(store.At(ctx, at), p, d.ID, d.Version); err != nil {
				return fmt.Errorf("submitting declaration %s of unit %d: %w", it.Key, i, err)
			}
			n.Add(1)
		}
		return nil
	})
	return int(n.Load()), err
}

func (g *gen) tally(s manifest.Status) {
	g.mu.Lock()
	g.statuses[string(s)]++
	g.mu.Unlock()
}

// rules runs the time-based rules once, at the end of the year of
// activity, raising the alerts the scheduled jobs would have.
func (g *gen) rules(ctx context.Context) (int, error) {
	total := 0
	for _, check := range []func(context.Context, *store.DB, time.Time) (int, error){
		manifest.CheckOverdue, ledger.CheckStorage, plan.CheckDue} {
		n, err := check(ctx, g.db, g.opt.Now)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
