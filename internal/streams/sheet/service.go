package sheet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/paging"
	"wufei/internal/store"
)

// CityCode is Huaibei's region code.
const CityCode = auth.CityCode

// InCity is a LIKE pattern for the region codes of the city's counties,
// parks and townships.
const InCity = auth.CityPrefix + "%"

// Service keeps the records of one kind.
type Service struct {
	db   *store.DB
	Spec *Spec
}

// New returns the service of a kind.
func New(db *store.DB, spec *Spec) *Service { return &Service{db: db, Spec: spec} }

// Scope returns the SQL condition (over alias t) limiting rows to those p
// may read: everything for admins and city-wide regulators; a region's
// regulators and viewers the rows of their county or park, of the parks in
// their county, and of the units in their park; a unit's accounts their
// unit's rows; anyone else nothing.
func Scope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return InRegion(p.RegionCode)
	case p.Role.BoundToUnit() && p.UnitID != "":
		return "t.unit_id = ?", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// InRegion is the condition (over alias t) for the rows of a county or
// park: its own, its parks' and its park units'.
func InRegion(code string) (string, []any) {
	return `(t.region_code = ? OR t.region_code IN (SELECT code FROM regions WHERE parent_code = ?)
		OR t.unit_id IN (SELECT id FROM units WHERE park_code = ?))`, []any{code, code, code}
}

// refs are the reference rows records are checked against: Huaibei's
// regions (a few hundred rows, read once per use case) and the units named.
type refs struct {
	regions map[string]region
	units   map[string]unitRef // by id and by USCC
}

type region struct {
	Code   string `db:"code"`
	Name   string `db:"name"`
	Level  string `db:"level"`
	Parent string `db:"parent_code"`
}

type unitRef struct {
	ID     string `db:"id"`
	USCC   string `db:"uscc"`
	Name   string `db:"name"`
	Region string `db:"region_code"`
	Park   string `db:"park_code"`
}

func loadRefs(ctx context.Context, q store.Querier) (*refs, error) {
	var rs []region
	if err := store.Select(ctx, q, &rs, `SELECT code, name, level, COALESCE(parent_code, '') AS parent_code FROM regions
		WHERE code LIKE ? ORDER BY code`, InCity); err != nil {
		return nil, err
	}
	r := &refs{regions: make(map[string]region, len(rs)), units: map[string]unitRef{}}
	for _, x := range rs {
		r.regions[x.Code] = x
	}
	return r, nil
}

// recordRegion reports whether a record may carry code: the city, a county
// or a park.
func (r *refs) recordRegion(code string) bool {
	x := r.regions[code]
	return x.Level == "city" || x.Level == "county" || x.Level == "park"
}

// county is the county a region lies in: itself, or a park's county.
func (r *refs) county(code string) string {
	if x := r.regions[code]; x.Level == "park" && x.Parent != CityCode {
		return x.Parent
	}
	return code
}

// within reports whether region code is of, or lies in it.
func (r *refs) within(code, of string) bool { return code == of || r.regions[code].Parent == of }

// unit finds a unit by id or USCC.
func (r *refs) unit(ctx context.Context, q store.Querier, col, v string) (unitRef, bool, error) {
	if u, ok := r.units[v]; ok {
		return u, true, nil
	}
	var u unitRef
	err := store.Get(ctx, q, &u, `SELECT id, uscc, name, region_code, COALESCE(park_code, '') AS park_code FROM units
		WHERE `+col+` = ?`, v)
	if errors.Is(err, store.ErrNotFound) {
		return u, false, nil
	}
	if err != nil {
		return u, false, err
	}
	r.units[u.ID], r.units[u.USCC] = u, u
	return u, true, nil
}

// mayWrite reports whether p may keep record r: admins and city-wide
// regulators; regulators whose region holds it; and, for kinds units keep
// themselves, the admin and members of its unit.
func (s *Service) mayWrite(ctx context.Context, q store.Querier, p auth.Principal, rf *refs, r *Record) (bool, error) {
	switch {
	case p.Role == auth.Admin || (p.Role == auth.Regulator && p.SeesAllRegions()):
		return true, nil
	case p.Role == auth.Regulator:
		if rf.within(r.RegionCode, p.RegionCode) || r.UnitID == "" {
			return rf.within(r.RegionCode, p.RegionCode), nil
		}
		u, _, err := rf.unit(ctx, q, "id", r.UnitID)
		return u.Park == p.RegionCode, err
	case p.Role == auth.UnitAdmin || p.Role == auth.UnitMember:
		return s.Spec.UnitWrites && r.UnitID != "" && r.UnitID == p.UnitID, nil
	}
	return false, nil
}

