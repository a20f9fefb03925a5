package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/catalog"
	"wufei/internal/errs"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// A signed manifest is never edited in place. A party that finds an error
// asks for a revision; every other party (consignor and receiver, less the
// author) approves or refuses it; the last approval applies it, as a step of
// its own. One refusal ends the request. One request may be pending at a time.

// LineChange corrects one line. Only the fields given change.
type LineChange struct {
	LineNo    int      `json:"line_no" minimum:"1"`
	WasteCode *string  `json:"waste_code,omitempty" pattern:"^[0-9]{3}-[0-9]{3}-[0-9]{2}$"`
	QuantityT *float64 `json:"quantity_t,omitempty" exclusiveMinimum:"0"`
	ReceivedT *float64 `json:"received_t,omitempty" minimum:"0"`
	AcceptedT *float64 `json:"accepted_t,omitempty" minimum:"0"`
	RefusedT  *float64 `json:"refused_t,omitempty" minimum:"0"`
	Method    *string  `json:"method,omitempty" maxLength:"4"`
}

// Changes is what a revision asks for: line corrections, or cancellation
// (only before the receiver has received the waste).
type Changes struct {
	Lines  []LineChange `json:"lines,omitempty" maxItems:"50"`
	Cancel bool         `json:"cancel,omitempty" doc:"申请作废（接收前）"`
}

// Approval is one party's decision on a revision.
type Approval struct {
	UnitID    string     `db:"unit_id" json:"unit_id"`
	Status    string     `db:"status" json:"status" enum:"pending,approved,refused"`
	Comment   string     `db:"comment" json:"comment"`
	DecidedAt *time.Time `db:"decided_at" json:"decided_at,omitempty"`
}

// Revision is a correction request.
type Revision struct {
	ID           string     `db:"id" json:"id"`
	ManifestID   string     `db:"manifest_id" json:"manifest_id"`
	AuthorUnitID string     `db:"author_unit_id" json:"author_unit_id"`
	AuthorUserID string     `db:"author_user_id" json:"author_user_id"`
	Reason       string     `db:"reason" json:"reason"`
	Changes      Changes    `db:"-" json:"changes"`
	Status       string     `db:"status" json:"status" enum:"pending,approved,refused"`
	Approvals    []Approval `db:"-" json:"approvals"`
	CreatedAt    time.Time  `db:"created_at" json:"created_at"`
	DecidedAt    *time.Time `db:"decided_at" json:"decided_at,omitempty"`
	ChangesText  string     `db:"changes" json:"-"`
}

// RequestRevision asks the other parties to approve a correction.
func (s *Service) RequestRevision(ctx context.Context, p auth.Principal, id, reason string, c Changes) (Revision, error) {
	var r Revision
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		m, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !isParty(p, m, Consignor) && !isParty(p, m, Receiver) && !isParty(p, m, Carrier) {
			return errs.E(errs.Forbidden, "not_the_party", "只有联单的各方可以申请更正")
		}
		switch m.Status {
		case Draft:
			return errs.E(errs.Conflict, "invalid_transition", "草稿可直接修改，无需申请更正")
		case Cancelled:
			return errs.E(errs.Conflict, "invalid_transition", "已作废的联单不能更正")
		}
		if c.Cancel && m.Status != Submitted && m.Status != InTransit {
			return errs.Field("changes.cancel", "cancel_after_receipt", "接收后不能作废")
		}
		if strings.TrimSpace(reason) == "" {
			return errs.Field("reason", "required", "须说明更正原因")
		}
		if !c.Cancel && len(c.Lines) == 0 {
			return errs.Field("changes", "required", "须提出至少一项更正")
		}
		if _, err := applyChanges(ctx, tx, m, c, false); err != nil {
			return err
		}
		var pending int
		if err := store.Get(ctx, tx, &pending, `SELECT count(*) FROM manifest_revisions WHERE manifest_id = ? AND status = 'pending'`, id); err != nil {
			return err
		}
		if pending > 0 {
			return errs.E(errs.Conflict, "revision_pending", "该联单已有待审批的更正申请")
		}
		b, _ := json.Marshal(c)
		r = Revision{ID: uuid.Must(uuid.NewV7()).String(), ManifestID: id, AuthorUnitID: p.UnitID, AuthorUserID: p.UserID,
			Reason: strings.TrimSpace(reason), Changes: c, Status: "pending", CreatedAt: tx.Now, ChangesText: string(b)}
		if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_revisions (id, manifest_id, author_unit_id, author_user_id, reason,
			changes, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
			r.ID, id, r.AuthorUnitID, r.AuthorUserID, r.Reason, r.ChangesText, r.CreatedAt); err != nil {
			return err
		}
		for _, u := range []string{m.ConsignorUnitID, m.ReceiverUnitID} {
			if u == p.UnitID || slices.ContainsFunc(r.Approvals, func(a Approval) bool { return a.UnitID == u }) {
				continue
			}
			if _, err := store.Exec(ctx, tx, `INSERT INTO manifest_revision_approvals (revision_id, unit_id, status) VALUES (?, ?, 'pending')`,
				r.ID, u); err != nil {
				return err
			}
			r.Approvals = append(r.Approvals, Approval{UnitID: u, Status: "pending"})
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "manifest.revision.request", Entity: "manifest",
			EntityID: id, UnitID: p.UnitID, RegionCode: m.RegionCode, Change: r})
		return err
	})
	return r, err
}

