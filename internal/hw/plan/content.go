package plan

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// content is the part of a plan the unit writes.
type content struct {
	Generation        []GenerationLine
	Storage           []StorageLine
	InHouse           []InHouseLine
	Transfers         []TransferLine
	ReductionMeasures string
}

// lineRow is one row of plan_lines.
type lineRow struct {
	Section         string  `db:"section"`
	LineNo          int     `db:"line_no"`
	WasteCode       string  `db:"waste_code"`
	Name            string  `db:"name"`
	Form            string  `db:"form"`
	Characteristics string  `db:"characteristics"`
	Source          string  `db:"source"`
	FacilityCode    string  `db:"facility_code"`
	Method          string  `db:"method"`
	ReceiverUnitID  *string `db:"receiver_unit_id"`
	PlannedG        int64   `db:"planned_g"`
	LastYearG       int64   `db:"last_year_g"`
	CapacityG       int64   `db:"capacity_g"`
}

var codeRe = regexp.MustCompile(`^[0-9]{3}-[0-9]{3}-[0-9]{2}$`)

// maxText bounds free-text fields, in characters.
const (
	maxName     = 100
	maxSource   = 200
	maxMeasures = 4000
)

// catalogue is what validation looks up: the waste codes named (with their
// characteristics), the method codes, the unit's facilities by code and kind,
// and the receivers named.
type catalogue struct {
	codes      map[string]string // waste code → characteristics
	methods    map[string]bool
	facilities map[string]string // facility code → kind
	receivers  map[string]bool   // unit ids that are collectors, utilisers or disposers
}

func loadCatalogue(ctx context.Context, q store.Querier, unitID string, c *content) (catalogue, error) {
	cat := catalogue{codes: map[string]string{}, methods: map[string]bool{}, facilities: map[string]string{}, receivers: map[string]bool{}}
	var codes, receivers []string
	for _, g := range c.Generation {
		codes = append(codes, g.WasteCode)
	}
	for _, h := range c.InHouse {
		codes = append(codes, h.WasteCode)
	}
	for _, t := range c.Transfers {
		codes = append(codes, t.WasteCode)
		if t.ReceiverUnitID != "" {
			receivers = append(receivers, t.ReceiverUnitID)
		}
	}
	if len(codes) > 0 {
		query, args, err := store.In(`SELECT code, characteristics FROM waste_codes WHERE code IN (?)`, codes)
		if err != nil {
			return cat, err
		}
		var rows []struct {
			Code string `db:"code"`
			Char string `db:"characteristics"`
		}
		if err := store.Select(ctx, q, &rows, query, args...); err != nil {
			return cat, err
		}
		for _, r := range rows {
			cat.codes[r.Code] = r.Char
		}
	}
	if len(receivers) > 0 {
		query, args, err := store.In(`SELECT DISTINCT unit_id FROM unit_roles WHERE unit_id IN (?)
			AND role IN ('collector', 'utiliser', 'disposer')`, receivers)
		if err != nil {
			return cat, err
		}
		var ids []string
		if err := store.Select(ctx, q, &ids, query, args...); err != nil {
			return cat, err
		}
		for _, id := range ids {
			cat.receivers[id] = true
		}
	}
	var methods []string
	if err := store.Select(ctx, q, &methods, `SELECT code FROM methods`); err != nil {
		return cat, err
	}
	for _, m := range methods {
		cat.methods[m] = true
	}
	var fs []struct {
		Code string `db:"code"`
		Kind string `db:"kind"`
	}
	if err := store.Select(ctx, q, &fs, `SELECT code, kind FROM facilities WHERE unit_id = ? AND status = 'active'`, unitID); err != nil {
		return cat, err
	}
	for _, f := range fs {
		cat.facilities[f.Code] = f.Kind
	}
	return cat, nil
}

