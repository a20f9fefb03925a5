package indicator

import (
	"context"
	"strings"
	"time"

	"wufei/internal/hw/volumes"
	"wufei/internal/store"
)

// Computation is a computed indicator's value for one area and period with
// what it was computed from. Value is nil when the records behind it do not
// exist.
type Computation struct {
	Value            *float64   `json:"value"`
	Numerator        *float64   `json:"numerator"`
	Denominator      *float64   `json:"denominator"`
	NumeratorLabel   string     `json:"numerator_label"`
	DenominatorLabel string     `json:"denominator_label"`
	Rows             []DrillRow `json:"rows" doc:"计算所依据的记录（按调用者可见范围过滤）"`
	Truncated        bool       `json:"truncated" doc:"记录过多，只列出前一部分"`

	value, num, den *int64 // millionths, as stored
}

// DrillRow is one record behind a computed value.
type DrillRow struct {
	Part       string     `json:"part" enum:"numerator,denominator"`
	Entity     string     `json:"entity" doc:"ledger_record、ledger_stock、manifest_line、cell、indicator_report"`
	ID         string     `json:"id"`
	Ref        string     `json:"ref" doc:"批次编码、联单编号及行号、细胞类型等"`
	UnitID     string     `json:"unit_id,omitempty"`
	RegionCode string     `json:"region_code"`
	Quantity   float64    `json:"quantity" doc:"计入的数量，单位同分子或分母"`
	At         *time.Time `json:"at,omitempty"`
}

// maxDrillRows bounds the rows one drill-down lists.
const maxDrillRows = 500

// computeFn computes one indicator for an area and period. With drill it
// also lists the records behind the value.
type computeFn func(ctx context.Context, c *calc, a Area, p Period, drill bool) (Computation, error)

// calc is what computations read through: the database, and the ledger
// totals two indicators share, summed once per area and period.
type calc struct {
	q       store.Querier
	ledger  map[string]ledgerSums
	records bool // sum the records even where the monthly totals answer (tests)
}

// totals reports whether the area's hazardous-waste figures are read from
// the monthly totals (hw_volumes), which know the county of each record:
// the city's and a county's are; a park's are read from its units' records.
func (c *calc) totals(a Area) bool { return !c.records && (a.Level == "city" || a.Level == "county") }

func newCalc(q store.Querier) *calc { return &calc{q: q, ledger: map[string]ledgerSums{}} }

// Groups of computed indicators by the records they read. A change to cells
// is cheap to recount and is counted at the next read; a change to ledgers
// or manifests means summing them again, which reads leave to the
// scheduled refresh once a value exists (Service.RecordsLag).
const (
	groupRecords = "records" // ledger records, manifests (and medical-waste records)
	groupCells   = "cells"   // zero-waste cells
	groupStreams = "streams" // records of the other solid-waste streams
)

// groups lists the groups with the audit entries that make them stale.
// Units are in both: a unit joining a park moves its records and cells.
// Entities are compared concatenated with the empty string, so that no
// engine drives the check through the entity index, which cannot bound it by
// sequence number: the range between a mark and the head is the short way (a
// city-wide check read every manifest and ledger entry of the log through the
// index).
var groups = []struct{ name, relevant string }{
	{groupRecords, `entity || '' IN ('ledger_record', 'manifest', 'unit', 'stream_med_waste')`},
	{groupCells, `(entity LIKE '%cell%' OR entity || '' = 'unit')`},
	{groupStreams, `entity LIKE 'stream\_%' ESCAPE '\'`},
}

// engine holds the computed indicators, by id, with their group.
var engine = map[string]struct {
	fn    computeFn
	group string
}{
	"ihw_utilization_rate":         {ihwUtilisation, groupRecords},
	"ihw_generation_intensity":     {ihwIntensity, groupRecords},
	"medical_waste_treatment_rate": {medicalTreatment, groupRecords},
	"zero_waste_cells":             {zeroWasteCells, groupCells},
	"gisw_utilization_rate":        {giswUtilisation, groupStreams},
	"sludge_safe_rate":             {sludgeSafe, groupStreams},
	"cdw_recycling_rate":           {cdwRecycling, groupStreams},
	"straw_utilization_rate":       {strawUtilisation, groupStreams},
	"ag_film_recovery_rate":        {filmRecovery, groupStreams},
	"pesticide_pack_recovery_rate": {pesticideRecovery, groupStreams},
	"msw_recycling_rate":           {mswRecycling, groupStreams},
	"msw_landfill_raw":             {mswLandfillRaw, groupStreams},
	"two_networks_coverage":        {twoNetworksCoverage, groupStreams},
}