// forbidden is the error of a write p may not make.
func (s *Service) forbidden(verb string) error {
	msg := "无权" + verb + "该" + s.Spec.Title + "记录"
	if s.Spec.Lead != "" {
		msg += "（由" + s.Spec.Lead + "或所在地监管部门填报）"
	}
	return errs.E(errs.Forbidden, "stream_forbidden", msg)
}

// selectSQL reads records with the name and USCC of their unit.
func (s *Spec) selectSQL() string {
	var b strings.Builder
	b.WriteString(`SELECT t.id, t.unit_id, COALESCE(u.name, '') AS unit_name, COALESCE(u.uscc, '') AS unit_uscc,
		t.region_code, t.year, t.month, t.version, t.created_at, t.updated_at`)
	for _, f := range s.columns() {
		b.WriteString(", t." + f.Col())
	}
	b.WriteString(" FROM " + s.Table + " t LEFT JOIN units u ON u.id = t.unit_id")
	return b.String()
}

// scanner reads rows of selectSQL.
type scanner interface{ Scan(...any) error }

func (s *Spec) scan(rows scanner) (*Record, error) {
	r := &Record{V: map[string]any{}}
	var uscc string
	var year, month int64
	dest := []any{&r.ID, &r.UnitID, &r.UnitName, &uscc, &r.RegionCode, &year, &month, &r.Version, &r.CreatedAt, &r.UpdatedAt}
	cols := s.columns()
	vals := make([]any, len(cols))
	for i, f := range cols {
		switch {
		case f.Whole():
			vals[i] = new(int64)
		case f.Type == Decimal:
			vals[i] = new(float64)
		default:
			vals[i] = new(string)
		}
	}
	if err := rows.Scan(append(dest, vals...)...); err != nil {
		return nil, err
	}
	r.Year, r.Month = int(year), int(month)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	for i, f := range cols {
		switch x := vals[i].(type) {
		case *int64:
			r.V[f.Key] = *x
		case *float64:
			r.V[f.Key] = *x
		case *string:
			r.V[f.Key] = *x
		}
	}
	for _, f := range s.Fields {
		switch f.Type {
		case Region:
			r.V[f.Key] = r.RegionCode
		case Unit:
			r.V[f.Key] = uscc
		case Year:
			r.V[f.Key] = year
		case MonthNum:
			r.V[f.Key] = month
		case Month:
			r.V[f.Key] = fmt.Sprintf("%04d-%02d", year, month)
		}
	}
	return r, nil
}