// validate checks the content against the catalogue and the registry and
// returns its rows for plan_lines. Field paths are the API's.
func validate(ctx context.Context, q store.Querier, unitID string, c *content) ([]lineRow, error) {
	cat, err := loadCatalogue(ctx, q, unitID, c)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	var rows []lineRow
	quantity := func(field string, t float64) int64 {
		g, err := qty.Grams(field, t)
		if err != nil {
			fe := err.(*errs.Error).Fields[0]
			v.Add(fe.Field, fe.Code, fe.Message)
		}
		return g
	}
	wasteCode := func(field, code string, required bool) {
		switch {
		case code == "" && !required:
		case !codeRe.MatchString(code):
			v.Add(field, "waste_code_format", "废物代码格式应为 ddd-ddd-dd")
		case !hasCode(cat, code):
			v.Add(field, "waste_code_unknown", "《国家危险废物名录》中没有该废物代码: "+code)
		}
	}
	text := func(field string, s *string, limit int) {
		*s = strings.TrimSpace(*s)
		if utf8.RuneCountInString(*s) > limit {
			v.Add(field, "too_long", fmt.Sprintf("最多 %d 个字", limit))
		}
	}
	method := func(field, m string) {
		if !cat.methods[m] {
			v.Add(field, "method_unknown", "利用/处置方式代码不存在: "+m)
		}
	}
	for i := range c.Generation {
		g := &c.Generation[i]
		f := fmt.Sprintf("generation[%d]", i)
		wasteCode(f+".waste_code", g.WasteCode, true)
		text(f+".name", &g.Name, maxName)
		text(f+".source", &g.Source, maxSource)
		if !slices.Contains(Forms, g.Form) {
			v.Add(f+".form", "form_unknown", "物理性状只能是 S、SS、L、G")
		}
		if len(g.Characteristics) == 0 && cat.codes[g.WasteCode] != "" {
			g.Characteristics = strings.Split(cat.codes[g.WasteCode], ",")
		}
		for j, ch := range g.Characteristics {
			if !slices.Contains(Characteristics, ch) {
				v.Add(fmt.Sprintf("%s.characteristics[%d]", f, j), "characteristic_unknown", "危险特性只能是 T、C、I、R、In")
			}
		}
		g.Characteristics = slices.Compact(slices.Sorted(slices.Values(g.Characteristics)))
		rows = append(rows, lineRow{Section: secGeneration, LineNo: i + 1, WasteCode: g.WasteCode, Name: g.Name, Form: g.Form,
			Characteristics: strings.Join(g.Characteristics, ","), Source: g.Source,
			PlannedG: quantity(f+".planned_t", g.PlannedT), LastYearG: quantity(f+".last_year_t", g.LastYearT)})
	}
	for i, s := range c.Storage {
		f := fmt.Sprintf("storage[%d]", i)
		if cat.facilities[s.FacilityCode] != "storage" {
			v.Add(f+".facility_code", "facility_unknown", "本单位没有该编码的在用贮存设施: "+s.FacilityCode)
		}
		rows = append(rows, lineRow{Section: secStorage, LineNo: i + 1, FacilityCode: s.FacilityCode,
			CapacityG: quantity(f+".capacity_t", s.CapacityT)})
	}
	for i, h := range c.InHouse {
		f := fmt.Sprintf("in_house[%d]", i)
		if k := cat.facilities[h.FacilityCode]; k != "utilisation" && k != "disposal" {
			v.Add(f+".facility_code", "facility_unknown", "本单位没有该编码的在用利用/处置设施: "+h.FacilityCode)
		}
		wasteCode(f+".waste_code", h.WasteCode, false)
		method(f+".method", h.Method)
		rows = append(rows, lineRow{Section: secInHouse, LineNo: i + 1, FacilityCode: h.FacilityCode, WasteCode: h.WasteCode,
			Method: h.Method, PlannedG: quantity(f+".planned_t", h.PlannedT)})
	}
	for i, t := range c.Transfers {
		f := fmt.Sprintf("transfers[%d]", i)
		wasteCode(f+".waste_code", t.WasteCode, true)
		method(f+".method", t.Method)
		var receiver *string
		if t.ReceiverUnitID != "" {
			if !cat.receivers[t.ReceiverUnitID] {
				v.Add(f+".receiver_unit_id", "receiver_unknown", "接受单位不存在或不是收集、利用、处置单位")
			}
			receiver = &t.ReceiverUnitID
		}
		rows = append(rows, lineRow{Section: secTransfer, LineNo: i + 1, WasteCode: t.WasteCode, Method: t.Method,
			ReceiverUnitID: receiver, PlannedG: quantity(f+".planned_t", t.PlannedT)})
	}
	text("reduction_measures", &c.ReductionMeasures, maxMeasures)
	return rows, v.Err()
}

// hasCode covers a catalogue code listed with no characteristics.
func hasCode(cat catalogue, code string) bool {
	_, ok := cat.codes[code]
	return ok
}

// fromRows rebuilds a plan's sections from its stored lines.
func fromRows(p *Plan, rows []lineRow) {
	p.Generation, p.Storage, p.InHouse, p.Transfers = []GenerationLine{}, []StorageLine{}, []InHouseLine{}, []TransferLine{}
	for _, r := range rows {
		switch r.Section {
		case secGeneration:
			chars := []string{}
			if r.Characteristics != "" {
				chars = strings.Split(r.Characteristics, ",")
			}
			p.Generation = append(p.Generation, GenerationLine{WasteCode: r.WasteCode, Name: r.Name, Form: r.Form,
				Characteristics: chars, PlannedT: qty.Tonnes(r.PlannedG), LastYearT: qty.Tonnes(r.LastYearG), Source: r.Source})
		case secStorage:
			p.Storage = append(p.Storage, StorageLine{FacilityCode: r.FacilityCode, CapacityT: qty.Tonnes(r.CapacityG)})
		case secInHouse:
			p.InHouse = append(p.InHouse, InHouseLine{FacilityCode: r.FacilityCode, WasteCode: r.WasteCode, Method: r.Method,
				PlannedT: qty.Tonnes(r.PlannedG)})
		case secTransfer:
			t := TransferLine{WasteCode: r.WasteCode, Method: r.Method, PlannedT: qty.Tonnes(r.PlannedG)}
			if r.ReceiverUnitID != nil {
				t.ReceiverUnitID = *r.ReceiverUnitID
			}
			p.Transfers = append(p.Transfers, t)
		}
	}
}
