package registry

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"wufei/internal/paging"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// NewLicence is what recording a licence takes.
type NewLicence struct {
	UnitID    string         `json:"unit_id"`
	Number    string         `json:"number" minLength:"1" maxLength:"60" doc:"许可证编号"`
	Kinds     []LicenceKind  `json:"kinds" minItems:"1" enum:"collect,store,utilise,dispose"`
	Issuer    string         `json:"issuer,omitempty" maxLength:"100" doc:"发证机关"`
	CapacityT float64        `json:"capacity_t" doc:"年经营规模（吨）"`
	ValidFrom time.Time      `json:"valid_from"`
	ValidTo   time.Time      `json:"valid_to"`
	Scopes    []LicenceScope `json:"scopes" minItems:"1" maxItems:"2000"`
}

// LicencePatch changes a licence; corrections keep their history in the
// audit log.
type LicencePatch struct {
	Version   int64          `json:"version" minimum:"1"`
	Kinds     []LicenceKind  `json:"kinds,omitempty" enum:"collect,store,utilise,dispose"`
	Issuer    *string        `json:"issuer,omitempty" maxLength:"100"`
	CapacityT *float64       `json:"capacity_t,omitempty"`
	ValidFrom *time.Time     `json:"valid_from,omitempty"`
	ValidTo   *time.Time     `json:"valid_to,omitempty"`
	Status    *string        `json:"status,omitempty" enum:"valid,suspended,revoked,expired"`
	Scopes    []LicenceScope `json:"scopes,omitempty" maxItems:"2000"`
}

// LicenceFilter narrows a licence list.
type LicenceFilter struct {
	UnitID    string
	WasteCode string // covering this code (its category or the code itself)
	Method    string // by this method (with WasteCode: in the same scope line)
	Limit     int
	After     string
}

var (
	categoryRe = regexp.MustCompile(`^HW[0-9]{2}$`)
	codeRe     = regexp.MustCompile(`^[0-9]{3}-[0-9]{3}-[0-9]{2}$`)
)

func (s *Service) validateLicence(ctx context.Context, q store.Querier, l *Licence) error {
	var v errs.Validation
	l.Number = strings.TrimSpace(l.Number)
	if l.Number == "" {
		v.Add("number", "required", "许可证编号必填")
	}
	if len(l.Kinds) == 0 {
		v.Add("kinds", "required", "至少选择一种经营方式")
	}
	for i, k := range l.Kinds {
		if !slices.Contains(LicenceKinds, k) {
			v.Add("kinds["+itoa(i)+"]", "kind_unknown", "未知经营方式: "+string(k))
		}
	}
	slices.Sort(l.Kinds)
	l.Kinds = slices.Compact(l.Kinds)
	if l.CapacityG <= 0 {
		v.Add("capacity_t", "capacity_positive", "年经营规模须大于 0")
	}
	if !l.ValidTo.After(l.ValidFrom) {
		v.Add("valid_to", "validity_order", "有效期截止日须晚于起始日")
	}
	methods, categories, err := s.catalogueSets(ctx, q)
	if err != nil {
		return err
	}
	// A collection-and-storage licence names categories without a method.
	treats := slices.Contains(l.Kinds, Utilise) || slices.Contains(l.Kinds, Dispose)
	seen := map[LicenceScope]bool{}
	for i, sc := range l.Scopes {
		f := "scopes[" + itoa(i) + "]"
		switch {
		case !categoryRe.MatchString(sc.Category) || !categories[sc.Category]:
			v.Add(f+".category", "category_unknown", "危险废物类别不存在: "+sc.Category)
		case sc.WasteCode != "" && !codeRe.MatchString(sc.WasteCode):
			v.Add(f+".waste_code", "waste_code_format", "废物代码格式应为 ddd-ddd-dd")
		case sc.WasteCode != "" && "HW"+sc.WasteCode[8:] != sc.Category:
			v.Add(f+".waste_code", "waste_code_category", "废物代码末两位与类别不符")
		}
		switch {
		case sc.Method == "" && treats:
			v.Add(f+".method", "method_required", "利用、处置许可须写明利用处置方式")
		case sc.Method != "" && !methods[sc.Method]:
			v.Add(f+".method", "method_unknown", "利用处置方式代码不存在: "+sc.Method)
		}
		if seen[sc] {
			v.Add(f, "scope_duplicate", "经营范围重复")
		}
		seen[sc] = true
	}
	return v.Err()
}

