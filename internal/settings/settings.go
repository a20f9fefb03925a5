// Package settings holds the rule values the regulations leave to local
// practice or that were not verified against an official text ([R] in the
// regulations reference). Each has a documented default; the settings table
// overrides it.
package settings

import (
	"context"
	"encoding/json"
	"fmt"

	"wufei/internal/store"
)

// Rules are the configurable rule values.
type Rules struct {
	// ReceiptWorkingDays: the receiver confirms receipt within this many
	// working days of arrival (转移管理办法, [R] 5).
	ReceiptWorkingDays int `json:"receipt_working_days"`
	// PaperBackfillWorkingDays: a paper manifest is back-filled within this
	// many working days after the transfer ([R] 10).
	PaperBackfillWorkingDays int `json:"paper_backfill_working_days"`
	// DiscrepancyPercent: a received weight differing from the declared one
	// by more than this raises weight_discrepancy.
	DiscrepancyPercent float64 `json:"discrepancy_percent"`
	// PlanCheck: "block" refuses a manifest whose consignor has no filed plan
	// for the year naming the code; "warn" submits it with a warning.
	PlanCheck string `json:"plan_check"`
	// StorageLimitDays: hazardous waste may be stored at most this long
	// (固废法 Art. 81: 一年).
	StorageLimitDays int `json:"storage_limit_days"`
	// StorageWarnDays: warn this many days before the storage limit.
	StorageWarnDays int `json:"storage_warn_days"`
	// StoragePointMaxT: a 贮存点 holds at most this many tonnes (GB 18597 §8.3.5).
	StoragePointMaxT float64 `json:"storage_point_max_t"`
	// ApprovalMaxMonths: a cross-province approval is valid at most this long ([R] 12).
	ApprovalMaxMonths int `json:"approval_max_months"`
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

// Load returns the defaults overlaid with the stored values. The table holds
// one row per changed rule, its value as JSON.
func Load(ctx context.Context, q store.Querier) (Rules, error) {
	r := Defaults
	var rows []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	if err := store.Select(ctx, q, &rows, `SELECT key, value FROM settings`); err != nil {
		return r, err
	}
	if len(rows) == 0 {
		return r, nil
	}
	m := map[string]json.RawMessage{}
	for _, row := range rows {
		m[row.Key] = json.RawMessage(row.Value)
	}
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &r); err != nil {
		return Defaults, fmt.Errorf("settings: %w", err)
	}
	return r, nil
}
