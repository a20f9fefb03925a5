// Package alerts records what the platform's rules find — a weight
// discrepancy, a receipt past its deadline, waste stored too long — for the
// parties concerned and the regulators of the region, who acknowledge and
// close them. A rule raises its alert in the transaction that creates its
// cause, so the two commit together.
package alerts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Severity grades an alert.
type Severity string

const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Alert is one finding.
type Alert struct {
	ID         string     `db:"id" json:"id"`
	Kind       string     `db:"kind" json:"kind" doc:"规则，如 weight_discrepancy、receipt_overdue"`
	Severity   Severity   `db:"severity" json:"severity" enum:"info,warning,critical"`
	Title      string     `db:"title" json:"title"`
	Detail     string     `db:"detail" json:"detail"`
	Subject    string     `db:"subject" json:"subject" doc:"对象类型，如 manifest"`
	SubjectID  string     `db:"subject_id" json:"subject_id"`
	SubjectRef string     `db:"subject_ref" json:"subject_ref" doc:"对象编号，如联单号"`
	RegionCode string     `db:"region_code" json:"region_code"`
	UnitIDs    []string   `db:"-" json:"unit_ids" doc:"相关单位"`
	DueAt      *time.Time `db:"due_at" json:"due_at,omitempty"`
	Status     string     `db:"status" json:"status" enum:"open,acknowledged,closed"`
	Note       string     `db:"note" json:"note"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at" json:"updated_at"`
	Version    int64      `db:"version" json:"version"`
	DedupKey   string     `db:"dedup_key" json:"-"`
}

// Raise records an alert inside tx. While an alert of the same kind about the
// same subject is still open, raising it again returns the open one: a rule
// that runs every hour does not pile up copies.
func Raise(ctx context.Context, tx *store.Tx, a Alert) (Alert, error) {
	if a.Kind == "" || a.Subject == "" || a.SubjectID == "" {
		return a, errors.New("alerts: kind, subject and subject id are required")
	}
	if a.Severity == "" {
		a.Severity = Warning
	}
	a.DedupKey = a.Kind + "|" + a.Subject + "|" + a.SubjectID
	if open, err := openAlert(ctx, tx, a.DedupKey); err == nil || !errors.Is(err, store.ErrNotFound) {
		return open, err
	}
	a.ID, a.Status, a.Note, a.Version = uuid.Must(uuid.NewV7()).String(), "open", "", 1
	a.CreatedAt, a.UpdatedAt = tx.Now, tx.Now
	if a.DueAt != nil {
		due := a.DueAt.UTC().Truncate(time.Microsecond) // as the store keeps times, so they compare
		a.DueAt = &due
	}
	// A copy: sorting in place would reorder, and Compact clear, the caller's
	// slice. An empty id is a party the caller does not have (no carrier yet).
	a.UnitIDs = slices.DeleteFunc(slices.Clone(a.UnitIDs), func(id string) bool { return id == "" })
	slices.Sort(a.UnitIDs)
	a.UnitIDs = slices.Compact(a.UnitIDs)
	// On PostgreSQL another transaction may raise the same alert between the
	// look-up and the insert; the partial unique index then keeps one, and
	// this one returns it instead of failing its cause's transaction.
	n, err := store.Exec(ctx, tx, `INSERT INTO alerts (id, kind, severity, title, detail, subject, subject_id, subject_ref,
		region_code, dedup_key, due_at, status, note, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', '', ?, ?, 1)
		ON CONFLICT (dedup_key) WHERE status <> 'closed' DO NOTHING`,
		a.ID, a.Kind, string(a.Severity), a.Title, a.Detail, a.Subject, a.SubjectID, a.SubjectRef, a.RegionCode, a.DedupKey,
		a.DueAt, a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return a, err
	}
	if n == 0 {
		return openAlert(ctx, tx, a.DedupKey)
	}
	for _, u := range a.UnitIDs {
		if _, err := store.Exec(ctx, tx, `INSERT INTO alert_parties (alert_id, unit_id) VALUES (?, ?)`, a.ID, u); err != nil {
			return a, err
		}
	}
	_, err = audit.Append(ctx, tx, audit.System, audit.Record{Action: "alert.raise", Entity: "alert", EntityID: a.ID,
		UnitID: firstUnit(a), RegionCode: a.RegionCode, Change: a})
	return a, err
}