// medical is the 名录 category of medical waste, which is not industrial.
const medical = "HW01"

// ledgerSums are an area's industrial ledger totals for a period.
type ledgerSums struct {
	Gen     int64 `db:"gen"`      // generated in it
	Opening int64 `db:"opening"`  // in storage at its start
	InHouse int64 `db:"in_house"` // treated in-house by an R or C method in it
	N       int64 `db:"n"`        // generation records in it
}

// ledgerTotals sums the area's industrial ledger for a period, once per
// calc.
func (c *calc) ledgerTotals(ctx context.Context, a Area, p Period) (ledgerSums, error) {
	key := a.Code + " " + p.Code
	if t, ok := c.ledger[key]; ok {
		return t, nil
	}
	var t ledgerSums
	var err error
	if c.totals(a) {
		first, last := volumes.Months(p.From, p.To)
		cond, args := a.cond("region_code", "")
		err = store.Get(ctx, c.q, &t, `SELECT
		COALESCE(SUM(CASE WHEN kind = 'generation' AND month >= ? THEN g ELSE 0 END), 0) AS gen,
		COALESCE(SUM(CASE WHEN kind = 'storage_in' AND month < ? THEN g
			WHEN kind = 'storage_out' AND month < ? THEN -g ELSE 0 END), 0) AS opening,
		COALESCE(SUM(CASE WHEN kind = 'in_house' AND month >= ? AND method IN ('R', 'C') THEN g ELSE 0 END), 0) AS in_house,
		COALESCE(SUM(CASE WHEN kind = 'generation' AND month >= ? THEN n ELSE 0 END), 0) AS n
		FROM hw_volumes WHERE kind IN ('generation', 'storage_in', 'storage_out', 'in_house') AND month <= ? AND category <> ?
		AND `+cond, append([]any{first, first, first, first, first, last, medical}, args...)...)
	} else {
		err = c.recordTotals(ctx, &t, a, p)
	}
	t.Opening = max(t.Opening, 0)
	if err == nil {
		c.ledger[key] = t
	}
	return t, err
}

// recordTotals sums the area's ledger from the records.
func (c *calc) recordTotals(ctx context.Context, t *ledgerSums, a Area, p Period) error {
	cond, args := a.cond("region_code", "unit_id")
	return store.Get(ctx, c.q, t, `SELECT
		COALESCE(SUM(CASE WHEN effect_kind = 'generation' AND occurred_at >= ? THEN delta_g ELSE 0 END), 0) AS gen,
		COALESCE(SUM(CASE WHEN effect_kind = 'storage_in' AND occurred_at < ? THEN delta_g
			WHEN effect_kind = 'storage_out' AND occurred_at < ? THEN -delta_g ELSE 0 END), 0) AS opening,
		COALESCE(SUM(CASE WHEN effect_kind = 'in_house' AND occurred_at >= ? AND (method LIKE 'R%' OR method LIKE 'C%')
			THEN delta_g ELSE 0 END), 0) AS in_house,
		COALESCE(SUM(CASE WHEN effect_kind = 'generation' AND occurred_at >= ? THEN 1 ELSE 0 END), 0) AS n
		FROM ledger_records WHERE category <> ? AND occurred_at < ? AND `+cond,
		append([]any{p.From, p.From, p.From, p.From, p.From, medical, p.To}, args...)...)
}

