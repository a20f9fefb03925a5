package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"wufei/internal/audit"
	"wufei/internal/store"
)

// ShipmentLine is one line of a manifest at pickup.
type ShipmentLine struct {
	LineNo       int
	WasteCode    string
	QuantityG    int64
	ContainerIDs []string
}

// Shipment is a manifest picked up from its consignor (UnitID).
type Shipment struct {
	UnitID, ManifestID, ManifestNumber string
	At                                 time.Time
	Actor                              audit.Actor
	Lines                              []ShipmentLine
}

// Ship records a pickup in the consignor's ledger inside the manifest's
// transaction: an out-of-storage record (出库) for the containers of each
// line that were in storage, one per into-storage batch they came from, and
// every container of the line marked shipped with the manifest. Lines
// without containers write nothing; calling it again for the same manifest
// changes nothing.
func Ship(ctx context.Context, tx *store.Tx, s Shipment) error {
	at := stamp(s.At, tx.Now)
	var u unitInfo // loaded for the first line with containers
	for li, l := range s.Lines {
		if len(l.ContainerIDs) == 0 {
			continue
		}
		if u.ID == "" {
			var err error
			if u, err = loadUnit(ctx, tx, s.UnitID); err != nil {
				return err
			}
			if err := lockUnit(ctx, tx, s.UnitID); err != nil {
				return err
			}
		}
		cs, err := checkShippable(ctx, tx, s.UnitID, l.WasteCode, l.ContainerIDs, s.ManifestID, fmt.Sprintf("lines[%d].", li))
		if err != nil {
			return err
		}
		// Stored containers leave storage by the batch they went in with.
		var batches []string
		byBatch := map[string][]Container{}
		var loose []string
		for _, c := range cs {
			switch c.Status {
			case StatusStored:
				if byBatch[c.StorageBatch] == nil {
					batches = append(batches, c.StorageBatch)
				}
				byBatch[c.StorageBatch] = append(byBatch[c.StorageBatch], c)
			case StatusGenerated:
				loose = append(loose, c.DigitalID)
			}
		}
		for _, b := range batches {
			src, err := batchRecord(ctx, tx, s.UnitID, b, fmt.Sprintf("lines[%d].container_ids", li))
			if err != nil {
				return err
			}
			r := Record{UnitID: s.UnitID, RegionCode: u.RegionCode, Kind: KindStorageOut, PrevBatch: b, OccurredAt: at,
				WasteCode: src.WasteCode, Category: src.Category, Name: src.Name, OfficialName: src.OfficialName,
				Packaging: src.Packaging, FacilityCode: src.FacilityCode, Handler: s.Actor.Username,
				ManifestID: s.ManifestID, ManifestNumber: s.ManifestNumber, LineNo: l.LineNo,
				Destination: "转移联单 " + s.ManifestNumber}
			for _, c := range byBatch[b] {
				r.QuantityG += c.QuantityG
				r.ContainerIDs = append(r.ContainerIDs, c.DigitalID)
			}
			if err := insert(ctx, tx, s.Actor, &r, nil); err != nil {
				return err
			}
			// Containers are weighed facts: a batch corrected below them is
			// emptied, not refused, so that the pickup goes through.
			if _, err := store.Exec(ctx, tx, `UPDATE ledger_stock SET remaining_g = CASE WHEN remaining_g > ? THEN remaining_g - ? ELSE 0 END
				WHERE record_id = ?`, r.QuantityG, r.QuantityG, src.ID); err != nil {
				return err
			}
			if err := setContainers(ctx, tx, s.UnitID, r.ContainerIDs, `status = ?, out_batch = ?, manifest_id = ?`,
				StatusShipped, r.BatchCode, s.ManifestID); err != nil {
				return err
			}
		}
		if len(loose) > 0 {
			if err := setContainers(ctx, tx, s.UnitID, loose, `status = ?, manifest_id = ?`, StatusShipped, s.ManifestID); err != nil {
				return err
			}
			if _, err := audit.Append(ctx, tx, s.Actor, audit.Record{Action: "container.ship", Entity: "manifest",
				EntityID: s.ManifestID, UnitID: s.UnitID, RegionCode: u.RegionCode, Change: map[string]any{
					"manifest_number": s.ManifestNumber, "line_no": l.LineNo, "container_ids": loose}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Outsourced is a manifest line completed by its receiver, as the
// consignor's ledger records it.
type Outsourced struct {
	UnitID, ManifestID, ManifestNumber                  string
	LineNo                                              int
	WasteCode                                           string
	OfficialName                                        string // the code's name in the 名录; looked up when empty
	QuantityG                                           int64
	Method, ReceiverUnitID, ReceiverName, LicenceNumber string
	DepartedAt                                          time.Time
	ContainerIDs                                        []string
	Actor                                               audit.Actor
}

// RecordOutsourced writes the consignor's outsourced record (委托利用/处置)
// for a completed manifest line inside the manifest's transaction, linked
// to the out-of-storage batch its containers left with, or else to their
// generation batch; containers from several batches give one record per
// batch, the quantity shared by their weights. Its containers become
// received. A line already recorded, or with nothing accepted, writes
// nothing.
func RecordOutsourced(ctx context.Context, tx *store.Tx, o Outsourced) error {
	if o.QuantityG <= 0 {
		return nil
	}
	// The unit's records of this line so far, by the manifest's index: an
	// outsourced one means it is recorded already; its out-of-storage ones
	// are what to link to when no container says.
	var prior []struct {
		Kind  string `db:"kind"`
		Batch string `db:"batch_code"`
	}
	if err := store.Select(ctx, tx, &prior, `SELECT kind, batch_code FROM ledger_records WHERE manifest_id = ? AND line_no = ?
		AND unit_id = ?`, o.ManifestID, o.LineNo, o.UnitID); err != nil {
		return err
	}
	outBatch := ""
	for _, r := range prior {
		switch {
		case r.Kind == string(KindOutsourced):
			return nil
		case r.Kind == string(KindStorageOut) && (outBatch == "" || r.Batch < outBatch):
			outBatch = r.Batch
		}
	}
	u, err := loadUnit(ctx, tx, o.UnitID)
	if err != nil {
		return err
	}
	if err := lockUnit(ctx, tx, o.UnitID); err != nil {
		return err
	}
	official := o.OfficialName
	if official == "" {
		if err := store.Get(ctx, tx, &official, `SELECT description FROM waste_codes WHERE code = ?`, o.WasteCode); err != nil &&
			!errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	cs, err := unitContainers(ctx, tx, o.UnitID, o.ContainerIDs)
	if err != nil {
		return err
	}
	// Group the containers by the batch they left.
	type group struct {
		batch string
		g     int64
		ids   []string
	}
	var groups []*group
	index := map[string]*group{}
	for _, id := range o.ContainerIDs {
		c, ok := cs[id]
		if !ok {
			continue
		}
		b := c.OutBatch
		if b == "" {
			b = c.GenerationBatch
		}
		if index[b] == nil {
			index[b] = &group{batch: b}
			groups = append(groups, index[b])
		}
		index[b].g += c.QuantityG
		index[b].ids = append(index[b].ids, id)
	}
	if len(groups) == 0 {
		groups = []*group{{batch: outBatch}}
	}
	var weight int64
	for _, g := range groups {
		weight += g.g
	}
	at := stamp(o.DepartedAt, tx.Now)
	left := o.QuantityG
	for i, g := range groups {
		share := left
		if i < len(groups)-1 {
			share = o.QuantityG / int64(len(groups))
			if weight > 0 {
				share = o.QuantityG * g.g / weight
			}
		}
		left -= share
		r := Record{UnitID: o.UnitID, RegionCode: u.RegionCode, Kind: KindOutsourced, PrevBatch: g.batch, OccurredAt: at,
			WasteCode: o.WasteCode, Category: categoryOf(o.WasteCode), Name: official, OfficialName: official, QuantityG: share,
			Handler: o.Actor.Username, Method: o.Method, ReceiverUnitID: o.ReceiverUnitID, ReceiverName: o.ReceiverName,
			LicenceNumber: o.LicenceNumber, ManifestID: o.ManifestID, ManifestNumber: o.ManifestNumber, LineNo: o.LineNo,
			Destination: o.ReceiverName, ContainerIDs: g.ids}
		if g.batch != "" {
			if src, err := batchRecord(ctx, tx, o.UnitID, g.batch, "container_ids"); err == nil {
				r.Name, r.Packaging = src.Name, src.Packaging
			}
		}
		if err := insert(ctx, tx, o.Actor, &r, nil); err != nil {
			return err
		}
		if err := setContainers(ctx, tx, o.UnitID, g.ids, `status = ?`, StatusReceived); err != nil {
			return err
		}
	}
	return nil
}

// stamp is a caller's time as stored, or now.
func stamp(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}

func categoryOf(code string) string {
	if len(code) == 10 {
		return "HW" + code[8:]
	}
	return ""
}