// DecideRevision records the caller's unit's approval or refusal. The last
// approval applies the changes as a "revise" step.
func (s *Service) DecideRevision(ctx context.Context, p auth.Principal, id, revisionID string, approve bool, comment string) (Revision, error) {
	var r Revision
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		m, err := s.load(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if r, err = loadRevision(ctx, tx, id, revisionID); err != nil {
			return err
		}
		if r.Status != "pending" {
			return errs.E(errs.Conflict, "revision_decided", "该更正申请已处理")
		}
		i := slices.IndexFunc(r.Approvals, func(a Approval) bool { return a.UnitID == p.UnitID })
		if i < 0 || !actsFor(p) || p.Role == auth.Driver {
			return errs.E(errs.Forbidden, "not_an_approver", "本单位不是该更正申请的审批方")
		}
		if r.Approvals[i].Status != "pending" {
			return errs.E(errs.Conflict, "revision_decided", "本单位已审批")
		}
		decision := map[bool]string{true: "approved", false: "refused"}[approve]
		r.Approvals[i].Status, r.Approvals[i].Comment, r.Approvals[i].DecidedAt = decision, strings.TrimSpace(comment), &tx.Now
		if _, err := store.Exec(ctx, tx, `UPDATE manifest_revision_approvals SET status = ?, comment = ?, decided_at = ?
			WHERE revision_id = ? AND unit_id = ?`, decision, r.Approvals[i].Comment, tx.Now, revisionID, p.UnitID); err != nil {
			return err
		}
		done := !approve || !slices.ContainsFunc(r.Approvals, func(a Approval) bool { return a.Status == "pending" })
		if done {
			r.Status, r.DecidedAt = decision, &tx.Now
			if _, err := store.Exec(ctx, tx, `UPDATE manifest_revisions SET status = ?, decided_at = ? WHERE id = ?`,
				decision, tx.Now, revisionID); err != nil {
				return err
			}
		}
		if _, err := audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "manifest.revision." + decision, Entity: "manifest",
			EntityID: id, UnitID: p.UnitID, RegionCode: m.RegionCode,
			Change: map[string]string{"revision_id": revisionID, "comment": r.Approvals[i].Comment}}); err != nil {
			return err
		}
		if !done || !approve {
			return nil
		}
		after, err := applyChanges(ctx, tx, m, r.Changes, true)
		if err != nil {
			return err
		}
		if r.Changes.Cancel {
			if err := release(ctx, tx, m.Lines, func(l Line) int64 { return l.QuantityG }); err != nil {
				return err
			}
		}
		if err := addUsage(ctx, tx, m, after); err != nil {
			return err
		}
		moved(ctx, tx, m, after)
		after.UpdatedAt, after.Version = tx.Now, m.Version+1
		n, err := store.Exec(ctx, tx, `UPDATE manifests SET status = ?, closed_at = ?, updated_at = ?, version = ?
			WHERE id = ? AND version = ?`, string(after.Status), after.ClosedAt, after.UpdatedAt, after.Version, id, m.Version)
		if err != nil {
			return err
		}
		if n != 1 {
			return conflict()
		}
		return step(ctx, tx, p, &after, "revise", map[string]any{"revision_id": revisionID, "before": m.Lines, "after": after.Lines})
	})
	return r, err
}

