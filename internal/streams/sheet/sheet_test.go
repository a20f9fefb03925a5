package sheet

import (
	"errors"
	"reflect"
	"testing"

	"wufei/internal/errs"
)

// kind exercises every field type that needs no database.
var kind = &Spec{Name: "t", Title: "测试", Key: []string{"year", "month"}, Season: "season",
	Seasons: map[string]int{"夏季": 6}, Fields: []Field{
		{Key: "year", Header: "年度", Type: Year, Required: true},
		{Key: "month", Header: "月份", Type: MonthNum},
		{Key: "season", Header: "季节", Type: Choice, Choices: []string{"夏季", "秋季"}},
		{Key: "generated_t", Header: "产生量", Type: Tonnes, Required: true},
		{Key: "head", Header: "存栏", Type: Int},
		{Key: "lon", Header: "经度", Type: Decimal, Min: 73, Top: 136},
		{Key: "area", Header: "面积", Type: Decimal},
		{Key: "on", Header: "日期", Type: Date},
		{Key: "counties", Header: "县区", Type: Regions},
		{Key: "note", Header: "备注", Type: Text, Max: 4},
	}}

func codes(v *errs.Validation) map[string]string {
	out := map[string]string{}
	var e *errs.Error
	if errors.As(v.Err(), &e) {
		for _, f := range e.Fields {
			out[f.Field] = f.Code
		}
	}
	return out
}

func TestParse(t *testing.T) {
	var v errs.Validation
	vals := kind.parse(Input{"year": "2026", "month": "3", "season": "夏季", "generated_t": "1,200.5", "head": "40.0",
		"lon": "116.5", "on": "2026/6/1", "counties": "340621，340603、340603", "note": "四个字"}, &v)
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"year": int64(2026), "month": int64(3), "season": "夏季", "generated_t": int64(1_200_500_000),
		"head": int64(40), "lon": 116.5, "area": 0.0, "on": "2026-06-01", "counties": "340603,340621", "note": "四个字"}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("parsed %v", vals)
	}
	r := &Record{V: vals}
	kind.period(r)
	if r.Year != 2026 || r.Month != 6 { // the season gives the month
		t.Errorf("period %d-%d", r.Year, r.Month)
	}

	v = errs.Validation{}
	kind.parse(Input{"year": "26", "month": "13", "season": "冬季", "generated_t": "1.0001", "head": "-1", "lon": "10",
		"area": "-2", "on": "2026-02-30", "note": "五个字太长", "colour": "绿"}, &v)
	got := codes(&v)
	for k, c := range map[string]string{"year": "year_format", "month": "month_range", "season": "choice",
		"generated_t": "quantity_precision", "head": "integer", "lon": "decimal_range", "area": "decimal_range",
		"on": "date_format", "note": "too_long", "colour": "field_unknown"} {
		if got[k] != c {
			t.Errorf("%s: %q, want %q", k, got[k], c)
		}
	}
	v = errs.Validation{}
	kind.parse(Input{}, &v)
	if got := codes(&v); len(got) != 2 || got["year"] != "required" || got["generated_t"] != "required" {
		t.Errorf("empty: %v", got)
	}
}

func TestObject(t *testing.T) {
	in, version, err := kind.ParseObject(map[string]any{"version": 3.0, "year": 2026.0, "generated_t": 1.5,
		"counties": []any{"340621", "340603"}, "note": nil})
	if err != nil || version != 3 || in["year"] != "2026" || in["generated_t"] != "1.5" || in["counties"] != "340621,340603" ||
		in["note"] != "" {
		t.Fatalf("%v %d %v", in, version, err)
	}
	if _, _, err := kind.ParseObject(map[string]any{"note": map[string]any{}, "counties": []any{1.0, nil}}); len(fieldsOf(err)) != 2 {
		t.Errorf("objects and nulls in lists: %v", err)
	}
	var v errs.Validation
	r := &Record{V: kind.parse(in, &v)}
	o := kind.Object(r)
	if o["generated_t"] != 1.5 || !reflect.DeepEqual(o["counties"], []string{"340603", "340621"}) || o["year"] != int64(2026) {
		t.Errorf("object %v", o)
	}
	if got := kind.Input(r); got["generated_t"] != "1.5" || got["head"] != "0" || got["lon"] != "" || got["month"] != "" {
		t.Errorf("input %v", got)
	}
}

func fieldsOf(err error) []errs.FieldError {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
