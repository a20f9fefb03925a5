package approval

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"wufei/internal/paging"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/registry"
	"wufei/internal/store"
)

var codeRe = regexp.MustCompile(`^[0-9]{3}-[0-9]{3}-[0-9]{2}$`)

const approvalColumns = `t.id, t.number, t.from_province, t.to_province, t.consignor_unit_id, t.receiver_unit_id, t.method,
	t.issuer, t.valid_from, t.valid_to, t.status, t.raised_cap, t.region_code, t.note, t.created_at, t.updated_at, t.version`

// Create records an approval decision. Only admins and the regulators of
// either party may; the checks are those of validate.
func (s *Service) Create(ctx context.Context, p auth.Principal, in NewTransferApproval) (TransferApproval, error) {
	if !mayRecord(p) {
		return TransferApproval{}, forbidden()
	}
	a := TransferApproval{ID: uuid.Must(uuid.NewV7()).String(), Number: strings.TrimSpace(in.Number), ConsignorID: in.ConsignorID,
		ReceiverID: in.ReceiverID, Method: strings.ToUpper(strings.TrimSpace(in.Method)), Issuer: strings.TrimSpace(in.Issuer),
		ValidFrom: in.ValidFrom, ValidTo: in.ValidTo, Status: Valid, RaisedCap: in.RaisedCap,
		Note: strings.TrimSpace(in.Note), Version: 1}
	items, err := newItems(in.Items)
	if err != nil {
		return TransferApproval{}, err
	}
	a.Items = items
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		c, r, err := parties(ctx, tx, a.ConsignorID, a.ReceiverID)
		if err != nil {
			return err
		}
		if !canManage(p, c, r) {
			return forbidden()
		}
		rules, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		if err := validate(ctx, tx, rules, &a, c, r, true); err != nil {
			return err
		}
		a.RegionCode = local(c, r).RegionCode
		a.CreatedAt, a.UpdatedAt = tx.Now, tx.Now
		_, err = store.Exec(ctx, tx, `INSERT INTO approvals (id, number, from_province, to_province, consignor_unit_id,
			receiver_unit_id, method, issuer, valid_from, valid_to, status, raised_cap, region_code, note, created_at,
			updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			a.ID, a.Number, a.FromProvince, a.ToProvince, a.ConsignorID, a.ReceiverID, a.Method, a.Issuer, a.ValidFrom,
			a.ValidTo, a.Status, a.RaisedCap, a.RegionCode, a.Note, a.CreatedAt, a.UpdatedAt)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("number", "approval_number_taken", "该审批文号已登记")
		}
		if err != nil {
			return err
		}
		for _, it := range a.Items {
			if _, err := store.Exec(ctx, tx, `INSERT INTO approval_items (approval_id, waste_code, category, quantity_g, used_g)
				VALUES (?, ?, ?, ?, 0)`, a.ID, it.WasteCode, it.Category, it.QuantityG); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "approval.create", Entity: "approval", EntityID: a.ID,
			UnitID: local(c, r).ID, RegionCode: a.RegionCode, Change: a})
		return err
	})
	return a, err
}

// newItems converts the input lines to items in grams, checking quantities;
// codes are checked against the catalogue in validate.
func newItems(in []NewApprovalItem) ([]ApprovalItem, error) {
	var v errs.Validation
	items := make([]ApprovalItem, len(in))
	for i, it := range in {
		f := "items[" + strconv.Itoa(i) + "]"
		code := strings.TrimSpace(it.WasteCode)
		items[i].WasteCode = code
		if codeRe.MatchString(code) {
			items[i].Category = "HW" + code[8:]
		}
		g, err := qty.Grams(f+".quantity_t", it.QuantityT)
		switch {
		case err != nil:
			var e *errs.Error
			errors.As(err, &e)
			v.Add(e.Fields[0].Field, e.Fields[0].Code, e.Fields[0].Message)
		case g == 0:
			v.Add(f+".quantity_t", "quantity_positive", "批准数量须大于 0")
		}
		items[i].QuantityG = g
		items[i].finish()
	}
	return items, v.Err()
}

// validate checks an approval against the catalogue, its validity limits,
// the receiver's licence and the inbound rules, and sets its provinces.
// Field checks come first; the licence and inbound checks run only on input
// that passed them. full is false for changes that move nothing the rules
// look at (a status, a note), so an approval can always be suspended.
func validate(ctx context.Context, q store.Querier, rules Rules, a *TransferApproval, c, r party, full bool) error {
	var v errs.Validation
	a.FromProvince, a.ToProvince = c.province(), r.province()
	if a.Number == "" {
		v.Add("number", "required", "审批文号必填")
	}
	if !full {
		return v.Err()
	}
	var known int
	if err := store.Get(ctx, q, &known, `SELECT count(*) FROM methods WHERE code = ?`, a.Method); err != nil {
		return err
	}
	if known == 0 {
		v.Add("method", "method_unknown", "利用处置方式代码不存在: "+a.Method)
	}
	from, okFrom := parseDay(&v, "valid_from", a.ValidFrom)
	_, okTo := parseDay(&v, "valid_to", a.ValidTo)
	if okFrom && okTo {
		switch {
		case a.ValidTo < a.ValidFrom:
			v.Add("valid_to", "validity_order", "有效期止不能早于有效期起")
		case rules.MaxMonths > 0 && a.ValidTo > lastDay(from, rules.MaxMonths):
			v.Add("valid_to", "validity_too_long", fmt.Sprintf("审批有效期不得超过 %d 个月（至 %s）", rules.MaxMonths,
				lastDay(from, rules.MaxMonths)))
		}
	}
	if err := checkCodes(ctx, q, &v, "items", itemCodes(a.Items)); err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	lic, err := receiverLicences(ctx, q, r.ID)
	if err != nil {
		return err
	}
	// The receiver's licence registered here bounds the approval: each code
	// must be covered with the method on the first day, and the approval may
	// not outlast the licence that covers it.
	capacity, covering := int64(0), map[string]bool{}
	if len(lic) > 0 {
		last := ""
		for i, it := range a.Items {
			best := ""
			for _, l := range lic {
				// inForce compares Beijing days; Covers, given the licence's
				// own first day, is left to compare the scope.
				if l.inForce(a.ValidFrom) && l.Covers(it.WasteCode, a.Method, l.ValidFrom) {
					best = max(best, Day(l.ValidTo))
					if !covering[l.ID] {
						covering[l.ID], capacity = true, capacity+l.CapacityG
					}
				}
			}
			if best == "" {
				v.Add("items["+strconv.Itoa(i)+"].waste_code", "licence_not_covering",
					"接受人的经营许可证在有效期起日不覆盖该废物代码及利用处置方式 "+a.Method)
				continue
			}
			if last == "" || best < last {
				last = best
			}
		}
		if last != "" && a.ValidTo > last {
			v.Add("valid_to", "validity_beyond_licence", "审批有效期不得超过接受人经营许可证有效期（至 "+last+"）")
		}
	}
	if a.ToProvince == rules.InboundProvince {
		if slices.Contains(rules.InboundRefusedMethods, a.Method) {
			v.Add("method", "inbound_method_refused", "本省不接受省外危险废物以焚烧、填埋、物理化学处理等方式处置: "+a.Method)
		}
		if pct := rules.capPercent(a.RaisedCap); pct > 0 {
			switch {
			case len(lic) == 0:
				v.Add("receiver_unit_id", "receiver_licence_missing", "接受人在本平台无经营许可证，无法核定省外转入上限")
			case capacity > 0:
				if err := checkInboundCap(ctx, q, &v, a, capacity, pct); err != nil {
					return err
				}
			}
		}
	}
	return v.Err()
}

// checkInboundCap adds the quantities of every inbound approval to the
// receiver whose validity overlaps this one's, and compares the total with
// the share of the licensed capacity.
func checkInboundCap(ctx context.Context, q store.Querier, v *errs.Validation, a *TransferApproval, capacity int64, pct float64) error {
	var others []int64
	if err := store.Select(ctx, q, &others, `SELECT i.quantity_g FROM approvals t JOIN approval_items i ON i.approval_id = t.id
		WHERE t.receiver_unit_id = ? AND t.to_province = ? AND t.from_province <> t.to_province AND t.id <> ?
		AND t.status IN ('valid', 'suspended') AND t.valid_from <= ? AND t.valid_to >= ?`,
		a.ReceiverID, a.ToProvince, a.ID, a.ValidTo, a.ValidFrom); err != nil {
		return err
	}
	total := int64(0)
	for _, g := range others {
		total += g
	}
	for _, it := range a.Items {
		total += it.QuantityG
	}
	limit := int64(pct * float64(capacity) / 100)
	if total > limit {
		v.Add("items", "inbound_cap_exceeded", fmt.Sprintf("省外转入总量 %s 吨超过接受人许可能力的 %g%%（%s 吨）",
			fmtTonnes(total), pct, fmtTonnes(limit)))
	}
	return nil
}

func fmtTonnes(g int64) string { return strconv.FormatFloat(tonnes(g), 'f', -1, 64) }

func itemCodes(items []ApprovalItem) []string {
	codes := make([]string, len(items))
	for i, it := range items {
		codes[i] = it.WasteCode
	}
	return codes
}

// checkCodes checks waste codes against the catalogue and for repeats;
// field is the list's name ("items" → items[i].waste_code, "waste_codes" →
// waste_codes[i]).
func checkCodes(ctx context.Context, q store.Querier, v *errs.Validation, field string, codes []string) error {
	name := func(i int) string {
		if field == "items" {
			return "items[" + strconv.Itoa(i) + "].waste_code"
		}
		return field + "[" + strconv.Itoa(i) + "]"
	}
	var valid []string
	for _, c := range codes {
		if codeRe.MatchString(c) {
			valid = append(valid, c)
		}
	}
	known := map[string]bool{}
	if len(valid) > 0 {
		query, args, err := store.In(`SELECT code FROM waste_codes WHERE code IN (?)`, valid)
		if err != nil {
			return err
		}
		var rows []string
		if err := store.Select(ctx, q, &rows, query, args...); err != nil {
			return err
		}
		for _, c := range rows {
			known[c] = true
		}
	}
	seen := map[string]bool{}
	for i, c := range codes {
		switch {
		case !codeRe.MatchString(c):
			v.Add(name(i), "waste_code_format", "废物代码格式应为 ddd-ddd-dd")
		case !known[c]:
			v.Add(name(i), "waste_code_unknown", "名录中没有该废物代码: "+c)
		case seen[c]:
			v.Add(name(i), "waste_code_duplicate", "废物代码重复: "+c)
		}
		seen[c] = true
	}
	return nil
}

// licence is a receiver's licence with its scopes.
type licence struct{ registry.Licence }

// inForce reports whether the licence is valid on day (YYYY-MM-DD), taking
// its validity as Beijing calendar days.
func (l licence) inForce(day string) bool {
	return l.Status == "valid" && Day(l.ValidFrom) <= day && day <= Day(l.ValidTo)
}

func receiverLicences(ctx context.Context, q store.Querier, unitID string) ([]licence, error) {
	var ls []licence
	if err := store.Select(ctx, q, &ls, `SELECT id, unit_id, capacity_g, valid_from, valid_to, status FROM licences
		WHERE unit_id = ? ORDER BY id`, unitID); err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, nil
	}
	var scopes []struct {
		LicenceID string `db:"licence_id"`
		registry.LicenceScope
	}
	if err := store.Select(ctx, q, &scopes, `SELECT s.licence_id, s.category, s.waste_code, s.method FROM licence_scopes s
		JOIN licences l ON l.id = s.licence_id WHERE l.unit_id = ?`, unitID); err != nil {
		return nil, err
	}
	at := map[string]int{}
	for i := range ls {
		at[ls[i].ID] = i
	}
	for _, sc := range scopes {
		ls[at[sc.LicenceID]].Scopes = append(ls[at[sc.LicenceID]].Scopes, sc.LicenceScope)
	}
	return ls, nil
}

// Get returns an approval the principal may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (TransferApproval, error) {
	return get(ctx, s.db.Reader(), p, id)
}

func get(ctx context.Context, q store.Querier, p auth.Principal, id string) (TransferApproval, error) {
	cond, args := scope(p)
	var a TransferApproval
	err := store.Get(ctx, q, &a, `SELECT `+approvalColumns+` FROM approvals t WHERE t.id = ? AND `+cond,
		append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return a, errs.E(errs.NotFound, "approval_not_found", "跨省转移审批不存在或无权查看")
	}
	if err != nil {
		return a, err
	}
	as := []TransferApproval{a}
	err = loadItems(ctx, q, as)
	return as[0], err
}

func loadItems(ctx context.Context, q store.Querier, as []TransferApproval) error {
	if len(as) == 0 {
		return nil
	}
	ids := make([]string, len(as))
	at := map[string]int{}
	for i := range as {
		ids[i], at[as[i].ID] = as[i].ID, i
		as[i].Items = []ApprovalItem{}
	}
	query, args, err := store.In(`SELECT approval_id, waste_code, category, quantity_g, used_g FROM approval_items
		WHERE approval_id IN (?) ORDER BY approval_id, waste_code`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		ApprovalID string `db:"approval_id"`
		ApprovalItem
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		r.ApprovalItem.finish()
		i := at[r.ApprovalID]
		as[i].Items = append(as[i].Items, r.ApprovalItem)
	}
	return nil
}

// filterWhere turns a filter into conditions over alias t; codes is the
// table of codes and its key column ("approval_items", "approval_id").
func filterWhere(p auth.Principal, f Filter, codes, key string) ([]string, []any, int, error) {
	cond, args := scope(p)
	where := []string{cond}
	for _, c := range []struct{ col, v string }{{"t.consignor_unit_id", f.ConsignorID},
		{"t.receiver_unit_id", f.ReceiverID}, {"t.status", f.Status}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.WasteCode != "" {
		if !codeRe.MatchString(f.WasteCode) {
			return nil, nil, 0, errs.Field("waste_code", "waste_code_format", "废物代码格式应为 ddd-ddd-dd")
		}
		where = append(where, `EXISTS (SELECT 1 FROM `+codes+` c WHERE c.`+key+` = t.id AND c.waste_code = ?)`)
		args = append(args, f.WasteCode)
	}
	if f.ValidOn != "" {
		var v errs.Validation
		if _, ok := parseDay(&v, "valid_on", f.ValidOn); !ok {
			return nil, nil, 0, v.Err()
		}
		where = append(where, "t.valid_from <= ? AND t.valid_to >= ?")
		args = append(args, f.ValidOn, f.ValidOn)
	}
	limit, after, err := paging.Args(f.Limit, f.After)
	if err != nil {
		return nil, nil, 0, err
	}
	if after != "" {
		where = append(where, "t.id > ?")
		args = append(args, after)
	}
	return where, args, limit, nil
}

// List returns the approvals the principal may see, filtered, in order of
// creation, a page at a time.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) (paging.Page[TransferApproval], error) {
	where, args, limit, err := filterWhere(p, f, "approval_items", "approval_id")
	if err != nil {
		return paging.Page[TransferApproval]{}, err
	}
	var as []TransferApproval
	if err := store.Select(ctx, s.db.Reader(), &as, `SELECT `+approvalColumns+` FROM approvals t WHERE `+
		strings.Join(where, " AND ")+` ORDER BY t.id LIMIT `+strconv.Itoa(limit+1), args...); err != nil {
		return paging.Page[TransferApproval]{}, err
	}
	page := paging.Of(as, limit, func(a TransferApproval) string { return a.ID })
	return page, loadItems(ctx, s.db.Reader(), page.Items)
}

// transitions are the status changes allowed; revoked and expired are final.
var transitions = map[string][]string{Valid: {Suspended, Revoked, Expired}, Suspended: {Valid, Revoked, Expired}}

func checkStatus(before, after string) error {
	if before == after {
		return nil
	}
	if !slices.Contains(Statuses, after) {
		return errs.Field("status", "status_unknown", "未知状态: "+after)
	}
	if !slices.Contains(transitions[before], after) {
		return errs.E(errs.Conflict, "status_transition", "不能从 "+before+" 变更为 "+after)
	}
	return nil
}

// Update corrects an approval or changes its status, at the version read.
// A change to the validity, method, items or cap flag, or a return to
// valid, is checked again in full.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, in TransferApprovalPatch) (TransferApproval, error) {
	var a TransferApproval
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := get(ctx, tx, p, id)
		if err != nil {
			return err
		}
		// A party changed in the registry since (a role, a region) need not
		// block a status change, only a change the rules look at.
		c, r, partyErr := parties(ctx, tx, before.ConsignorID, before.ReceiverID)
		if partyErr != nil && errs.KindOf(partyErr) != errs.Invalid {
			return partyErr
		}
		if !canManage(p, c, r) {
			return errs.E(errs.Forbidden, "forbidden", "无权变更该跨省转移审批")
		}
		if before.Version != in.Version {
			return conflict("该审批")
		}
		if before.Status == Revoked || before.Status == Expired {
			return errs.E(errs.Conflict, "approval_closed", "审批已撤销或已过期，不能再变更")
		}
		a = before
		a.Items = slices.Clone(before.Items)
		set(&a.Number, trimmed(in.Number))
		set(&a.Issuer, trimmed(in.Issuer))
		set(&a.Note, trimmed(in.Note))
		set(&a.Status, in.Status)
		if in.Method != nil {
			a.Method = strings.ToUpper(strings.TrimSpace(*in.Method))
		}
		set(&a.ValidFrom, in.ValidFrom)
		set(&a.ValidTo, in.ValidTo)
		set(&a.RaisedCap, in.RaisedCap)
		if err := checkStatus(before.Status, a.Status); err != nil {
			return err
		}
		if in.Items != nil {
			if a.Items, err = replaceItems(before.Items, in.Items); err != nil {
				return err
			}
		}
		full := a.Method != before.Method || a.ValidFrom != before.ValidFrom || a.ValidTo != before.ValidTo ||
			a.RaisedCap != before.RaisedCap || in.Items != nil || (a.Status == Valid && before.Status != Valid)
		if full && partyErr != nil {
			return partyErr
		}
		rules, err := LoadRules(ctx, tx)
		if err != nil {
			return err
		}
		if err := validate(ctx, tx, rules, &a, c, r, full); err != nil {
			return err
		}
		a.FromProvince, a.ToProvince = before.FromProvince, before.ToProvince
		a.UpdatedAt, a.Version = tx.Now, before.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE approvals SET number = ?, method = ?, issuer = ?, valid_from = ?, valid_to = ?,
			status = ?, raised_cap = ?, note = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			a.Number, a.Method, a.Issuer, a.ValidFrom, a.ValidTo, a.Status, a.RaisedCap, a.Note, a.UpdatedAt, a.Version,
			id, before.Version)
		if errors.Is(err, store.ErrExists) {
			return errs.Field("number", "approval_number_taken", "该审批文号已登记")
		}
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict("该审批")
		}
		if in.Items != nil {
			if err := writeItems(ctx, tx, id, before.Items, a.Items); err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "approval.update", Entity: "approval", EntityID: id,
			UnitID: local(c, r).ID, RegionCode: a.RegionCode, Change: map[string]any{"before": before, "after": a}})
		return err
	})
	return a, err
}

// replaceItems builds the new item list, keeping what was used of each code
// that stays; a code drawn on may not be dropped or capped below its use.
func replaceItems(before []ApprovalItem, in []NewApprovalItem) ([]ApprovalItem, error) {
	if len(in) == 0 {
		return nil, errs.Field("items", "required", "至少保留一个废物代码")
	}
	items, err := newItems(in)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	used := map[string]int64{}
	for _, it := range before {
		used[it.WasteCode] = it.UsedG
	}
	for i := range items {
		items[i].UsedG = used[items[i].WasteCode]
		if items[i].QuantityG < items[i].UsedG {
			v.Add("items["+strconv.Itoa(i)+"].quantity_t", "quantity_below_used",
				"批准数量不能低于已使用的 "+fmtTonnes(items[i].UsedG)+" 吨")
		}
		delete(used, items[i].WasteCode)
	}
	for code, g := range used {
		if g > 0 {
			v.Add("items", "item_in_use", "已有联单使用的废物代码不能删除: "+code)
		}
	}
	for i := range items {
		items[i].finish()
	}
	return items, v.Err()
}

// writeItems stores the new item list. Each statement is conditioned on the
// used quantity so that a manifest drawing on the approval at the same time
// cannot be lost: if it moved, the update is a conflict.
func writeItems(ctx context.Context, tx *store.Tx, id string, before, after []ApprovalItem) error {
	kept := map[string]bool{}
	for _, it := range after {
		kept[it.WasteCode] = true
	}
	for _, it := range before {
		if kept[it.WasteCode] {
			continue
		}
		n, err := store.Exec(ctx, tx, `DELETE FROM approval_items WHERE approval_id = ? AND waste_code = ? AND used_g = 0`,
			id, it.WasteCode)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict("该审批的使用量")
		}
	}
	had := map[string]bool{}
	for _, it := range before {
		had[it.WasteCode] = true
	}
	for _, it := range after {
		var n int64
		var err error
		if had[it.WasteCode] {
			n, err = store.Exec(ctx, tx, `UPDATE approval_items SET quantity_g = ? WHERE approval_id = ? AND waste_code = ?
				AND used_g <= ?`, it.QuantityG, id, it.WasteCode, it.QuantityG)
		} else {
			n, err = store.Exec(ctx, tx, `INSERT INTO approval_items (approval_id, waste_code, category, quantity_g, used_g)
				VALUES (?, ?, ?, ?, 0)`, id, it.WasteCode, it.Category, it.QuantityG)
		}
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict("该审批的使用量")
		}
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	return &t
}
