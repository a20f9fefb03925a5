package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"wufei/internal/settings"
	"wufei/internal/store"
)

// Rules are the configurable values approvals are checked against. Each is
// a row of the settings table under its JSON name; a missing row keeps the
// default.
type Rules struct {
	// MaxMonths: an approval is valid at most this long ([R] 12); it is the
	// shared setting approval_max_months.
	MaxMonths int `json:"-"`
	// InboundProvince: the province whose inbound rules apply, as the first
	// two digits of its code (安徽 34).
	InboundProvince string `json:"approval_inbound_province"`
	// InboundRefusedMethods: methods for which waste may not come in from
	// another province: incineration, landfill, physico-chemical treatment
	// ([V] Anhui 2017 notice). Empty allows every method.
	InboundRefusedMethods []string `json:"approval_inbound_refused_methods"`
	// InboundCapPercent: waste coming in from other provinces is capped at
	// this share of the receiver's licensed yearly capacity ([V] 30). Zero or
	// less turns the cap off.
	InboundCapPercent float64 `json:"approval_inbound_cap_percent"`
	// InboundRaisedCapPercent: the cap for approvals flagged raised, whose
	// project's EIA approval says its raw material comes mainly from other
	// provinces ([V] 60).
	InboundRaisedCapPercent float64 `json:"approval_inbound_raised_cap_percent"`
	// WhitelistProvinces: the provinces a whitelist route may join (长三角:
	// 上海 31, 江苏 32, 浙江 33, 安徽 34; [I]). Empty allows any.
	WhitelistProvinces []string `json:"whitelist_provinces"`
}

// DefaultRules are the documented defaults.
var DefaultRules = Rules{
	MaxMonths:               settings.Defaults.ApprovalMaxMonths,
	InboundProvince:         "34",
	InboundRefusedMethods:   []string{"D10", "D1", "D9"},
	InboundCapPercent:       30,
	InboundRaisedCapPercent: 60,
	WhitelistProvinces:      []string{"31", "32", "33", "34"},
}

var ruleKeys = []string{"approval_inbound_province", "approval_inbound_refused_methods", "approval_inbound_cap_percent",
	"approval_inbound_raised_cap_percent", "whitelist_provinces"}

// LoadRules returns the defaults overlaid with the stored settings.
func LoadRules(ctx context.Context, q store.Querier) (Rules, error) {
	shared, err := settings.Load(ctx, q)
	if err != nil {
		return DefaultRules, err
	}
	r := DefaultRules
	r.InboundRefusedMethods = slices.Clone(r.InboundRefusedMethods)
	r.WhitelistProvinces = slices.Clone(r.WhitelistProvinces)
	r.MaxMonths = shared.ApprovalMaxMonths
	stored, err := settings.Stored(ctx, q)
	if err != nil {
		return r, err
	}
	mine := map[string]json.RawMessage{}
	for _, k := range ruleKeys {
		if v, ok := stored[k]; ok {
			mine[k] = v
		}
	}
	if err := settings.Decode(mine, &r); err != nil {
		return DefaultRules, fmt.Errorf("approval: settings: %w", err)
	}
	return r, nil
}

// capPercent is the inbound cap that applies to a.
func (r Rules) capPercent(raised bool) float64 {
	if raised {
		return r.InboundRaisedCapPercent
	}
	return r.InboundCapPercent
}
