package server

import (
	"wufei/internal/exchange"
	"wufei/internal/store"
)

// ExchangeKinds lists the record kinds that can be exchanged as Excel
// workbooks, for the import and export commands.
func ExchangeKinds(db *store.DB) []exchange.Kind { return exchangeKinds(db) }
