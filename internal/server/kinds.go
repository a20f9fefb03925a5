package server

import (
	"slices"

	"wufei/internal/exchange"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/store"
	"wufei/internal/streams/agri"
	"wufei/internal/streams/construction"
	"wufei/internal/streams/household"
	"wufei/internal/streams/industrial"
	"wufei/internal/streams/medical"
	"wufei/internal/streams/sheet"
	"wufei/internal/streams/sludge"
)

// exchangeKinds lists every record kind that can be exchanged as an Excel
// workbook, in the order the exchange page shows them.
func exchangeKinds(db *store.DB) []exchange.Kind {
	kinds := []exchange.Kind{ledger.NewExchange(db), manifest.NewExchange(db)}
	for _, s := range streamSheets(db) {
		kinds = append(kinds, s)
	}
	return kinds
}

// streamSheets are the record kinds of the solid-waste streams other than
// hazardous waste, in the plan's order within each page: general industrial
// solid waste, sewage sludge, construction and medical waste; agricultural
// and household waste.
func streamSheets(db *store.DB) []*sheet.Service {
	return slices.Concat(industrial.Sheets(db), sludge.Sheets(db), construction.Sheets(db), medical.Sheets(db),
		agri.Sheets(db), household.Sheets(db))
}