// ihwUtilisation is 工业危险废物综合利用率: utilised ÷ (generated + stock
// carried in) × 100. Utilised is what the area's generators shipped in the
// period on manifests since completed, on lines treated by an R or C
// method, plus their own R and C treatment in the ledger; generated and the
// opening stock come from the ledger. Medical waste (HW01) is left out.
func ihwUtilisation(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	c := Computation{NumeratorLabel: "利用量（吨）", DenominatorLabel: "产生量 + 期初贮存量（吨）"}
	t, err := k.ledgerTotals(ctx, a, p)
	if err != nil {
		return c, err
	}
	q, gen, opening, inHouse := k.q, t.Gen, t.Opening, t.InHouse
	cond, args := a.cond("m.region_code", "m.consignor_unit_id")
	lcond, largs := a.cond("region_code", "unit_id")
	var shipped int64
	if k.totals(a) {
		first, last := volumes.Months(p.From, p.To)
		vcond, vargs := a.cond("region_code", "")
		err = store.Get(ctx, q, &shipped, `SELECT COALESCE(SUM(g), 0) FROM hw_volumes WHERE kind = 'delivered'
			AND month >= ? AND month <= ? AND category <> ? AND method IN ('R', 'C') AND `+vcond,
			append([]any{first, last, medical}, vargs...)...)
	} else {
		err = store.Get(ctx, q, &shipped, `SELECT COALESCE(SUM(COALESCE(l.accepted_g, 0)), 0)
		FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
		WHERE m.status = 'completed' AND m.picked_up_at >= ? AND m.picked_up_at < ? AND l.category <> ?
		AND (l.method LIKE 'R%' OR l.method LIKE 'C%') AND `+cond,
			append([]any{p.From, p.To, medical}, args...)...)
	}
	if err != nil {
		return c, err
	}
	num, den := shipped+inHouse, gen+opening
	c.setRate(num, den, 100)
	if drill && den > 0 {
		err = c.drill(ctx, q,
			drillQuery{part: "denominator", entity: "ledger_record", sql: `SELECT id, batch_code AS ref, unit_id, region_code,
				delta_g AS g, occurred_at AS at FROM ledger_records WHERE effect_kind = 'generation' AND occurred_at >= ?
				AND occurred_at < ? AND category <> ? AND ` + lcond + ` ORDER BY occurred_at, id`,
				args: append([]any{p.From, p.To, medical}, largs...)},
			drillQuery{part: "denominator", entity: "ledger_stock", sql: `SELECT unit_id AS id, '期初贮存' AS ref, unit_id,
				MIN(region_code) AS region_code, SUM(CASE WHEN effect_kind = 'storage_in' THEN delta_g ELSE -delta_g END) AS g
				FROM ledger_records WHERE effect_kind IN ('storage_in', 'storage_out') AND occurred_at < ? AND category <> ?
				AND ` + lcond + ` GROUP BY unit_id
				HAVING SUM(CASE WHEN effect_kind = 'storage_in' THEN delta_g ELSE -delta_g END) > 0 ORDER BY unit_id`,
				args: append([]any{p.From, medical}, largs...)},
			drillQuery{part: "numerator", entity: "ledger_record", sql: `SELECT id, batch_code AS ref, unit_id, region_code,
				delta_g AS g, occurred_at AS at FROM ledger_records WHERE effect_kind = 'in_house' AND occurred_at >= ?
				AND occurred_at < ? AND category <> ? AND (method LIKE 'R%' OR method LIKE 'C%') AND ` +
				lcond + ` ORDER BY occurred_at, id`,
				args: append([]any{p.From, p.To, medical}, largs...)},
			drillQuery{part: "numerator", entity: "manifest_line", sql: `SELECT m.id, ` + lineRef + ` AS ref,
				m.consignor_unit_id AS unit_id, m.region_code, COALESCE(l.accepted_g, 0) AS g, m.picked_up_at AS at
				FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
				WHERE m.status = 'completed' AND m.picked_up_at >= ? AND m.picked_up_at < ? AND l.category <> ?
				AND (l.method LIKE 'R%' OR l.method LIKE 'C%') AND ` + cond + ` ORDER BY m.picked_up_at, m.id, l.line_no`,
				args: append([]any{p.From, p.To, medical}, args...)})
	}
	return c, err
}

// lineRef names a manifest line: its manifest number, '#', its line number.
// String concatenation is || on both engines.
const lineRef = `m.number || '#' || CAST(l.line_no AS TEXT)`

// ihwIntensity is 工业危险废物产生强度: tonnes of industrial hazardous waste
// generated (ledger, HW01 left out) per 万元 of industrial output, the
// approved value of industrial_output_value for the same area and period.
func ihwIntensity(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	c := Computation{NumeratorLabel: "工业危险废物产生量（吨）", DenominatorLabel: "规模以上工业总产值（万元）"}
	t, err := k.ledgerTotals(ctx, a, p)
	if err != nil {
		return c, err
	}
	q, gen, n := k.q, t.Gen, t.N
	var out []struct {
		ReportID string `db:"report_id"`
		Value    *int64 `db:"value_e6"`
	}
	if err := store.Select(ctx, q, &out, `SELECT report_id, value_e6 FROM indicator_values
		WHERE indicator_id = 'industrial_output_value' AND region_code = ? AND period = ? AND source = ?`,
		a.Code, p.Code, valueSourceReported); err != nil {
		return c, err
	}
	if n == 0 || len(out) == 0 || out[0].Value == nil || *out[0].Value <= 0 {
		return c, nil
	}
	// gen grams are tonnes × 10⁶ and the output is 万元 × 10⁶.
	c.setRate(gen, *out[0].Value, 1)
	if drill {
		cond, args := a.cond("region_code", "unit_id")
		err = c.drill(ctx, q,
			drillQuery{part: "numerator", entity: "ledger_record", sql: `SELECT id, batch_code AS ref, unit_id, region_code,
				delta_g AS g, occurred_at AS at FROM ledger_records WHERE effect_kind = 'generation' AND occurred_at >= ?
				AND occurred_at < ? AND category <> ? AND ` + cond + ` ORDER BY occurred_at, id`,
				args: append([]any{p.From, p.To, medical}, args...)},
			drillQuery{part: "denominator", entity: "indicator_report", sql: `SELECT id, period AS ref, '' AS unit_id,
				region_code, value_e6 AS g, decided_at AS at FROM indicator_reports WHERE id = ?`,
				args: []any{out[0].ReportID}})
	}
	return c, err
}