// openAlert returns the alert with key that is not closed, with its parties.
func openAlert(ctx context.Context, tx *store.Tx, key string) (Alert, error) {
	var a Alert
	if err := store.Get(ctx, tx, &a, `SELECT `+columns+` FROM alerts a WHERE a.dedup_key = ? AND a.status <> 'closed'`, key); err != nil {
		return a, err
	}
	as := []Alert{a}
	err := loadParties(ctx, tx, as)
	return as[0], err
}

// Resolve closes the open alert of kind about a subject when the platform
// itself sees its cause gone — the receipt was confirmed, the waste left
// storage — inside the transaction that removed the cause. It reports
// whether there was one to close.
func Resolve(ctx context.Context, tx *store.Tx, kind, subject, subjectID, note string) (bool, error) {
	a, err := openAlert(ctx, tx, kind+"|"+subject+"|"+subjectID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	note = strings.TrimSpace(note)
	if _, err := store.Exec(ctx, tx, `UPDATE alerts SET status = 'closed', note = ?, updated_at = ?, version = version + 1
		WHERE id = ?`, note, tx.Now, a.ID); err != nil {
		return false, err
	}
	_, err = audit.Append(ctx, tx, audit.System, audit.Record{Action: "alert.resolve", Entity: "alert", EntityID: a.ID,
		UnitID: firstUnit(a), RegionCode: a.RegionCode, Change: map[string]any{"status": "closed", "note": note}})
	return err == nil, err
}

func firstUnit(a Alert) string {
	if len(a.UnitIDs) > 0 {
		return a.UnitIDs[0]
	}
	return ""
}

const columns = `a.id, a.kind, a.severity, a.title, a.detail, a.subject, a.subject_id, a.subject_ref, a.region_code,
	a.dedup_key, a.due_at, a.status, a.note, a.created_at, a.updated_at, a.version`

// scope limits alerts to those the principal may see: all for admins and
// city-wide regulators, a region's or park's for its regulators, and a
// unit's own for its accounts.
// Scope is the condition (alias a) limiting alerts to those p may see, for
// other packages' aggregates.
func Scope(p auth.Principal) (string, []any) { return scope(p) }

func scope(p auth.Principal) (string, []any) {
	switch {
	case p.SeesAllRegions():
		return "1 = 1", nil
	case p.Role == auth.Regulator || (p.Role == auth.Viewer && p.RegionCode != ""):
		return `(a.region_code = ? OR EXISTS (SELECT 1 FROM alert_parties ap JOIN units u ON u.id = ap.unit_id
			WHERE ap.alert_id = a.id AND (u.region_code = ? OR u.park_code = ?)))`, []any{p.RegionCode, p.RegionCode, p.RegionCode}
	case p.Role.BoundToUnit():
		return "EXISTS (SELECT 1 FROM alert_parties ap WHERE ap.alert_id = a.id AND ap.unit_id = ?)", []any{p.UnitID}
	}
	return "1 = 0", nil
}

// Filter narrows a list of alerts.
type Filter struct {
	Kind      string
	Status    string // open, acknowledged, closed; "" for all
	Subject   string
	SubjectID string
	Limit     int
	After     string // the id of the last alert of the previous page
}

// Service lists and handles alerts.
type Service struct{ db *store.DB }

// NewService returns a Service on db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// List returns alerts the principal may see, newest first.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) ([]Alert, string, error) {
	cond, args := scope(p)
	where := []string{cond}
	for _, c := range []struct{ col, v string }{{"a.kind", f.Kind}, {"a.status", f.Status}, {"a.subject", f.Subject},
		{"a.subject_id", f.SubjectID}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.After != "" {
		// The cursor reaches the database as text; PostgreSQL refuses
		// invalid UTF-8 with an error that would be a 500.
		if len(f.After) > 64 || !utf8.ValidString(f.After) {
			return nil, "", errs.Field("cursor", "cursor_invalid", "分页游标无效")
		}
		where = append(where, "a.id < ?")
		args = append(args, f.After)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	var out []Alert
	if err := store.Select(ctx, s.db.Reader(), &out, `SELECT `+columns+` FROM alerts a WHERE `+strings.Join(where, " AND ")+
		` ORDER BY a.id DESC LIMIT ?`, append(args, limit+1)...); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].ID
	}
	if out == nil {
		out = []Alert{}
	}
	return out, next, loadParties(ctx, s.db.Reader(), out)
}

