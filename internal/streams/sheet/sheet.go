// Package sheet keeps the record kinds of the solid-waste streams other
// than hazardous waste — a generator's month of general industrial solid
// waste, a township's straw, a sludge plant's month, a region's household
// waste, a construction-waste site, a medical institution — from one
// description per kind: its fields with their Chinese headers and types,
// the fields that key a row, who keeps it and its own rules. From that one
// description each kind gets its table access, validation, scoping, audit
// entries, API schema, web form and Excel exchange, so that a record entered
// in a form, sent to the API or imported from a workbook passes the same
// parser and the same rules. See docs/decisions/0010-stream-sheets.md.
package sheet

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Type is what a field holds and how it is stored.
type Type int

const (
	Text     Type = iota // free text
	Tonnes               // tonnes (up to 3 decimals) in the API and workbook; integer grams in the column
	Int                  // a whole number ≥ 0 (beds, m², parcels)
	Decimal              // a number that is no quantity of waste (area, coordinates), within Min and Max
	Month                // YYYY-MM: the record's year and month
	MonthNum             // 1–12: the record's month, beside a Year field
	Year                 // YYYY: the record's year
	Date                 // YYYY-MM-DD; the record's year and month when it is the kind's Period
	Choice               // one of Choices
	Region               // a county, district or park of Huaibei: the record's region_code
	Township             // a township (乡镇、街道) of the record's county, by name
	Regions              // a list of county codes, stored sorted and joined by commas
	Unit                 // a registered unit's USCC: the record's unit (and region, unless the kind has a Region field)
	Link                 // a USCC kept as typed that links the record to a registered unit when there is one
)

// Field is one field of a kind: a JSON property, a workbook column and a
// form input. Region, Unit, Year, Month and MonthNum fields are the
// record's own columns; every other field has a column of its own.
type Field struct {
	Key      string   // JSON name, form name and the workbook's column key
	Header   string   // Chinese header
	EN       string   // English label
	Type     Type     //
	Required bool     //
	Choices  []string // Choice: the allowed values
	Note     string   // help: unit of measure, format
	Example  string   // the template's example cell
	Max      int      // Text: the longest allowed, in characters (default 200)
	Min, Top float64  // Decimal: the allowed range (both 0: any number ≥ 0)
}

// Col is the field's table column.
func (f Field) Col() string {
	switch f.Type {
	case Tonnes:
		return strings.TrimSuffix(f.Key, "_t") + "_g"
	case Region:
		return "region_code"
	case Unit:
		return "unit_id"
	case Year:
		return "year"
	case MonthNum:
		return "month"
	}
	return f.Key
}

// own reports whether the field is one of the record's own columns.
func (f Field) own() bool {
	return f.Type == Region || f.Type == Unit || f.Type == Year || f.Type == Month || f.Type == MonthNum
}

// Whole reports whether the value is an integer (grams for Tonnes).
func (f Field) Whole() bool {
	return f.Type == Tonnes || f.Type == Int || f.Type == Year || f.Type == MonthNum
}

// Numeric reports whether the field holds a number.
func (f Field) Numeric() bool { return f.Whole() || f.Type == Decimal }

// Spec describes one record kind.
type Spec struct {
	Name    string // exchange kind and URL segment, e.g. "gisw_ledger"
	Title   string // Chinese title
	TitleEN string // English title
	Group   string // the stream: industrial, sludge, construction, medical, agri, household
	Lead    string // the department that keeps or oversees the records, for pages and messages
	Table   string
	Fields  []Field // in workbook order
	Key     []string
	// Period is the key of the Year, Month or Date field the record's year
	// (and month) come from; empty means the kind's Year or Month field.
	Period string
	// Season and Seasons give a record's month from a choice field, for
	// kinds kept by season (夏季 → 6).
	Season  string
	Seasons map[string]int
	// Standing says that a record stands from its year on (a collection
	// point built in a year), so a year's list holds it from then on.
	Standing bool
	// UnitWrites lets a unit's own admin and members keep the records of
	// their unit; otherwise only regulators (and admins) write the kind.
	UnitWrites bool
	// Check applies the kind's own rules to a parsed record; it may read the
	// database (q) and set derived values (a site month takes its site's
	// region and unit).
	Check func(ctx context.Context, q store.Querier, r *Record, v *errs.Validation) error
	// Derive adds figures that come from other records (e.g. manifests) to
	// records read back, under Record.Derived.
	Derive func(ctx context.Context, q store.Querier, rs []*Record) error
	// DerivedFields lists the keys Derive sets, with their headers.
	DerivedFields []Field
}

// Entity is the audit entity of the kind's records; the indicators refresh
// the stream indicators on entries whose entity starts stream_.
func (s *Spec) Entity() string { return "stream_" + s.Name }