// applyChanges checks the changes against m and, when write is set, writes
// the corrected lines; it returns m as corrected.
func applyChanges(ctx context.Context, tx *store.Tx, m Manifest, c Changes, write bool) (Manifest, error) {
	after := m
	after.Lines = slices.Clone(m.Lines)
	var v errs.Validation
	var licences []licence
	for i, lc := range c.Lines {
		f := fmt.Sprintf("changes.lines[%d]", i)
		if lc.LineNo < 1 || lc.LineNo > len(after.Lines) {
			v.Add(f+".line_no", "line_unknown", "行号不存在")
			continue
		}
		l := &after.Lines[lc.LineNo-1]
		if lc.WasteCode != nil {
			wc, err := catalog.GetWasteCode(ctx, tx, *lc.WasteCode)
			if err != nil {
				if errs.KindOf(err) == errs.Internal {
					return after, err
				}
				v.Add(f+".waste_code", "waste_code_unknown", "名录中没有该废物代码")
			} else {
				l.WasteCode, l.Category, l.OfficialName = wc.Code, wc.Category, wc.Description
			}
		}
		grams := func(name string, t *float64, dst **int64) {
			if t == nil {
				return
			}
			g, err := qty.Grams(f+"."+name, *t)
			if err != nil {
				v.Add(f+"."+name, "quantity_range", "数量无效")
				return
			}
			*dst = &g
		}
		if lc.QuantityT != nil {
			var q *int64
			grams("quantity_t", lc.QuantityT, &q)
			if q != nil {
				l.QuantityG = *q
			}
		}
		grams("received_t", lc.ReceivedT, &l.ReceivedG)
		grams("accepted_t", lc.AcceptedT, &l.AcceptedG)
		grams("refused_t", lc.RefusedT, &l.RefusedG)
		if (lc.ReceivedT != nil || lc.AcceptedT != nil || lc.RefusedT != nil) &&
			(l.ReceivedG == nil || l.AcceptedG == nil || l.RefusedG == nil || *l.AcceptedG+*l.RefusedG != *l.ReceivedG) {
			v.Add(f+".received_t", "quantities_mismatch", "接受量与拒收量之和须等于实收量")
		}
		if lc.Method != nil {
			if licences == nil {
				var err error
				if licences, err = receiverLicences(ctx, tx, m.ReceiverUnitID, tx.Now); err != nil {
					return after, err
				}
			}
			method := strings.ToUpper(*lc.Method)
			if !covers(licences, l.WasteCode, method) {
				v.Add(f+".method", "method_not_licensed", "接受单位的许可证不允许该方式")
			}
			l.Method = method
		}
	}
	if err := v.Err(); err != nil {
		return after, err
	}
	if c.Cancel {
		after.Status, after.ClosedAt = Cancelled, &tx.Now
	}
	after.finish()
	if !write {
		return after, nil
	}
	for _, l := range after.Lines {
		if _, err := store.Exec(ctx, tx, `UPDATE manifest_lines SET waste_code = ?, category = ?, official_name = ?, quantity_g = ?,
			received_g = ?, accepted_g = ?, refused_g = ?, method = ? WHERE manifest_id = ? AND line_no = ?`,
			l.WasteCode, l.Category, l.OfficialName, l.QuantityG, l.ReceivedG, l.AcceptedG, l.RefusedG, l.Method,
			m.ID, l.LineNo); err != nil {
			return after, err
		}
	}
	return after, nil
}

func loadRevision(ctx context.Context, q store.Querier, manifestID, id string) (Revision, error) {
	var r Revision
	err := store.Get(ctx, q, &r, `SELECT id, manifest_id, author_unit_id, author_user_id, reason, changes, status, created_at,
		decided_at FROM manifest_revisions WHERE id = ? AND manifest_id = ?`, id, manifestID)
	if errors.Is(err, store.ErrNotFound) {
		return r, errs.E(errs.NotFound, "revision_not_found", "更正申请不存在")
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(r.ChangesText), &r.Changes); err != nil {
		return r, err
	}
	err = store.Select(ctx, q, &r.Approvals, `SELECT unit_id, status, comment, decided_at FROM manifest_revision_approvals
		WHERE revision_id = ? ORDER BY unit_id`, id)
	return r, err
}

// Revisions lists a manifest's correction requests.
func (s *Service) Revisions(ctx context.Context, p auth.Principal, id string) ([]Revision, error) {
	q := s.db.Reader()
	if _, err := s.load(ctx, q, p, id); err != nil {
		return nil, err
	}
	var ids []string
	if err := store.Select(ctx, q, &ids, `SELECT id FROM manifest_revisions WHERE manifest_id = ? ORDER BY created_at`, id); err != nil {
		return nil, err
	}
	out := []Revision{}
	for _, rid := range ids {
		r, err := loadRevision(ctx, q, id, rid)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
