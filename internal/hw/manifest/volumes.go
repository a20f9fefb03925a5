package manifest

import (
	"context"

	"wufei/internal/hw/volumes"
	"wufei/internal/store"
)

// moved keeps the monthly figures (hw_volumes) in step with a change a step
// or a revision made to a manifest, in the same transaction.
func moved(ctx context.Context, tx *store.Tx, before, after Manifest) {
	volumes.Moved(ctx, tx, figuresOf(before), figuresOf(after))
}

func figuresOf(m Manifest) volumes.Manifest {
	v := volumes.Manifest{Status: string(m.Status), Region: m.RegionCode, ReceiverRegion: m.ReceiverRegionCode,
		ReceiverUnit: m.ReceiverUnitID, SentOn: m.PreviousID != nil, SubmittedAt: m.SubmittedAt, PickedUpAt: m.PickedUpAt,
		ReceivedAt: m.ReceivedAt, CompletedAt: m.CompletedAt, Lines: make([]volumes.Line, len(m.Lines))}
	for i, l := range m.Lines {
		v.Lines[i] = volumes.Line{Category: l.Category, Method: l.Method, QuantityG: l.QuantityG, AcceptedG: l.AcceptedG}
	}
	return v
}