// Field returns the field with a key.
func (s *Spec) Field(key string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// fieldOf returns the kind's first field of a type.
func (s *Spec) fieldOf(types ...Type) (Field, bool) {
	for _, f := range s.Fields {
		if slices.Contains(types, f.Type) {
			return f, true
		}
	}
	return Field{}, false
}

// columns are the fields with a column of their own, in Fields order.
func (s *Spec) columns() []Field {
	var out []Field
	for _, f := range s.Fields {
		if !f.own() {
			out = append(out, f)
		}
	}
	return out
}

// Record is one stored row: the record's own columns, and its fields'
// values by key: string for text-like fields (a Month as YYYY-MM, a unit as
// its USCC, a list of regions joined by commas), int64 for Tonnes (grams),
// Int, Year and MonthNum, float64 for Decimal.
type Record struct {
	ID         string
	Version    int64
	UnitID     string // "" when the record has no registered unit
	UnitName   string
	RegionCode string
	Year       int
	Month      int // 0 for a record of a whole year
	CreatedAt  time.Time
	UpdatedAt  time.Time
	V          map[string]any
	Derived    map[string]float64 // figures from other records, by key
}

// Str returns a text-like value.
func (r *Record) Str(key string) string { s, _ := r.V[key].(string); return s }

// Num returns a whole-number value (grams for Tonnes).
func (r *Record) Num(key string) int64 { n, _ := r.V[key].(int64); return n }

// Float returns a Decimal value.
func (r *Record) Float(key string) float64 { n, _ := r.V[key].(float64); return n }

// Tonnes returns a Tonnes value in tonnes.
func (r *Record) Tonnes(key string) float64 { return qty.Tonnes(r.Num(key)) }

// Input is a record as typed: each field's text by key, as a form, a
// workbook row or a JSON body (numbers written out) gives it.
type Input map[string]string

var (
	monthRe = regexp.MustCompile(`^(20[0-9]{2})-(0[1-9]|1[0-2])$`)
	yearRe  = regexp.MustCompile(`^20[0-9]{2}$`)
)

// listSep splits a typed list: ； ; 、 , ， and spaces between items.
func listSep(r rune) bool { return strings.ContainsRune("；;、,， ", r) }

// parse checks every field of in and returns the values by key; errors
// name the field by its key. Checks that need the database (regions,
// townships, units) follow in the service.
func (s *Spec) parse(in Input, v *errs.Validation) map[string]any {
	out := make(map[string]any, len(s.Fields))
	for k := range in {
		if _, ok := s.Field(k); !ok {
			v.Add(k, "field_unknown", "没有这个字段: "+clip(k))
		}
	}
	for _, f := range s.Fields {
		raw := strings.TrimSpace(in[f.Key])
		switch {
		case f.Whole():
			out[f.Key] = int64(0)
		case f.Type == Decimal:
			out[f.Key] = float64(0)
		default:
			out[f.Key] = ""
		}
		if raw == "" {
			if f.Required {
				v.Add(f.Key, "required", "须填写"+f.Header)
			}
			continue
		}
		if f.Numeric() {
			raw = strings.ReplaceAll(raw, ",", "")
		}
		switch f.Type {
		case Tonnes:
			t, err := strconv.ParseFloat(raw, 64)
			if err != nil || math.IsNaN(t) {
				v.Add(f.Key, "number", f.Header+"须为数字（吨）")
				continue
			}
			g, err := qty.Grams(f.Key, t)
			switch {
			case err != nil:
				v.Add(f.Key, "quantity_range", f.Header+"须为 0 至 10 亿吨之间的数")
			case g%1000 != 0:
				v.Add(f.Key, "quantity_precision", f.Header+"最多保留 3 位小数（千克）")
			default:
				out[f.Key] = g
			}
		case Int, Year, MonthNum:
			n, err := strconv.ParseInt(strings.TrimSuffix(raw, ".0"), 10, 64)
			switch {
			case err != nil || n < 0 || n > 1e12:
				v.Add(f.Key, "integer", f.Header+"须为非负整数")
			case f.Type == Year && !yearRe.MatchString(raw):
				v.Add(f.Key, "year_format", f.Header+"须为四位年份，如 2026")
			case f.Type == MonthNum && (n < 1 || n > 12):
				v.Add(f.Key, "month_range", f.Header+"须在 1 至 12 之间")
			default:
				out[f.Key] = n
			}
		case Decimal:
			x, err := strconv.ParseFloat(raw, 64)
			switch {
			case err != nil || math.IsNaN(x) || math.IsInf(x, 0):
				v.Add(f.Key, "number", f.Header+"须为数字")
			case f.Min == 0 && f.Top == 0 && x < 0, f.Top != 0 && (x < f.Min || x > f.Top):
				v.Add(f.Key, "decimal_range", fmt.Sprintf("%s须在 %g 至 %g 之间", f.Header, f.Min, f.Top))
			default:
				out[f.Key] = x
			}
		case Month:
			if !monthRe.MatchString(raw) {
				v.Add(f.Key, "month_format", f.Header+"格式应为 2026-03")
			}
			out[f.Key] = raw
		case Date:
			d := normDate(raw)
			if t, err := time.Parse(time.DateOnly, d); err != nil || t.Year() < 2000 || t.Year() > 2099 {
				v.Add(f.Key, "date_format", f.Header+"格式应为 2026-03-15")
			}
			out[f.Key] = d
		case Choice:
			if !slices.Contains(f.Choices, raw) {
				v.Add(f.Key, "choice", f.Header+"须为以下之一："+strings.Join(f.Choices, "、"))
			}
			out[f.Key] = raw
		case Region:
			code, _, _ := strings.Cut(raw, " ") // "340621 濉溪县", as the workbook offers it
			out[f.Key] = code
		case Regions:
			out[f.Key] = joinCodes(strings.FieldsFunc(raw, listSep))
		case Unit, Link:
			out[f.Key] = strings.ToUpper(raw)
		default:
			max := f.Max
			if max == 0 {
				max = 200
			}
			if len([]rune(raw)) > max {
				v.Add(f.Key, "too_long", fmt.Sprintf("%s最多 %d 个字", f.Header, max))
			}
			out[f.Key] = raw
		}
	}
	return out
}

// normDate accepts 2025-6-18, 2025/06/18 and 2025.6.18 as 2025-06-18.
func normDate(s string) string {
	for _, layout := range []string{time.DateOnly, "2006-1-2", "2006/1/2", "2006.1.2"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	return s
}

// joinCodes normalises a list of region codes: sorted, unique, joined by
// commas.
func joinCodes(cs []string) string {
	var out []string
	for _, c := range cs {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// period sets the record's year and month from its fields.
func (s *Spec) period(r *Record) {
	pf, ok := s.Field(s.Period)
	if !ok {
		pf, ok = s.fieldOf(Year, Month)
	}
	r.Year, r.Month = 0, 0
	if ok {
		switch x := r.V[pf.Key].(type) {
		case int64:
			r.Year = int(x)
		case string:
			if len(x) >= 7 {
				r.Year, _ = strconv.Atoi(x[:4])
				r.Month, _ = strconv.Atoi(x[5:7])
			}
		}
		if pf.Type == Month || pf.Type == Date {
			return
		}
	}
	if mf, ok := s.fieldOf(MonthNum); ok {
		r.Month = int(r.Num(mf.Key))
	}
	if s.Season != "" {
		r.Month = s.Seasons[r.Str(s.Season)]
	}
}

// Cell writes a value as the workbook and the form show it.
func (f Field) Cell(val any) string {
	switch x := val.(type) {
	case int64:
		if f.Type == Tonnes {
			return strconv.FormatFloat(qty.Tonnes(x), 'f', -1, 64)
		}
		if x == 0 && f.Type != Int {
			return ""
		}
		return strconv.FormatInt(x, 10)
	case float64:
		if x == 0 {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return ""
}

// Input is a record's fields as typed, for an edit form or a patch.
func (s *Spec) Input(r *Record) Input {
	in := Input{}
	for _, f := range s.Fields {
		in[f.Key] = f.Cell(r.V[f.Key])
	}
	return in
}

// clip shortens input echoed in a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// Object is a record as the API gives it: its own columns and its fields by
// key (tonnes and decimals as numbers, a list of regions as an array), with
// the figures derived from other records.
func (s *Spec) Object(r *Record) map[string]any {
	m := map[string]any{"id": r.ID, "version": r.Version, "unit_id": r.UnitID, "unit_name": r.UnitName,
		"region_code": r.RegionCode, "year": r.Year, "created_at": r.CreatedAt, "updated_at": r.UpdatedAt}
	for _, f := range s.Fields {
		switch x := r.V[f.Key].(type) {
		case int64:
			if f.Type == Tonnes {
				m[f.Key] = qty.Tonnes(x)
			} else {
				m[f.Key] = x
			}
		case string:
			if f.Type == Regions {
				m[f.Key] = strings.FieldsFunc(x, listSep)
			} else {
				m[f.Key] = x
			}
		default:
			m[f.Key] = x
		}
	}
	for k, v := range r.Derived {
		m[k] = v
	}
	return m
}

// ParseObject reads a JSON object of field values into an Input, numbers
// written out as typed and a list as its items joined by commas. The key
// "version" is returned apart.
func (s *Spec) ParseObject(obj map[string]any) (Input, int64, error) {
	in := Input{}
	var version int64
	var v errs.Validation
	for k, val := range obj {
		if k == "version" {
			n, err := strconv.ParseInt(fmt.Sprint(val), 10, 64)
			if err != nil || n < 1 {
				v.Add("version", "version", "version 须为正整数")
			}
			version = n
			continue
		}
		text, ok := scalar(val)
		if list, isList := val.([]any); isList {
			parts := make([]string, len(list))
			ok = true
			for i, x := range list {
				var good bool
				parts[i], good = scalar(x)
				ok = ok && good && x != nil
			}
			text = strings.Join(parts, ",")
		}
		if !ok {
			v.Add(k, "type", "字段 "+clip(k)+" 须为字符串或数字")
		}
		in[k] = text
	}
	return in, version, v.Err()
}

// scalar writes out a JSON string, number or null.
func scalar(val any) (string, bool) {
	switch x := val.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case interface{ String() string }: // json.Number
		return x.String(), true
	}
	return "", false
}
