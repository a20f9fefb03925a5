// Package settings holds the rule values the regulations leave to local
// practice or that were not verified against an official text ([R] in the
// regulations reference). Each has a documented default; the settings table
// overrides it.
package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// Rules are the configurable rule values.
type Rules struct {
	// ReceiptWorkingDays: the receiver confirms receipt within this many
	// working days of arrival (转移管理办法, [R] 5).
	ReceiptWorkingDays int `json:"receipt_working_days" doc:"接受人确认接收的期限（工作日，1–60，默认 5）"`
	// PaperBackfillWorkingDays: a paper manifest is back-filled within this
	// many working days after the transfer ([R] 10).
	PaperBackfillWorkingDays int `json:"paper_backfill_working_days" doc:"纸质联单补录期限（工作日，1–60，默认 10）"`
	// DiscrepancyPercent: a received weight differing from the declared one
	// by more than this raises weight_discrepancy.
	DiscrepancyPercent float64 `json:"discrepancy_percent" doc:"接收量与申报量相差超过此百分比即预警（0–100，默认 5）"`
	// PlanCheck: "block" refuses a manifest whose consignor has no filed plan
	// for the year naming the code; "warn" submits it with a warning.
	PlanCheck string `json:"plan_check" doc:"无备案管理计划时：block 阻止提交，warn 提醒（默认 warn）"`
	// StorageLimitDays: hazardous waste may be stored at most this long
	// (固废法 Art. 81: 一年).
	StorageLimitDays int `json:"storage_limit_days" doc:"贮存期限（天，默认 365）"`
	// StorageWarnDays: warn this many days before the storage limit.
	StorageWarnDays int `json:"storage_warn_days" doc:"贮存期限届满前提前预警的天数（默认 30）"`
	// StoragePointMaxT: a 贮存点 holds at most this many tonnes (GB 18597 §8.3.5).
	StoragePointMaxT float64 `json:"storage_point_max_t" doc:"贮存点最大贮存量（吨，默认 3）"`
	// ApprovalMaxMonths: a cross-province approval is valid at most this long ([R] 12).
	ApprovalMaxMonths int `json:"approval_max_months" doc:"跨省转移审批最长有效期（月，1–60，默认 12）"`
}

// Defaults are the documented default values.
var Defaults = Rules{
	ReceiptWorkingDays:       5,
	PaperBackfillWorkingDays: 10,
	DiscrepancyPercent:       5,
	PlanCheck:                "warn",
	StorageLimitDays:         365,
	StorageWarnDays:          30,
	StoragePointMaxT:         3,
	ApprovalMaxMonths:        12,
}

// Load returns the defaults overlaid with the stored values.
func Load(ctx context.Context, q store.Querier) (Rules, error) {
	r := Defaults
	stored, err := Stored(ctx, q)
	if err != nil {
		return r, err
	}
	if err := Decode(stored, &r); err != nil {
		return Defaults, fmt.Errorf("settings: %w", err)
	}
	return r, nil
}

// stored memoises the settings table, which every manifest step reads and
// administrators rarely change.
var stored = &store.Memo[map[string]json.RawMessage]{Table: "settings",
	Load: func(ctx context.Context, q store.Querier) (map[string]json.RawMessage, error) {
		var rows []struct {
			Key   string `db:"key"`
			Value string `db:"value"`
		}
		if err := store.Select(ctx, q, &rows, `SELECT key, value FROM settings`); err != nil {
			return nil, err
		}
		m := make(map[string]json.RawMessage, len(rows))
		for _, row := range rows {
			m[row.Key] = json.RawMessage(row.Value)
		}
		return m, nil
	}}

// Stored returns the settings table — one row per rule changed from its
// default, key → JSON value — for this package's rules and the other
// packages' that keep theirs in the same table. Callers must not modify it.
func Stored(ctx context.Context, q store.Querier) (map[string]json.RawMessage, error) {
	return stored.Get(ctx, q)
}

// Decode overlays the stored values on rules, a pointer to a struct whose
// JSON keys name the rules; keys it does not have are left alone.
func Decode(stored map[string]json.RawMessage, rules any) error {
	if len(stored) == 0 {
		return nil
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, rules)
}