// medicalTreatment is 医疗废物收集处置率: medical waste (HW01) collected for
// treatment ÷ medical waste generated × 100. Where the institutions keep
// their monthly records (internal/streams/medical), generated is theirs and
// collected is what they handed over under contract or for months before
// the platform, plus what left them on manifests since completed. Where no
// records exist, it is the manifests' own rate: accepted on completed HW01
// manifests ÷ declared at pickup.
func medicalTreatment(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	q := k.q
	cond, args := a.cond("m.region_code", "m.consignor_unit_id")
	where := ` FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
		WHERE l.category = ? AND m.picked_up_at >= ? AND m.picked_up_at < ?
		AND m.status NOT IN ('draft', 'cancelled', 'refused') AND ` + cond
	wargs := append([]any{medical, p.From, p.To}, args...)
	var t struct {
		Shipped int64 `db:"shipped"`
		Done    int64 `db:"done"`
	}
	var err error
	if k.totals(a) {
		first, last := volumes.Months(p.From, p.To)
		vcond, vargs := a.cond("region_code", "")
		err = store.Get(ctx, q, &t, `SELECT COALESCE(SUM(CASE WHEN kind = 'transferred' THEN g ELSE 0 END), 0) AS shipped,
			COALESCE(SUM(CASE WHEN kind = 'delivered' THEN g ELSE 0 END), 0) AS done
			FROM hw_volumes WHERE kind IN ('transferred', 'delivered') AND month >= ? AND month <= ? AND category = ? AND `+vcond,
			append([]any{first, last, medical}, vargs...)...)
	} else {
		err = store.Get(ctx, q, &t, `SELECT COALESCE(SUM(l.quantity_g), 0) AS shipped,
		COALESCE(SUM(CASE WHEN m.status = 'completed' THEN COALESCE(l.accepted_g, 0) ELSE 0 END), 0) AS done`+where,
			wargs...)
	}
	if err != nil {
		return Computation{}, err
	}
	done := drillQuery{part: "numerator", entity: "manifest_line", sql: `SELECT m.id, ` + lineRef + ` AS ref,
		m.consignor_unit_id AS unit_id, m.region_code, COALESCE(l.accepted_g, 0) AS g, m.completed_at AS at` + where +
		` AND m.status = 'completed' ORDER BY m.picked_up_at, m.id, l.line_no`, args: wargs}

	rwhere, rargs := medRecords.where(a, p)
	var r struct {
		Handed    int64 `db:"handed"`
		Generated int64 `db:"generated"`
	}
	if err := store.Get(ctx, q, &r, `SELECT COALESCE(SUM(handed_over_g), 0) AS handed, COALESCE(SUM(generated_g), 0) AS generated`+
		rwhere, rargs...); err != nil {
		return Computation{}, err
	}
	if r.Generated > 0 {
		c := Computation{NumeratorLabel: "收集处置量（合同收集交接量 + 联单完成接收量，吨）", DenominatorLabel: "医疗废物产生量（吨）"}
		c.setRate(r.Handed+t.Done, r.Generated, 100)
		if !drill {
			return c, nil
		}
		list := func(part, col string) drillQuery {
			return drillQuery{part: part, entity: medRecords.entity, sql: `SELECT id, ` + medRecords.ref + ` AS ref, unit_id,
				region_code, ` + col + ` AS g` + rwhere + ` AND ` + col + ` > 0 ORDER BY year, month, id`, args: rargs}
		}
		return c, c.drill(ctx, q, list("denominator", "generated_g"), list("numerator", "handed_over_g"), done)
	}

	c := Computation{NumeratorLabel: "已完成处置的接受量（吨）", DenominatorLabel: "起运申报量（吨）"}
	c.setRate(t.Done, t.Shipped, 100)
	if drill && t.Shipped > 0 {
		return c, c.drill(ctx, q,
			drillQuery{part: "denominator", entity: "manifest_line", sql: `SELECT m.id, ` + lineRef + ` AS ref,
				m.consignor_unit_id AS unit_id, m.region_code, l.quantity_g AS g, m.picked_up_at AS at` + where +
				` ORDER BY m.picked_up_at, m.id, l.line_no`, args: wargs}, done)
	}
	return c, nil
}

