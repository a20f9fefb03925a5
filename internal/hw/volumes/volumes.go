// Package volumes keeps hw_volumes: hazardous-waste quantities by month,
// region, category and kind, moved in the same transactions that write the
// ledger and move manifests, so that the dashboard, the indicators and the
// annual publication read a few rows a month instead of summing a year of
// records (decision 0014). A transaction gathers its changes in memory and
// writes each affected row once, just before it commits.
package volumes

import (
	"context"
	"slices"
	"strings"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/store"
)

// Kinds of figures. The ledger's are its effect kinds; the manifests' are
// named by what they count (see the migration 00016 for each one's rule).
const (
	Generation = "generation"
	StorageIn  = "storage_in"
	StorageOut = "storage_out"
	InHouse    = "in_house"
	Outsourced = "outsourced"

	Transferred = "transferred" // picked up, not refused or cancelled: declared grams by pickup month (dashboard)
	Shipped     = "shipped"     // picked up, not cancelled, not a refused load sent on: declared, pickup month (publication)
	Delivered   = "delivered"   // completed: accepted grams by pickup month, consignor's side (indicators, publication)
	Completed   = "completed"   // completed: accepted grams by completion month, receiver's side (dashboard)
	Received    = "received"    // completed: accepted grams by receipt month and receiver (publication)
	Submitted   = "submitted"   // submitted, not closed: declared, accepted once received; submission month (Sankey)
)

// Key is one row of hw_volumes. A manifest figure names only what its
// readers ask for, so that its rows stay few.
type Key struct {
	Kind, Month string
	Region      string // the record's county; for a manifest, its side's
	Other       string // the other side's county: transferred, completed, submitted
	Unit        string // the receiver: received, submitted
	Category    string
	Method      string // the method's first letter, or "": ledger, delivered, completed, received
}

// Month is the month of t in China, as hw_volumes keys it.
func Month(t time.Time) string { return t.In(calendar.Zone).Format("2006-01") }

// Months are the first and last month of the span [from, to), both
// instants at the start of a month in China.
func Months(from, to time.Time) (first, last string) {
	return Month(from), Month(to.In(calendar.Zone).AddDate(0, -1, 0))
}

// MethodClass is what a method's first letter says: R utilisation, D
// disposal, C (co-processing and the like).
func MethodClass(method string) string {
	for _, r := range method {
		return string(r)
	}
	return ""
}

// sum is what a transaction adds to a row.
type sum struct{ g, n int64 }

// pending is a transaction's changes, by row.
type pending struct {
	ctx  context.Context
	rows map[Key]*sum
}

type pendingKey struct{}

// add moves the row k by g grams and n records within tx.
func add(ctx context.Context, tx *store.Tx, k Key, g, n int64) {
	if g == 0 && n == 0 {
		return
	}
	p := tx.Local(pendingKey{}, func() any {
		p := &pending{ctx: ctx, rows: map[Key]*sum{}}
		tx.BeforeCommit(func() error { return p.write(tx) })
		return p
	}).(*pending)
	s := p.rows[k]
	if s == nil {
		s = &sum{}
		p.rows[k] = s
	}
	s.g, s.n = s.g+g, s.n+n
}

// chunk bounds the rows one upsert writes.
const chunk = 32

