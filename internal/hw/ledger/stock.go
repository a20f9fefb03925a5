package ledger

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
	"wufei/internal/calendar"

	"wufei/internal/alerts"
	"wufei/internal/auth"
	"wufei/internal/qty"
	"wufei/internal/settings"
	"wufei/internal/store"
)

// FacilityStock is what a storage facility holds now.
type FacilityStock struct {
	UnitID       string      `json:"unit_id"`
	FacilityCode string      `json:"facility_code"`
	FacilityName string      `json:"facility_name"`
	CapacityT    float64     `json:"capacity_t" doc:"登记的贮存能力（吨）"`
	QuantityT    float64     `json:"quantity_t" doc:"当前贮存量（吨）"`
	OldestAt     *time.Time  `json:"oldest_at,omitempty" doc:"最早一批仍在贮存的入库时间"`
	AgeDays      int         `json:"age_days" doc:"最早一批已贮存的天数"`
	Codes        []CodeStock `json:"codes"`
}

// CodeStock is what a facility holds of one waste code.
type CodeStock struct {
	WasteCode string    `json:"waste_code"`
	QuantityT float64   `json:"quantity_t"`
	OldestAt  time.Time `json:"oldest_at"`
}

// dbTime scans a time that an aggregate returns: SQLite gives MIN() of a
// time column back as text, PostgreSQL as a time.
type dbTime struct{ time.Time }

func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		t.Time = v.UTC()
		return nil
	case nil:
		t.Time = time.Time{}
		return nil
	case []byte:
		return t.parse(string(v))
	case string:
		return t.parse(v)
	}
	return fmt.Errorf("ledger: cannot scan %T as a time", src)
}

func (t *dbTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("ledger: unreadable time %q", s)
}

// Stock lists what the storage facilities the principal may see hold now,
// with the oldest batch still in each. Given a unit, its empty storage
// facilities are listed too.
func (s *Service) Stock(ctx context.Context, p auth.Principal, unitID string, now time.Time) ([]FacilityStock, error) {
	cond, args := scope(p, "s")
	where := "s.remaining_g > 0 AND " + cond
	if unitID != "" {
		where += " AND s.unit_id = ?"
		args = append(args, unitID)
	}
	var rows []struct {
		UnitID       string `db:"unit_id"`
		FacilityCode string `db:"facility_code"`
		WasteCode    string `db:"waste_code"`
		HeldG        int64  `db:"held_g"`
		Oldest       dbTime `db:"oldest"`
	}
	if err := store.Select(ctx, s.db.Reader(), &rows, `SELECT s.unit_id, s.facility_code, s.waste_code,
		SUM(s.remaining_g) AS held_g, MIN(s.stored_at) AS oldest FROM ledger_stock s WHERE `+where+`
		GROUP BY s.unit_id, s.facility_code, s.waste_code ORDER BY s.unit_id, s.facility_code, s.waste_code`, args...); err != nil {
		return nil, err
	}
	// The facilities: those holding something, and a given unit's others.
	fcond, fargs := scope(p, "f")
	query := `SELECT f.unit_id, f.code, f.name, f.capacity_g FROM (SELECT x.unit_id, x.code, x.name, x.capacity_g, x.kind,
		u.region_code FROM facilities x JOIN units u ON u.id = x.unit_id) f WHERE f.kind = 'storage' AND ` + fcond
	if unitID != "" {
		query += " AND f.unit_id = ?"
		fargs = append(fargs, unitID)
	} else {
		query += " AND EXISTS (SELECT 1 FROM ledger_stock s WHERE s.unit_id = f.unit_id AND s.facility_code = f.code AND s.remaining_g > 0)"
	}
	var facs []struct {
		UnitID    string `db:"unit_id"`
		Code      string `db:"code"`
		Name      string `db:"name"`
		CapacityG int64  `db:"capacity_g"`
	}
	if err := store.Select(ctx, s.db.Reader(), &facs, query+" ORDER BY f.unit_id, f.code", fargs...); err != nil {
		return nil, err
	}
	type key struct{ unit, code string }
	out := []FacilityStock{}
	at := map[key]int{}
	held := map[key]int64{}
	for _, f := range facs {
		at[key{f.UnitID, f.Code}] = len(out)
		out = append(out, FacilityStock{UnitID: f.UnitID, FacilityCode: f.Code, FacilityName: f.Name,
			CapacityT: qty.Tonnes(f.CapacityG), Codes: []CodeStock{}})
	}
	for _, r := range rows {
		k := key{r.UnitID, r.FacilityCode}
		i, ok := at[k]
		if !ok {
			continue
		}
		f := &out[i]
		held[k] += r.HeldG
		f.Codes = append(f.Codes, CodeStock{WasteCode: r.WasteCode, QuantityT: qty.Tonnes(r.HeldG), OldestAt: r.Oldest.Time})
		if f.OldestAt == nil || r.Oldest.Before(*f.OldestAt) {
			t := r.Oldest.Time
			f.OldestAt = &t
		}
	}
	for i := range out {
		f := &out[i]
		f.QuantityT = qty.Tonnes(held[key{f.UnitID, f.FacilityCode}])
		if f.OldestAt != nil {
			f.AgeDays = int(now.Sub(*f.OldestAt).Hours() / 24)
		}
	}
	return out, nil
}