// query runs selectSQL with a condition and returns the records.
func (s *Service) query(ctx context.Context, q store.Querier, where string, args ...any) ([]*Record, error) {
	store.Statements.Add(1)
	rows, err := q.QueryxContext(ctx, q.Rebind(s.Spec.selectSQL()+" WHERE "+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := s.Spec.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if s.Spec.Derive != nil && len(out) > 0 {
		err = s.Spec.Derive(ctx, q, out)
	}
	return out, err
}

// Get returns a record p may see; any other id is not found.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Record, error) {
	return s.get(ctx, s.db.Reader(), p, id)
}

func (s *Service) get(ctx context.Context, q store.Querier, p auth.Principal, id string) (Record, error) {
	cond, args := Scope(p)
	rs, err := s.query(ctx, q, "t.id = ? AND "+cond, append([]any{id}, args...)...)
	if err != nil {
		return Record{}, err
	}
	if len(rs) == 0 {
		return Record{}, errs.E(errs.NotFound, "record_not_found", s.Spec.Title+"记录不存在或无权查看")
	}
	return *rs[0], nil
}

// Filter narrows a list.
type Filter struct {
	Region string // a county, district or park: its rows, its parks' and its park units'
	Year   int    // for standing kinds, the records that stand in that year
	UnitID string
	Limit  int
	After  string // cursor
}

// where is the condition of a list or an export.
func (s *Service) where(p auth.Principal, f Filter) (string, []any) {
	cond, args := Scope(p)
	where := []string{cond}
	if f.Region != "" && f.Region != CityCode {
		c, a := InRegion(f.Region)
		where, args = append(where, c), append(args, a...)
	}
	if f.Year != 0 {
		if s.Spec.Standing {
			where = append(where, "t.year <= ?")
		} else {
			where = append(where, "t.year = ?")
		}
		args = append(args, f.Year)
	}
	if f.UnitID != "" {
		where, args = append(where, "t.unit_id = ?"), append(args, f.UnitID)
	}
	return strings.Join(where, " AND "), args
}

// List lists the records p may see, newest first, a page at a time.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) (paging.Page[*Record], error) {
	where, args := s.where(p, f)
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return paging.Page[*Record]{}, err
	}
	if after != "" {
		where, args = where+" AND t.id < ?", append(args, after)
	}
	rs, err := s.query(ctx, s.db.Reader(), where+fmt.Sprintf(" ORDER BY t.id DESC LIMIT %d", limit+1), args...)
	if err != nil {
		return paging.Page[*Record]{}, err
	}
	return paging.Of(rs, limit, func(r *Record) string { return r.ID }), nil
}

// build parses and checks input as a record p would write: it resolves the
// unit and region, checks them against the reference data, applies the
// kind's own rules and decides whether p may keep the record.
func (s *Service) build(ctx context.Context, q store.Querier, p auth.Principal, rf *refs, in Input) (*Record, error) {
	var v errs.Validation
	sp := s.Spec
	uf, hasUnit := sp.fieldOf(Unit, Link)
	if hasUnit && uf.Type == Unit && strings.TrimSpace(in[uf.Key]) == "" && p.Role.BoundToUnit() && p.UnitID != "" {
		// A unit's own account files for its unit unless it names one.
		u, _, err := rf.unit(ctx, q, "id", p.UnitID)
		if err != nil {
			return nil, err
		}
		in = maps.Clone(in)
		in[uf.Key] = u.USCC
	}
	r := &Record{V: sp.parse(in, &v)}
	var unit unitRef
	if uscc := r.Str(uf.Key); hasUnit && uscc != "" {
		u, ok, err := rf.unit(ctx, q, "uscc", uscc)
		switch {
		case err != nil:
			return nil, err
		case ok:
			unit, r.UnitID, r.UnitName, r.RegionCode = u, u.ID, u.Name, u.Region
		case uf.Type == Unit:
			v.Add(uf.Key, "unit_unknown", "平台上没有统一社会信用代码为 "+clip(uscc)+" 的单位")
		}
	}
	for _, f := range sp.Fields {
		switch code := r.Str(f.Key); {
		case f.Type == Region && code != "":
			r.RegionCode = code
			switch {
			case !rf.recordRegion(code):
				v.Add(f.Key, "region_unknown", "地区代码须为淮北市的县区或园区: "+clip(code))
			case uf.Type == Unit && unit.ID != "" && unit.Region != code && unit.Park != code:
				v.Add(f.Key, "unit_region", "单位“"+unit.Name+"”不在该县区或园区")
			}
		case f.Type == Region:
			r.RegionCode = ""
		case f.Type == Regions:
			for c := range strings.SplitSeq(code, ",") {
				if x, ok := rf.regions[c]; c != "" && (!ok || x.Level != "county") {
					v.Add(f.Key, "region_unknown", "应为本市县区代码: "+clip(c))
				}
			}
		}
	}
	for _, f := range sp.Fields {
		name, county := r.Str(f.Key), rf.county(r.RegionCode)
		if f.Type == Township && name != "" && rf.recordRegion(r.RegionCode) && !rf.township(county, name) {
			v.Add(f.Key, "township_unknown", "“"+clip(name)+"”不是"+rf.regions[county].Name+"的乡镇（街道）")
		}
	}
	sp.period(r)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if sp.Check != nil {
		if err := sp.Check(ctx, q, r, &v); err != nil {
			return nil, err
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
	}
	ok, err := s.mayWrite(ctx, q, p, rf, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.forbidden("填报")
	}
	return r, nil
}

// township reports whether a county has a township of that name.
func (r *refs) township(county, name string) bool {
	for _, x := range r.regions {
		if x.Level == "township" && x.Parent == county && x.Name == name {
			return true
		}
	}
	return false
}

// keyArgs is the condition and arguments matching r's key.
func (s *Spec) keyArgs(r *Record) (string, []any) {
	var where []string
	var args []any
	for _, k := range s.Key {
		f, _ := s.Field(k)
		switch f.Type {
		case Region:
			where, args = append(where, "t.region_code = ?"), append(args, r.RegionCode)
		case Unit:
			where, args = append(where, "t.unit_id = ?"), append(args, r.UnitID)
		case Month:
			where, args = append(where, "t.year = ? AND t.month = ?"), append(args, r.Year, r.Month)
		default:
			where, args = append(where, "t."+f.Col()+" = ?"), append(args, r.V[k])
		}
	}
	return strings.Join(where, " AND "), args
}

// byKey returns the stored record with r's key, or nil.
func (s *Service) byKey(ctx context.Context, q store.Querier, r *Record) (*Record, error) {
	cond, args := s.Spec.keyArgs(r)
	rs, err := s.query(ctx, q, cond, args...)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return rs[0], nil
}

// keyText names a record's key for messages.
func (s *Spec) keyText(r *Record) string {
	var parts []string
	for _, k := range s.Key {
		f, _ := s.Field(k)
		parts = append(parts, f.Header+" "+f.Cell(r.V[k]))
	}
	return strings.Join(parts, "，")
}

// Create records a new record; a record with the same key is a conflict.
func (s *Service) Create(ctx context.Context, p auth.Principal, in Input) (Record, error) {
	var out Record
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		rf, err := loadRefs(ctx, tx)
		if err != nil {
			return err
		}
		r, err := s.build(ctx, tx, p, rf, in)
		if err != nil {
			return err
		}
		old, err := s.byKey(ctx, tx, r)
		if err != nil {
			return err
		}
		if old != nil {
			return errs.E(errs.Conflict, "record_exists", "已有该记录（"+s.Spec.keyText(r)+"），请修改原记录")
		}
		if err := s.insert(ctx, tx, p, r); err != nil {
			return err
		}
		out = *r
		return nil
	})
	return out, err
}