// write upserts every changed row, in key order, a chunk per statement.
func (p *pending) write(tx *store.Tx) error {
	keys := make([]Key, 0, len(p.rows))
	for k, s := range p.rows {
		if s.g != 0 || s.n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return strings.Compare(a.Kind+"|"+a.Region+"|"+a.Month+"|"+a.Other+"|"+a.Unit+"|"+a.Category+"|"+a.Method,
			b.Kind+"|"+b.Region+"|"+b.Month+"|"+b.Other+"|"+b.Unit+"|"+b.Category+"|"+b.Method)
	})
	for len(keys) > 0 {
		n := min(len(keys), chunk)
		args := make([]any, 0, 9*n)
		for _, k := range keys[:n] {
			s := p.rows[k]
			args = append(args, k.Kind, k.Month, k.Region, k.Other, k.Unit, k.Category, k.Method, s.g, s.n)
		}
		if _, err := store.Exec(p.ctx, tx, `INSERT INTO hw_volumes (kind, month, region_code, other_region, unit_id, category,
			method, g, n) VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ")+`
			ON CONFLICT (kind, region_code, month, other_region, unit_id, category, method)
			DO UPDATE SET g = hw_volumes.g + excluded.g, n = hw_volumes.n + excluded.n`, args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	clear(p.rows)
	return nil
}

// Ledger counts a ledger record as it is written: effectKind is the kind
// whose totals it changes, deltaG what it adds to them.
func Ledger(ctx context.Context, tx *store.Tx, effectKind string, at time.Time, region, category, method string, deltaG int64) {
	add(ctx, tx, Key{Kind: effectKind, Month: Month(at), Region: region, Category: category, Method: MethodClass(method)}, deltaG, 1)
}

// Manifest is what the figures need of a manifest.
type Manifest struct {
	Status         string // draft submitted in_transit received completed cancelled refused
	Region         string // the consignor's county
	ReceiverRegion string
	ReceiverUnit   string
	SentOn         bool // it carries on a refused load (previous_id)
	SubmittedAt    *time.Time
	PickedUpAt     *time.Time
	ReceivedAt     *time.Time
	CompletedAt    *time.Time
	Lines          []Line
}

// Line is one line of a manifest.
type Line struct {
	Category  string
	Method    string
	QuantityG int64
	AcceptedG *int64
}

// Moved counts the change a step or a revision made to a manifest: what it
// adds to each figure in its new state less what it added in its old one.
func Moved(ctx context.Context, tx *store.Tx, before, after Manifest) {
	for k, s := range figures(before) {
		add(ctx, tx, k, -s.g, -s.n)
	}
	for k, s := range figures(after) {
		add(ctx, tx, k, s.g, s.n)
	}
}

// figures is what a manifest in its state adds to hw_volumes.
func figures(m Manifest) map[Key]sum {
	out := map[Key]sum{}
	put := func(kind string, at *time.Time, region, other, unit string, l Line, method string, g int64) {
		k := Key{Kind: kind, Month: Month(*at), Region: region, Other: other, Unit: unit, Category: l.Category, Method: method}
		s := out[k]
		out[k] = sum{s.g + g, s.n + 1}
	}
	picked := m.PickedUpAt != nil
	for _, l := range m.Lines {
		var accepted int64
		if l.AcceptedG != nil {
			accepted = *l.AcceptedG
		}
		method := MethodClass(l.Method)
		switch m.Status {
		case "in_transit", "received", "completed":
			if picked {
				put(Transferred, m.PickedUpAt, m.Region, m.ReceiverRegion, "", l, "", l.QuantityG)
			}
		}
		switch m.Status {
		case "in_transit", "received", "completed", "refused":
			if picked && !m.SentOn {
				put(Shipped, m.PickedUpAt, m.Region, "", "", l, "", l.QuantityG)
			}
		}
		if m.Status == "completed" {
			if picked {
				put(Delivered, m.PickedUpAt, m.Region, "", "", l, method, accepted)
			}
			if m.CompletedAt != nil {
				put(Completed, m.CompletedAt, m.ReceiverRegion, m.Region, "", l, method, accepted)
			}
			if m.ReceivedAt != nil {
				put(Received, m.ReceivedAt, m.ReceiverRegion, "", m.ReceiverUnit, l, method, accepted)
			}
		}
		if m.SubmittedAt != nil {
			switch m.Status {
			case "submitted", "in_transit":
				put(Submitted, m.SubmittedAt, m.Region, m.ReceiverRegion, m.ReceiverUnit, l, "", l.QuantityG)
			case "received", "completed":
				put(Submitted, m.SubmittedAt, m.Region, m.ReceiverRegion, m.ReceiverUnit, l, "", accepted)
			}
		}
	}
	return out
}
