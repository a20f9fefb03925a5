package exchange

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"wufei/internal/calendar"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Cells gives the cells of a row by column key.
type Cells struct {
	Row   Row
	index map[string]int
}

// ByKey indexes a row's cells by its columns' keys.
func ByKey(cols []Column, r Row) Cells {
	idx := make(map[string]int, len(cols))
	for i, c := range cols {
		idx[c.Key] = i
	}
	return Cells{Row: r, index: idx}
}

// Get is the trimmed cell of column key ("" if the column is absent).
func (c Cells) Get(key string) string {
	i, ok := c.index[key]
	if !ok || i >= len(c.Row.Cells) {
		return ""
	}
	return strings.TrimSpace(c.Row.Cells[i])
}

// With is a copy of the cells with column key set to v.
func (c Cells) With(key, v string) Cells {
	i, ok := c.index[key]
	if !ok {
		return c
	}
	r := Row{Num: c.Row.Num, Cells: append([]string(nil), c.Row.Cells...)}
	r.Cells[i] = v
	return Cells{Row: r, index: c.index}
}

// ParseTonnes reads a quantity in tonnes as integer grams: at most six
// decimals, ignoring the float noise a spreadsheet may add (0.30000000000000004).
func ParseTonnes(s string) (int64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > qty.MaxTonnes {
		return 0, false
	}
	g, err := qty.Grams("", math.Round(v*1e6)/1e6)
	if err != nil || math.Abs(v*1e6-float64(g)) > 1e-3*max(1, v) {
		return 0, false
	}
	return g, true
}

// Tonnes formats grams as tonnes the way a workbook cell carries them.
func Tonnes(g int64) string { return strconv.FormatFloat(qty.Tonnes(g), 'f', -1, 64) }

// timeLayouts are the date and time forms a cell may hold, in Beijing time.
var timeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006/1/2 15:04:05", "2006/1/2 15:04",
	"2006/1/2", "2006-1-2 15:04:05", "2006-1-2 15:04", "2006-1-2", "2006.1.2", "2006年1月2日", time.RFC3339}

// ParseTime reads a date or date and time in Beijing time, as text or as
// the serial number Excel stores for a date cell.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, calendar.Zone); err == nil {
			return t.UTC(), true
		}
	}
	// A serial day number (1900 date system), with the fraction of the day.
	if v, err := strconv.ParseFloat(s, 64); err == nil && v > 1 && v < 2958466 {
		base := time.Date(1899, 12, 30, 0, 0, 0, 0, calendar.Zone)
		days := math.Floor(v)
		secs := math.Round((v - days) * 86400)
		return base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second).UTC(), true
	}
	return time.Time{}, false
}

// Time formats a time as a workbook cell carries it: Beijing time to the
// second.
func Time(t time.Time) string { return t.In(calendar.Zone).Format("2006-01-02 15:04:05") }

// Year is the span of a year in Beijing time, as UTC bounds [from, to).
func Year(y int) (time.Time, time.Time) {
	return time.Date(y, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC(), time.Date(y+1, 1, 1, 0, 0, 0, 0, calendar.Zone).UTC()
}

// Ref is the record a unit's own reference (自编号) names in a kind, or ""
// when it names none.
func Ref(ctx context.Context, q store.Querier, kind, ownerID, ref string) (string, error) {
	var id string
	err := store.Get(ctx, q, &id, `SELECT entity_id FROM exchange_refs WHERE kind = ? AND owner_id = ? AND ref = ?`, kind, ownerID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// SaveRef records that a unit's reference names a record, in the
// transaction that made the record.
func SaveRef(ctx context.Context, tx *store.Tx, kind, ownerID, ref, entityID string) error {
	_, err := store.Exec(ctx, tx, `INSERT INTO exchange_refs (kind, owner_id, ref, entity_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		kind, ownerID, ref, entityID, tx.Now)
	return err
}