// Update changes the fields a patch names (the others keep their values),
// given the version the caller read. A patch that changes nothing writes
// nothing.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, version int64, patch Input) (Record, error) {
	var out Record
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := s.get(ctx, tx, p, id)
		if err != nil {
			return err
		}
		rf, err := loadRefs(ctx, tx)
		if err != nil {
			return err
		}
		if ok, err := s.mayWrite(ctx, tx, p, rf, &old); err != nil || !ok {
			if err == nil {
				err = s.forbidden("修改")
			}
			return err
		}
		if old.Version != version {
			return errs.E(errs.Conflict, "version_conflict", "记录已被他人修改，请刷新后重试")
		}
		in := s.Spec.Input(&old)
		maps.Copy(in, patch)
		r, err := s.build(ctx, tx, p, rf, in)
		if err != nil {
			return err
		}
		other, err := s.byKey(ctx, tx, r)
		if err != nil {
			return err
		}
		if other != nil && other.ID != id {
			return errs.E(errs.Conflict, "record_exists", "已有该记录（"+s.Spec.keyText(r)+"）")
		}
		if s.Spec.same(r, &old) {
			out = old
			return nil
		}
		r.ID, r.Version, r.CreatedAt = id, old.Version, old.CreatedAt
		if err := s.update(ctx, tx, p, &old, r); err != nil {
			return err
		}
		out = *r
		return nil
	})
	return out, err
}

// change is a record as its audit entry keeps it: the cells by key.
func (s *Spec) change(r *Record) map[string]string {
	m := map[string]string{"region_code": r.RegionCode}
	for _, f := range s.Fields {
		m[f.Key] = f.Cell(r.V[f.Key])
	}
	return m
}