func loadParties(ctx context.Context, q store.Querier, as []Alert) error {
	if len(as) == 0 {
		return nil
	}
	ids := make([]string, len(as))
	at := map[string]int{}
	for i := range as {
		ids[i], at[as[i].ID] = as[i].ID, i
		as[i].UnitIDs = []string{}
	}
	query, args, err := store.In(`SELECT alert_id, unit_id FROM alert_parties WHERE alert_id IN (?) ORDER BY unit_id`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		AlertID string `db:"alert_id"`
		UnitID  string `db:"unit_id"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	for _, r := range rows {
		as[at[r.AlertID]].UnitIDs = append(as[at[r.AlertID]].UnitIDs, r.UnitID)
	}
	return nil
}

// Get returns one alert the principal may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Alert, error) {
	return get(ctx, s.db.Reader(), p, id)
}

func get(ctx context.Context, q store.Querier, p auth.Principal, id string) (Alert, error) {
	cond, args := scope(p)
	var a Alert
	err := store.Get(ctx, q, &a, `SELECT `+columns+` FROM alerts a WHERE a.id = ? AND `+cond, append([]any{id}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return a, errs.E(errs.NotFound, "alert_not_found", "预警不存在或无权查看")
	}
	if err != nil {
		return a, err
	}
	as := []Alert{a}
	err = loadParties(ctx, q, as)
	return as[0], err
}

// Handle acknowledges (status "acknowledged") or closes (status "closed")
// an alert with a note. Any party or regulator who sees it may acknowledge;
// closing needs a note saying what was done.
func (s *Service) Handle(ctx context.Context, p auth.Principal, id, status, note string, version int64) (Alert, error) {
	var a Alert
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		before, err := get(ctx, tx, p, id)
		if err != nil {
			return err
		}
		switch {
		case p.Role == auth.Viewer:
			return errs.E(errs.Forbidden, "forbidden", "查看者不能处理预警")
		case status != "acknowledged" && status != "closed":
			return errs.Field("status", "status_unknown", "状态只能是 acknowledged 或 closed")
		case status == "closed" && strings.TrimSpace(note) == "":
			return errs.Field("note", "required", "关闭预警须写明处理情况")
		case before.Status == "closed":
			return errs.E(errs.Conflict, "alert_closed", "预警已关闭")
		case before.Version != version:
			return errs.E(errs.Conflict, "version_conflict", "该预警已被他人处理，请刷新后重试")
		}
		a = before
		a.Status, a.UpdatedAt, a.Version = status, tx.Now, before.Version+1
		if note = strings.TrimSpace(note); note != "" {
			a.Note = note // acknowledging without a note keeps the one before
		}
		n, err := store.Exec(ctx, tx, `UPDATE alerts SET status = ?, note = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			a.Status, a.Note, a.UpdatedAt, a.Version, id, before.Version)
		if err != nil {
			return err
		}
		if n != 1 {
			return errs.E(errs.Conflict, "version_conflict", "该预警已被他人处理，请刷新后重试")
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "alert." + map[string]string{"acknowledged": "acknowledge",
			"closed": "close"}[status], Entity: "alert", EntityID: id, UnitID: firstUnit(a), RegionCode: a.RegionCode,
			Change: map[string]any{"status": status, "note": a.Note}})
		return err
	})
	return a, err
}