// catalogueSets reads the method and category codes a licence may name.
func (s *Service) catalogueSets(ctx context.Context, q store.Querier) (methods, categories map[string]bool, err error) {
	var ms, cs []string
	if err := store.Select(ctx, q, &ms, `SELECT code FROM methods`); err != nil {
		return nil, nil, err
	}
	if err := store.Select(ctx, q, &cs, `SELECT code FROM hw_categories`); err != nil {
		return nil, nil, err
	}
	methods, categories = map[string]bool{}, map[string]bool{}
	for _, m := range ms {
		methods[m] = true
	}
	for _, c := range cs {
		categories[c] = true
	}
	return methods, categories, nil
}

// CreateLicence records a licence for a collector, utiliser or disposer.
func (s *Service) CreateLicence(ctx context.Context, p auth.Principal, in NewLicence) (Licence, error) {
	g, err := qty.Grams("capacity_t", in.CapacityT)
	if err != nil {
		return Licence{}, err
	}
	l := Licence{ID: uuid.Must(uuid.NewV7()).String(), UnitID: in.UnitID, Number: in.Number, Kinds: slices.Clone(in.Kinds),
		Issuer: in.Issuer, CapacityG: g, ValidFrom: in.ValidFrom.UTC(), ValidTo: in.ValidTo.UTC(), Status: "valid",
		Scopes: slices.Clone(in.Scopes), Version: 1}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		u, err := s.getUnit(ctx, tx, p, in.UnitID)
		if err != nil {
			return err
		}
		if !canManage(p, u) {
			return errs.E(errs.Forbidden, "forbidden", "许可证由监管部门登记")
		}
		if !u.HasRole(Collector) && !u.HasRole(Utiliser) && !u.HasRole(Disposer) {
			return errs.Field("unit_id", "unit_not_receiver", "只有收集、利用或处置单位持有经营许可证")
		}
		if err := s.validateLicence(ctx, tx, &l); err != nil {
			return err
		}
		l.CreatedAt, l.UpdatedAt = tx.Now, tx.Now
		_, err = store.Exec(ctx, tx, `INSERT INTO licences (id, unit_id, number, kinds, issuer, capacity_g, valid_from,
			valid_to, status, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			l.ID, l.UnitID, l.Number, joinKinds(l.Kinds), l.Issuer, l.CapacityG, l.ValidFrom, l.ValidTo, l.Status,
			l.CreatedAt, l.UpdatedAt)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("number", "licence_number_taken", "许可证编号已登记")
		}
		if err != nil {
			return err
		}
		if err := writeScopes(ctx, tx, l.ID, l.Scopes); err != nil {
			return err
		}
		l.finish()
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "licence.create", Entity: "licence", EntityID: l.ID,
			UnitID: u.ID, RegionCode: u.RegionCode, Change: l})
		return err
	})
	return l, err
}

func writeScopes(ctx context.Context, tx *store.Tx, id string, scopes []LicenceScope) error {
	if _, err := store.Exec(ctx, tx, `DELETE FROM licence_scopes WHERE licence_id = ?`, id); err != nil {
		return err
	}
	for _, sc := range scopes {
		if _, err := store.Exec(ctx, tx, `INSERT INTO licence_scopes (licence_id, category, waste_code, method) VALUES (?, ?, ?, ?)`,
			id, sc.Category, sc.WasteCode, sc.Method); err != nil {
			return err
		}
	}
	return nil
}

func joinKinds(ks []LicenceKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// finish fills the API fields derived from stored ones.
func (l *Licence) finish() {
	if l.KindsText == "" {
		l.KindsText = joinKinds(l.Kinds)
	} else {
		l.Kinds = nil
		for k := range strings.SplitSeq(l.KindsText, ",") {
			l.Kinds = append(l.Kinds, LicenceKind(k))
		}
	}
	l.CapacityT = qty.Tonnes(l.CapacityG)
	if l.Scopes == nil {
		l.Scopes = []LicenceScope{}
	}
}

const licenceColumns = `l.id, l.unit_id, l.number, l.kinds, l.issuer, l.capacity_g, l.valid_from, l.valid_to, l.status,
	l.created_at, l.updated_at, l.version`

// ListLicences lists licences of units the principal may see.
func (s *Service) ListLicences(ctx context.Context, p auth.Principal, f LicenceFilter) (Page[Licence], error) {
	cond, args := unitScope(p)
	where := []string{cond}
	if f.UnitID != "" {
		where = append(where, "l.unit_id = ?")
		args = append(args, f.UnitID)
	}
	if f.WasteCode != "" || f.Method != "" {
		covers := `EXISTS (SELECT 1 FROM licence_scopes ls WHERE ls.licence_id = l.id`
		if f.WasteCode != "" {
			if !codeRe.MatchString(f.WasteCode) {
				return Page[Licence]{}, errs.Field("waste_code", "waste_code_format", "废物代码格式应为 ddd-ddd-dd")
			}
			covers += ` AND ls.category = ? AND (ls.waste_code = '' OR ls.waste_code = ?)`
			args = append(args, "HW"+f.WasteCode[8:], f.WasteCode)
		}
		if f.Method != "" {
			covers += ` AND ls.method = ?`
			args = append(args, f.Method)
		}
		where = append(where, covers+`)`)
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return Page[Licence]{}, err
	}
	if after != "" {
		where = append(where, "l.id > ?")
		args = append(args, after)
	}
	var items []Licence
	if err := store.Select(ctx, s.db.Reader(), &items, `SELECT `+licenceColumns+` FROM licences l JOIN units u ON u.id = l.unit_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY l.id LIMIT `+itoa(limit+1), args...); err != nil {
		return Page[Licence]{}, err
	}
	page := paging.Of(items, limit, func(l Licence) string { return l.ID })
	return page, loadScopes(ctx, s.db.Reader(), page.Items)
}

func loadScopes(ctx context.Context, q store.Querier, ls []Licence) error {
	if len(ls) == 0 {
		return nil
	}
	ids := make([]string, len(ls))
	at := map[string]int{}
	for i := range ls {
		ids[i] = ls[i].ID
		at[ls[i].ID] = i
		ls[i].finish()
	}
	query, args, err := store.In(`SELECT licence_id, category, waste_code, method FROM licence_scopes WHERE licence_id IN (?)
		ORDER BY licence_id, category, waste_code, method`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		LicenceID string `db:"licence_id"`
		LicenceScope
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		i := at[r.LicenceID]
		ls[i].Scopes = append(ls[i].Scopes, r.LicenceScope)
	}
	return nil
}

// GetLicence returns a licence of a unit the principal may see.
func (s *Service) GetLicence(ctx context.Context, p auth.Principal, id string) (Licence, error) {
	return s.getLicence(ctx, s.db.Reader(), p, id)
}

func (s *Service) getLicence(ctx context.Context, q store.Querier, p auth.Principal, id string) (Licence, error) {
	cond, args := unitScope(p)
	var l Licence
	err := store.Get(ctx, q, &l, `SELECT `+licenceColumns+` FROM licences l JOIN units u ON u.id = l.unit_id
		WHERE l.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return l, errs.E(errs.NotFound, "licence_not_found", "许可证不存在或无权查看")
	}
	if err != nil {
		return l, err
	}
	ls := []Licence{l}
	err = loadScopes(ctx, q, ls)
	return ls[0], err
}