// Write stores rules in tx: the values that differ from defaults (both
// structs of the same type) as rows, the others by removing their rows, so
// a later change of a default reaches every rule nobody set.
func Write(ctx context.Context, tx *store.Tx, rules, defaults any) error {
	want, err := fields(rules)
	if err != nil {
		return err
	}
	def, err := fields(defaults)
	if err != nil {
		return err
	}
	store.Changed(tx, "settings")
	for key, value := range want {
		if bytes.Equal(value, def[key]) {
			_, err = store.Exec(ctx, tx, `DELETE FROM settings WHERE key = ?`, key)
		} else {
			_, err = store.Exec(ctx, tx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
				key, string(value), tx.Now)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// PlanChecks are the values of PlanCheck.
var PlanChecks = []string{"block", "warn"}

// Validate checks each rule against its range and names the field at fault.
func (r Rules) Validate() error {
	var v errs.Validation
	days := func(field string, n, lo, hi int) {
		if n < lo || n > hi {
			v.Add(field, "days_range", fmt.Sprintf("天数须在 %d 至 %d 之间", lo, hi))
		}
	}
	days("receipt_working_days", r.ReceiptWorkingDays, 1, 60)
	days("paper_backfill_working_days", r.PaperBackfillWorkingDays, 1, 60)
	if math.IsNaN(r.DiscrepancyPercent) || r.DiscrepancyPercent < 0 || r.DiscrepancyPercent > 100 {
		v.Add("discrepancy_percent", "percent_range", "百分比须在 0 至 100 之间")
	}
	if !slices.Contains(PlanChecks, r.PlanCheck) {
		v.Add("plan_check", "plan_check_unknown", "管理计划核对方式只能是 block（阻止）或 warn（提醒）")
	}
	days("storage_limit_days", r.StorageLimitDays, 1, 3650)
	days("storage_warn_days", r.StorageWarnDays, 1, 3650)
	if r.StorageWarnDays >= r.StorageLimitDays && r.StorageLimitDays > 0 {
		v.Add("storage_warn_days", "warn_after_limit", "提前预警天数须小于贮存期限")
	}
	if math.IsNaN(r.StoragePointMaxT) || r.StoragePointMaxT <= 0 || r.StoragePointMaxT > 1e6 {
		v.Add("storage_point_max_t", "quantity_range", "贮存点最大贮存量须大于 0 吨")
	}
	if r.ApprovalMaxMonths < 1 || r.ApprovalMaxMonths > 60 {
		v.Add("approval_max_months", "months_range", "审批有效期须在 1 至 60 个月之间")
	}
	return v.Err()
}

// Save replaces the rules with r. Only administrators may; the settings
// table keeps only the values that differ from Defaults, so a later change
// of a default reaches every rule nobody set. Rows other packages keep in
// the table are left alone. The change is audited with the rules before and
// after; saving the rules as they are writes nothing.
func Save(ctx context.Context, db *store.DB, p auth.Principal, r Rules) (Rules, error) {
	if p.Role != auth.Admin {
		return Rules{}, errs.E(errs.Forbidden, "forbidden", "只有平台管理员可以修改规则设置")
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	var saved Rules
	err := db.Tx(ctx, func(tx *store.Tx) error {
		before, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		if err := Write(ctx, tx, r, Defaults); err != nil {
			return err
		}
		if saved, err = Load(ctx, tx); err != nil {
			return err
		}
		if same, err := equal(before, saved); err != nil || same {
			return err
		}
		_, err = audit.Append(ctx, tx, p.Actor(), audit.Record{Action: "settings.update", Entity: "settings", EntityID: "rules",
			Change: map[string]any{"before": before, "after": saved}})
		return err
	})
	return saved, err
}

// fields splits rules into their JSON keys and values, the rows of the table.
func fields(r any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	return m, json.Unmarshal(b, &m)
}

func equal(a, b Rules) (bool, error) {
	x, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	y, err := json.Marshal(b)
	return bytes.Equal(x, y), err
}
