package sheet

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/exchange"
	"wufei/internal/store"
)

// The Service is the kind's Excel exchange as well.
var _ exchange.Kind = (*Service)(nil)

// Name is the kind's name.
func (s *Service) Name() string { return s.Spec.Name }

// Title is the sheet's Chinese title.
func (s *Service) Title() string { return s.Spec.Title }

// Columns are the kind's fields; a region column offers Huaibei's counties
// and parks as "code name", a township column the townships.
func (s *Service) Columns(ctx context.Context) ([]exchange.Column, error) {
	rf, err := loadRefs(ctx, s.db.Reader())
	if err != nil {
		return nil, err
	}
	codes := slices.Sorted(func(yield func(string) bool) {
		for c := range rf.regions {
			if !yield(c) {
				return
			}
		}
	})
	out := make([]exchange.Column, len(s.Spec.Fields))
	for i, f := range s.Spec.Fields {
		c := exchange.Column{Key: f.Key, Header: f.Header, Required: f.Required, Choices: f.Choices, Example: f.Example,
			Note: f.Note}
		for _, code := range codes {
			switch x := rf.regions[code]; {
			case f.Type == Region && rf.recordRegion(code):
				c.Choices = append(c.Choices, code+" "+x.Name)
			case f.Type == Township && x.Level == "township" && !slices.Contains(c.Choices, x.Name):
				c.Choices = append(c.Choices, x.Name)
			}
		}
		switch {
		case f.Type == Tonnes && c.Note == "":
			c.Note = "吨，最多 3 位小数"
		case f.Type == Regions && c.Note == "":
			c.Note = "县区代码，多个以“,”分隔"
		}
		out[i] = c
	}
	return out, nil
}

// cells writes a record as a workbook row, in Fields order, a region as
// "code name".
func (s *Spec) cells(rf *refs, r *Record) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Cell(r.V[f.Key])
		if x, ok := rf.regions[out[i]]; ok && f.Type == Region {
			out[i] += " " + x.Name
		}
	}
	return out
}

// Import validates every row and applies them all in one transaction, or
// none when any is bad. A row whose key is stored with the same values
// changes nothing and writes no audit entry.
func (s *Service) Import(ctx context.Context, p auth.Principal, rows iter.Seq2[exchange.Row, error]) (exchange.Result, []exchange.RowError, error) {
	res := exchange.Result{Kind: s.Spec.Name}
	var bad []exchange.RowError
	errAbort := errors.New("rows refused")
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		rf, err := loadRefs(ctx, tx)
		if err != nil {
			return err
		}
		seen := map[string]int{} // key → row that had it
		for row, err := range rows {
			if err != nil {
				return err
			}
			res.Rows++
			in := Input{}
			for i, f := range s.Spec.Fields {
				if i < len(row.Cells) {
					in[f.Key] = row.Cells[i]
				}
			}
			r, err := s.build(ctx, tx, p, rf, in)
			if err != nil {
				if e := s.rowErrors(row.Num, err); e != nil {
					bad = append(bad, e...)
					continue
				}
				return err
			}
			cond, args := s.Spec.keyArgs(r)
			key := cond + "\x00" + fmt.Sprint(args...)
			if first, ok := seen[key]; ok {
				bad = append(bad, exchange.RowError{Row: row.Num, Code: "duplicate_key",
					Reason: "与第 " + strconv.Itoa(first) + " 行重复（" + s.Spec.keyText(r) + "）"})
				continue
			}
			seen[key] = row.Num
			if len(bad) > 0 {
				continue // the transaction will not commit: only check the rest
			}
			old, err := s.byKey(ctx, tx, r)
			switch {
			case err != nil:
				return err
			case old == nil:
				if err := s.insert(ctx, tx, p, r); err != nil {
					return err
				}
				res.Inserted++
			case s.Spec.same(r, old):
				res.Unchanged++
			default:
				ok, err := s.mayWrite(ctx, tx, p, rf, old)
				if err != nil {
					return err
				}
				if !ok {
					bad = append(bad, exchange.RowError{Row: row.Num, Code: "stream_forbidden", Reason: "无权修改已有记录（" +
						s.Spec.keyText(r) + "）"})
					continue
				}
				r.ID, r.CreatedAt = old.ID, old.CreatedAt
				if err := s.update(ctx, tx, p, old, r); err != nil {
					return err
				}
				res.Updated++
			}
		}
		if len(bad) > 0 {
			return errAbort
		}
		return nil
	})
	if errors.Is(err, errAbort) {
		return exchange.Result{Kind: s.Spec.Name, Rows: res.Rows}, bad, nil
	}
	if err != nil {
		return exchange.Result{Kind: s.Spec.Name}, nil, err
	}
	return res, nil, nil
}

// rowErrors turns a refused row into its errors, or nil when err is not
// the row's fault.
func (s *Service) rowErrors(num int, err error) []exchange.RowError {
	var e *errs.Error
	if !errors.As(err, &e) || (e.Kind != errs.Invalid && e.Kind != errs.Forbidden && e.Kind != errs.Conflict) {
		return nil
	}
	if len(e.Fields) == 0 {
		return []exchange.RowError{{Row: num, Code: e.Code, Reason: e.Message}}
	}
	out := make([]exchange.RowError, len(e.Fields))
	for i, fe := range e.Fields {
		f, _ := s.Spec.Field(fe.Field)
		out[i] = exchange.RowError{Row: num, Column: fe.Field, Header: f.Header, Code: fe.Code, Reason: fe.Message}
	}
	return out
}

// Export emits the records of a year that p may see, in the columns of the
// template, oldest first, one row at a time.
func (s *Service) Export(ctx context.Context, p auth.Principal, year int, emit func(cells []string) error) error {
	q := s.db.Reader()
	rf, err := loadRefs(ctx, q)
	if err != nil {
		return err
	}
	where, args := s.where(p, Filter{Year: year})
	store.Statements.Add(1)
	rows, err := q.QueryxContext(ctx, q.Rebind(s.Spec.selectSQL()+" WHERE "+where+" ORDER BY t.id"), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := s.Spec.scan(rows)
		if err != nil {
			return err
		}
		if err := emit(s.Spec.cells(rf, r)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Rows lists records as the list page shows them: the page's records and
// each one's cells (a region by its name), newest first.
func (s *Service) Rows(ctx context.Context, p auth.Principal, f Filter) ([]*Record, [][]string, string, error) {
	pg, err := s.List(ctx, p, f)
	if err != nil {
		return nil, nil, "", err
	}
	rf, err := loadRefs(ctx, s.db.Reader())
	if err != nil {
		return nil, nil, "", err
	}
	cells := make([][]string, len(pg.Items))
	for i, r := range pg.Items {
		cells[i] = s.Spec.cells(rf, r)
		for j, f := range s.Spec.Fields {
			if f.Type == Region {
				cells[i][j] = strings.TrimPrefix(cells[i][j], r.RegionCode+" ")
			}
		}
	}
	return pg.Items, cells, pg.Next, nil
}