// insert writes a new record and its audit entry.
func (s *Service) insert(ctx context.Context, tx *store.Tx, p auth.Principal, r *Record) error {
	sp := s.Spec
	r.ID, r.Version, r.CreatedAt, r.UpdatedAt = uuid.Must(uuid.NewV7()).String(), 1, tx.Now, tx.Now
	if _, err := audit.Append(ctx, tx, p.Actor(), audit.Record{Action: sp.Name + ".create", Entity: sp.Entity(),
		EntityID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode, Change: map[string]any{"record": sp.change(r)}}); err != nil {
		return err
	}
	cols := []string{"id", "unit_id", "region_code", "year", "month", "version", "created_at", "updated_at"}
	args := []any{r.ID, r.UnitID, r.RegionCode, r.Year, r.Month, r.Version, r.CreatedAt, r.UpdatedAt}
	for _, f := range sp.columns() {
		cols = append(cols, f.Col())
		args = append(args, r.V[f.Key])
	}
	_, err := store.Exec(ctx, tx, `INSERT INTO `+sp.Table+` (`+strings.Join(cols, ", ")+`) VALUES (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`)`, args...)
	if errors.Is(err, store.ErrExists) {
		return errs.E(errs.Conflict, "record_exists", "已有该记录（"+sp.keyText(r)+"）")
	}
	return err
}

// update writes r over old (same id) with its audit entry, checking that
// nobody changed it meanwhile.
func (s *Service) update(ctx context.Context, tx *store.Tx, p auth.Principal, old, r *Record) error {
	sp := s.Spec
	r.UpdatedAt = tx.Now
	if _, err := audit.Append(ctx, tx, p.Actor(), audit.Record{Action: sp.Name + ".update", Entity: sp.Entity(),
		EntityID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode,
		Change: map[string]any{"before": sp.change(old), "after": sp.change(r)}}); err != nil {
		return err
	}
	sets := []string{"unit_id = ?", "region_code = ?", "year = ?", "month = ?", "version = version + 1", "updated_at = ?"}
	args := []any{r.UnitID, r.RegionCode, r.Year, r.Month, r.UpdatedAt}
	for _, f := range sp.columns() {
		sets = append(sets, f.Col()+" = ?")
		args = append(args, r.V[f.Key])
	}
	n, err := store.Exec(ctx, tx, `UPDATE `+sp.Table+` SET `+strings.Join(sets, ", ")+` WHERE id = ? AND version = ?`,
		append(args, r.ID, old.Version)...)
	switch {
	case errors.Is(err, store.ErrExists):
		return errs.E(errs.Conflict, "record_exists", "已有该记录（"+sp.keyText(r)+"）")
	case err != nil:
		return err
	case n != 1:
		return errs.E(errs.Conflict, "version_conflict", "记录已被他人修改，请刷新后重试")
	}
	r.Version = old.Version + 1
	return nil
}

// same reports whether a parsed record holds what a stored one does.
func (s *Spec) same(a, b *Record) bool {
	if a.UnitID != b.UnitID || a.RegionCode != b.RegionCode || a.Year != b.Year || a.Month != b.Month {
		return false
	}
	for _, f := range s.Fields {
		if f.Cell(a.V[f.Key]) != f.Cell(b.V[f.Key]) {
			return false
		}
	}
	return true
}

// All returns the services of kinds.
func All(db *store.DB, specs []*Spec) []*Service {
	out := make([]*Service, len(specs))
	for i, s := range specs {
		out[i] = New(db, s)
	}
	return out
}

// Adopt gives r the region and unit of the record it belongs to — the
// first row of table matching cond (a site month its site's, a month of
// medical waste its institution's) — and reports whether there is one.
func Adopt(ctx context.Context, q store.Querier, r *Record, table, cond string, args ...any) (bool, error) {
	var parent []struct {
		Region string `db:"region_code"`
		Unit   string `db:"unit_id"`
	}
	if err := store.Select(ctx, q, &parent, `SELECT region_code, unit_id FROM `+table+` WHERE `+cond, args...); err != nil ||
		len(parent) == 0 {
		return false, err
	}
	r.RegionCode, r.UnitID = parent[0].Region, parent[0].Unit
	return true, nil
}