// medRecords are the institutions' monthly medical-waste records.
var medRecords = streamRate{table: "med_wastes", entity: "stream_med_waste", ref: "uscc || ' ' || code || ' ' || " + streamMonth}

// zeroWasteCells is the number of zero-waste cells (无废细胞) certified by
// the end of the period and not withdrawn, from the cells the work team
// certifies. Until the cells table exists there is no value.
func zeroWasteCells(ctx context.Context, k *calc, a Area, p Period, drill bool) (Computation, error) {
	q := k.q
	c := Computation{NumeratorLabel: "已认定的“无废细胞”（个）"}
	cond, args := a.cond("c.region_code", "c.unit_id")
	where := ` FROM cells c WHERE c.status = 'certified' AND c.certified_at < ? AND ` + cond
	wargs := append([]any{p.To}, args...)
	var n int64
	if err := store.Get(ctx, q, &n, `SELECT count(*)`+where, wargs...); err != nil {
		if missingTable(err, "cells") {
			return c, nil
		}
		return c, err
	}
	if n == 0 {
		return c, nil
	}
	v := n * 1_000_000
	c.value, c.num = &v, &v
	c.fill()
	if drill {
		return c, c.drill(ctx, q, drillQuery{part: "numerator", entity: "cell", sql: `SELECT c.id, c.type AS ref,
			COALESCE(c.unit_id, '') AS unit_id, c.region_code, 1000000 AS g, c.certified_at AS at` + where +
			` ORDER BY c.certified_at, c.id`, args: wargs})
	}
	return c, nil
}

// missingTable reports whether err says that table does not exist, in
// either engine's words.
func missingTable(err error, table string) bool {
	s := err.Error()
	return strings.Contains(s, table) && (strings.Contains(s, "no such table") || strings.Contains(s, "does not exist"))
}

// setRate sets numerator, denominator and value = num ÷ den × scale, all in
// millionths; no denominator, no value.
func (c *Computation) setRate(num, den int64, scale float64) {
	if den <= 0 {
		return
	}
	v := toE6(float64(num) / float64(den) * scale)
	c.value, c.num, c.den = &v, &num, &den
	c.fill()
}

// fill sets the API fields from the stored ones.
func (c *Computation) fill() {
	c.Value, c.Numerator, c.Denominator = fromE6(c.value), fromE6(c.num), fromE6(c.den)
}

// drillQuery lists records behind one part of a value. Its columns are id,
// ref, unit_id, region_code, g (the amount in millionths) and optionally at.
type drillQuery struct {
	part, entity, sql string
	args              []any
}

func (c *Computation) drill(ctx context.Context, q store.Querier, qs ...drillQuery) error {
	c.Rows = []DrillRow{}
	for _, d := range qs {
		var rows []struct {
			ID         string     `db:"id"`
			Ref        string     `db:"ref"`
			UnitID     string     `db:"unit_id"`
			RegionCode string     `db:"region_code"`
			G          int64      `db:"g"`
			At         *time.Time `db:"at"`
		}
		left := maxDrillRows - len(c.Rows)
		if left <= 0 {
			c.Truncated = true
			return nil
		}
		if err := store.Select(ctx, q, &rows, d.sql+` LIMIT ?`, append(d.args, left+1)...); err != nil {
			return err
		}
		for i, r := range rows {
			if i == left {
				c.Truncated = true
				break
			}
			var at *time.Time
			if r.At != nil {
				t := r.At.UTC()
				at = &t
			}
			c.Rows = append(c.Rows, DrillRow{Part: d.part, Entity: d.entity, ID: r.ID, Ref: r.Ref, UnitID: r.UnitID,
				RegionCode: r.RegionCode, Quantity: float64(r.G) / 1e6, At: at})
		}
	}
	return nil
}
