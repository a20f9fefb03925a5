package calendar

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// MaxNoteRunes bounds the note on an override.
const MaxNoteRunes = 200

// checkDay validates an override's input and returns the normalised date.
func checkDay(p auth.Principal, day, note string) (date, error) {
	if p.Role != auth.Admin {
		return 0, errs.E(errs.Forbidden, "forbidden", "只有平台管理员可以调整工作日历")
	}
	d, err := parseDay(day)
	switch {
	case err != nil || d.String() != day:
		return 0, errs.Field("day", "date_format", "日期格式应为 YYYY-MM-DD")
	case d/10000 < 2000 || d/10000 > 2099:
		return 0, errs.Field("day", "date_range", "日期须在 2000 至 2099 年之间")
	case utf8.RuneCountInString(note) > MaxNoteRunes:
		return 0, errs.Field("note", "too_long", "说明不能超过 200 字")
	}
	return d, nil
}

// SetDay makes day ("YYYY-MM-DD", Asia/Shanghai) a working day or a day off,
// whatever the built-in data say, inside tx and with an audit entry. Only
// administrators may change the calendar every deadline is counted on.
func SetDay(ctx context.Context, tx *store.Tx, p auth.Principal, day string, working bool, note string) (Day, error) {
	note = strings.TrimSpace(note)
	d, err := checkDay(p, day, note)
	if err != nil {
		return Day{}, err
	}
	before, err := stored(ctx, tx, d)
	if err != nil {
		return Day{}, err
	}
	store.Changed(tx, "calendar_days")
	if _, err := store.Exec(ctx, tx, `INSERT INTO calendar_days (day, working, note) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET working = excluded.working, note = excluded.note`, day, working, note); err != nil {
		return Day{}, err
	}
	after := Day{Day: day, Working: working, Name: builtin()[d].name, Source: Override, Note: note}
	_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "calendar_day.set", Entity: "calendar_day", EntityID: day,
		Change: map[string]any{"before": before, "after": after}})
	return after, err
}

// ClearDay removes the override of day, so the built-in data apply again.
func ClearDay(ctx context.Context, tx *store.Tx, p auth.Principal, day string) error {
	d, err := checkDay(p, day, "")
	if err != nil {
		return err
	}
	before, err := stored(ctx, tx, d)
	if err != nil {
		return err
	}
	if before == nil {
		return errs.E(errs.NotFound, "calendar_day_not_found", "该日没有调整记录")
	}
	store.Changed(tx, "calendar_days")
	if _, err := store.Exec(ctx, tx, `DELETE FROM calendar_days WHERE day = ?`, day); err != nil {
		return err
	}
	_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "calendar_day.clear", Entity: "calendar_day", EntityID: day,
		Change: map[string]any{"before": before}})
	return err
}

// stored returns the override of d, or nil.
func stored(ctx context.Context, q store.Querier, d date) (*Day, error) {
	var row struct {
		Working bool   `db:"working"`
		Note    string `db:"note"`
	}
	err := store.Get(ctx, q, &row, `SELECT working, note FROM calendar_days WHERE day = ?`, d.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Day{Day: d.String(), Working: row.Working, Name: builtin()[d].name, Source: Override, Note: row.Note}, nil
}

// Service serves the calendar to the API.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Load returns the calendar with the overrides as they are now.
func (s *Service) Load(ctx context.Context) (*Calendar, error) { return Load(ctx, s.db.Reader()) }

// Year lists the year's departures from the Monday-to-Friday week and its
// overrides (see Calendar.Year).
func (s *Service) Year(ctx context.Context, year int) ([]Day, error) {
	if year < 2000 || year > 2099 {
		return nil, errs.Field("year", "date_range", "年份须在 2000 至 2099 之间")
	}
	c, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	return c.Year(year), nil
}

// SetDay runs SetDay in its own transaction.
func (s *Service) SetDay(ctx context.Context, p auth.Principal, day string, working bool, note string) (Day, error) {
	var out Day
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = SetDay(ctx, tx, p, day, working, note)
		return err
	})
	return out, err
}

// ClearDay runs ClearDay in its own transaction.
func (s *Service) ClearDay(ctx context.Context, p auth.Principal, day string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error { return ClearDay(ctx, tx, p, day) })
}
