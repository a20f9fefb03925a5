package publication

// The publication's reads of the monthly totals, for tests to compare with
// the same figures summed from the records.
const (
	LedgerTotals   = hazardousLedgerTotals
	ManifestTotals = hazardousManifestTotals
	ReceiverTotals = receiverTotals
)
