package trace

import (
	"context"
	"time"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Balance is the mass balance of one unit and waste code over a period:
// what its ledger says it generated, stored, treated itself and sent out,
// and what its manifests say was shipped, received and treated at the other
// end. Every difference that should be zero is listed as a gap.
type Balance struct {
	WasteCode   string  `json:"waste_code"`
	OpeningT    float64 `json:"opening_t" doc:"期初库存"`
	GeneratedT  float64 `json:"generated_t"`
	InHouseT    float64 `json:"in_house_t" doc:"自行利用处置"`
	StoredOutT  float64 `json:"stored_out_t" doc:"出库"`
	ClosingT    float64 `json:"closing_t" doc:"期末库存"`
	ShippedT    float64 `json:"shipped_t" doc:"联单起运的申报量"`
	ReceivedT   float64 `json:"received_t" doc:"接受单位实收"`
	AcceptedT   float64 `json:"accepted_t"`
	TreatedT    float64 `json:"treated_t" doc:"接受单位已完成利用处置"`
	OutsourcedT float64 `json:"outsourced_t" doc:"委外利用处置台账"`
	Gaps        []Gap   `json:"gaps"`
}

// Gap is a difference that should be zero.
type Gap struct {
	Kind    string  `json:"kind" doc:"ledger_balance、transit_loss、untreated、outsourced_mismatch"`
	AmountT float64 `json:"amount_t"`
	Detail  string  `json:"detail"`
}

// Balances returns the mass balance per waste code for a unit the principal
// may see (its own accounts; regulators of its region; admins).
func (s *Service) Balances(ctx context.Context, p auth.Principal, unitID string, from, to time.Time) ([]Balance, error) {
	q := s.db.Reader()
	var region string
	if err := store.Get(ctx, q, &region, `SELECT region_code FROM units WHERE id = ?`, unitID); err != nil {
		if err == store.ErrNotFound {
			return nil, errs.E(errs.NotFound, "unit_not_found", "单位不存在或无权查看")
		}
		return nil, err
	}
	if !(p.Role.BoundToUnit() && p.UnitID == unitID) && !seesRegion(p, region) {
		return nil, errs.E(errs.NotFound, "unit_not_found", "单位不存在或无权查看")
	}
	if !to.After(from) {
		return nil, errs.Field("to", "period_order", "截止时间须晚于起始时间")
	}
	totals, err := ledger.PeriodTotals(ctx, q, unitID, from, to)
	if err != nil {
		return nil, err
	}
	var shipped []struct {
		WasteCode string `db:"waste_code"`
		Declared  int64  `db:"declared"`
		Received  int64  `db:"received"`
		Accepted  int64  `db:"accepted"`
		Treated   int64  `db:"treated"`
	}
	if err := store.Select(ctx, q, &shipped, `SELECT l.waste_code, SUM(l.quantity_g) AS declared,
		SUM(COALESCE(l.received_g, 0)) AS received, SUM(COALESCE(l.accepted_g, 0)) AS accepted,
		SUM(CASE WHEN m.status = 'completed' THEN COALESCE(l.accepted_g, 0) ELSE 0 END) AS treated
		FROM manifests m JOIN manifest_lines l ON l.manifest_id = m.id
		WHERE m.consignor_unit_id = ? AND m.picked_up_at >= ? AND m.picked_up_at < ? GROUP BY l.waste_code`,
		unitID, from, to); err != nil {
		return nil, err
	}
	by := map[string]*Balance{}
	var order []string
	get := func(code string) *Balance {
		if b, ok := by[code]; ok {
			return b
		}
		b := &Balance{WasteCode: code, Gaps: []Gap{}}
		by[code], order = b, append(order, code)
		return b
	}
	inLedger := map[string]ledger.Totals{}
	for _, t := range totals {
		b := get(t.WasteCode)
		inLedger[t.WasteCode] = t
		b.OpeningT, b.GeneratedT, b.InHouseT = qty.Tonnes(t.OpeningG), qty.Tonnes(t.GeneratedG), qty.Tonnes(t.InHouseG)
		b.StoredOutT, b.ClosingT, b.OutsourcedT = qty.Tonnes(t.StoredOutG), qty.Tonnes(t.ClosingG), qty.Tonnes(t.OutsourcedG)
	}
	inManifests := map[string][4]int64{}
	for _, sh := range shipped {
		b := get(sh.WasteCode)
		inManifests[sh.WasteCode] = [4]int64{sh.Declared, sh.Received, sh.Accepted, sh.Treated}
		b.ShippedT, b.ReceivedT = qty.Tonnes(sh.Declared), qty.Tonnes(sh.Received)
		b.AcceptedT, b.TreatedT = qty.Tonnes(sh.Accepted), qty.Tonnes(sh.Treated)
	}
	out := make([]Balance, 0, len(order))
	for _, code := range order {
		b, t, m := by[code], inLedger[code], inManifests[code]
		gap := func(kind string, g int64, detail string) {
			if g != 0 {
				b.Gaps = append(b.Gaps, Gap{Kind: kind, AmountT: qty.Tonnes(g), Detail: detail})
			}
		}
		// Stock: what came in and went out of the unit's hands must explain the closing stock.
		gap("ledger_balance", t.OpeningG+t.GeneratedG-t.InHouseG-m[0]-t.ClosingG,
			"期初 + 产生 − 自行利用处置 − 转移 ≠ 期末库存")
		gap("transit_loss", m[0]-m[1], "联单申报量与接受单位实收量之差")
		gap("untreated", m[2]-m[3], "已接受但尚未完成利用处置")
		gap("outsourced_mismatch", m[3]-t.OutsourcedG, "已完成联单与委外台账记录之差")
		out = append(out, *b)
	}
	return out, nil
}