// Totals are a unit's movements of one waste code over a period, in grams:
// the stock at its start and end and what each kind of record added.
type Totals struct {
	WasteCode                                                                    string
	OpeningG, GeneratedG, StoredInG, StoredOutG, InHouseG, OutsourcedG, ClosingG int64
}

// PeriodTotals sums a unit's ledger for [from, to) by waste code, with the
// corrections counted on the records they correct. Opening and closing are
// what was in storage at from and at to.
func PeriodTotals(ctx context.Context, q store.Querier, unitID string, from, to time.Time) ([]Totals, error) {
	from, to = from.UTC(), to.UTC()
	var rows []struct {
		WasteCode   string `db:"waste_code"`
		OpeningG    int64  `db:"opening_g"`
		GeneratedG  int64  `db:"generated_g"`
		StoredInG   int64  `db:"stored_in_g"`
		StoredOutG  int64  `db:"stored_out_g"`
		InHouseG    int64  `db:"in_house_g"`
		OutsourcedG int64  `db:"outsourced_g"`
		ClosingG    int64  `db:"closing_g"`
	}
	in := func(kind Kind) string {
		return `COALESCE(SUM(CASE WHEN effect_kind = '` + string(kind) + `' AND occurred_at >= ? THEN delta_g ELSE 0 END), 0)`
	}
	stock := func() string {
		return `COALESCE(SUM(CASE WHEN effect_kind = 'storage_in' AND occurred_at < ? THEN delta_g
			WHEN effect_kind = 'storage_out' AND occurred_at < ? THEN -delta_g ELSE 0 END), 0)`
	}
	err := store.Select(ctx, q, &rows, `SELECT waste_code, `+stock()+` AS opening_g, `+in(KindGeneration)+` AS generated_g, `+
		in(KindStorageIn)+` AS stored_in_g, `+in(KindStorageOut)+` AS stored_out_g, `+in(KindInHouse)+` AS in_house_g, `+
		in(KindOutsourced)+` AS outsourced_g, `+stock()+` AS closing_g
		FROM ledger_records WHERE unit_id = ? AND occurred_at < ? GROUP BY waste_code ORDER BY waste_code`,
		from, from, from, from, from, from, from, to, to, unitID, to)
	if err != nil {
		return nil, err
	}
	out := []Totals{}
	for _, r := range rows {
		t := Totals(r)
		if t != (Totals{WasteCode: t.WasteCode}) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Alert kinds the storage rule raises.
const (
	AlertStorageWarning = "storage_age_warning"
	AlertStorageLimit   = "storage_age_limit"
	AlertStoragePoint   = "storage_point_over"
)

// CheckStorage is the time-based storage rule, run by a scheduled job: for
// each storage facility, an alert before (storage_age_warning) and at or
// after (storage_age_limit) the storage limit for its oldest batch still
// in storage, and storage_point_over when a facility registered as a
// storage point (capacity at most the point limit) holds more than that
// limit. An alert already open is not raised again. It returns how many
// alerts it raised.
func CheckStorage(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	rules, err := settings.Load(ctx, db.Reader())
	if err != nil {
		return 0, err
	}
	var rows []struct {
		UnitID       string `db:"unit_id"`
		FacilityCode string `db:"facility_code"`
		HeldG        int64  `db:"held_g"`
		Oldest       dbTime `db:"oldest"`
		FacilityID   string `db:"facility_id"`
		FacilityName string `db:"facility_name"`
		CapacityG    int64  `db:"capacity_g"`
		RegionCode   string `db:"region_code"`
		UnitName     string `db:"unit_name"`
	}
	if err := store.Select(ctx, db.Reader(), &rows, `SELECT s.unit_id, s.facility_code, SUM(s.remaining_g) AS held_g,
		MIN(s.stored_at) AS oldest, f.id AS facility_id, f.name AS facility_name, f.capacity_g, u.region_code, u.name AS unit_name
		FROM ledger_stock s JOIN facilities f ON f.unit_id = s.unit_id AND f.code = s.facility_code
		JOIN units u ON u.id = s.unit_id WHERE s.remaining_g > 0
		GROUP BY s.unit_id, s.facility_code, f.id, f.name, f.capacity_g, u.region_code, u.name`); err != nil {
		return 0, err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].FacilityID < rows[j].FacilityID })
	limit := time.Duration(rules.StorageLimitDays) * 24 * time.Hour
	warn := limit - time.Duration(rules.StorageWarnDays)*24*time.Hour
	pointG := int64(math.Round(rules.StoragePointMaxT * 1e6))
	raised := 0
	err = db.Tx(ctx, func(tx *store.Tx) error {
		raise := func(a alerts.Alert) error {
			got, err := alerts.Raise(ctx, tx, a)
			if err == nil && got.CreatedAt.Equal(tx.Now) {
				raised++
			}
			return err
		}
		for _, r := range rows {
			where := r.UnitName + " " + r.FacilityCode + "（" + r.FacilityName + "）"
			base := alerts.Alert{Subject: "facility", SubjectID: r.FacilityID, SubjectRef: r.FacilityCode,
				RegionCode: r.RegionCode, UnitIDs: []string{r.UnitID}}
			age := now.Sub(r.Oldest.Time)
			due := r.Oldest.Add(limit)
			since := r.Oldest.In(calendar.Zone).Format(time.DateOnly)
			switch {
			case age >= limit:
				a := base
				a.Kind, a.Severity, a.DueAt = AlertStorageLimit, alerts.Critical, &due
				a.Title = "危险废物贮存超过期限：" + where
				a.Detail = fmt.Sprintf("最早一批于 %s 入库，已贮存 %d 天，超过 %d 天的贮存期限。", since, int(age.Hours()/24), rules.StorageLimitDays)
				if err := raise(a); err != nil {
					return err
				}
			case age >= warn:
				a := base
				a.Kind, a.Severity, a.DueAt = AlertStorageWarning, alerts.Warning, &due
				a.Title = "危险废物贮存即将到期：" + where
				a.Detail = fmt.Sprintf("最早一批于 %s 入库，将于 %s 达到 %d 天的贮存期限，请及时转移或利用处置。", since,
					due.In(calendar.Zone).Format(time.DateOnly), rules.StorageLimitDays)
				if err := raise(a); err != nil {
					return err
				}
			}
			if r.CapacityG <= pointG && r.HeldG > pointG {
				a := base
				a.Kind, a.Severity = AlertStoragePoint, alerts.Warning
				a.Title = "贮存点贮存量超过上限：" + where
				a.Detail = fmt.Sprintf("当前贮存 %s 吨，贮存点不得超过 %s 吨（GB 18597 §8.3.5）。", tonnes(r.HeldG), tonnes(pointG))
				if err := raise(a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return raised, err
}