// UpdateLicence corrects or changes the status of a licence.
func (s *Service) UpdateLicence(ctx context.Context, p auth.Principal, id string, in LicencePatch) (Licence, error) {
	var l Licence
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := s.getLicence(ctx, tx, p, id)
		if err != nil {
			return err
		}
		u, err := s.owner(ctx, tx, p, before.UnitID, canManage, in.Version, before.Version, "许可证")
		if err != nil {
			return err
		}
		l = before
		l.Scopes = slices.Clone(before.Scopes)
		if in.Kinds != nil {
			l.Kinds = slices.Clone(in.Kinds)
		}
		if in.Scopes != nil {
			l.Scopes = slices.Clone(in.Scopes)
		}
		set(&l.Issuer, in.Issuer)
		set(&l.Status, in.Status)
		if in.ValidFrom != nil {
			l.ValidFrom = in.ValidFrom.UTC()
		}
		if in.ValidTo != nil {
			l.ValidTo = in.ValidTo.UTC()
		}
		if in.CapacityT != nil {
			if l.CapacityG, err = qty.Grams("capacity_t", *in.CapacityT); err != nil {
				return err
			}
		}
		if err := s.validateLicence(ctx, tx, &l); err != nil {
			return err
		}
		l.KindsText = joinKinds(l.Kinds)
		l.UpdatedAt, l.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE licences SET kinds = ?, issuer = ?, capacity_g = ?, valid_from = ?, valid_to = ?,
			status = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			l.KindsText, l.Issuer, l.CapacityG, l.ValidFrom, l.ValidTo, l.Status, l.UpdatedAt, l.Version, id, before.Version)
		if err != nil {
			return err
		}
		if in.Scopes != nil && n == 1 {
			if err := writeScopes(ctx, tx, id, l.Scopes); err != nil {
				return err
			}
		}
		l.finish()
		return updated(ctx, tx, p, n, "licence", "许可证", id, u, before, l)
	})
	return l, err
}
