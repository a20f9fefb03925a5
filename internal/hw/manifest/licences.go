package manifest

import (
	"context"
	"errors"
	"strings"
	"time"

	"wufei/internal/store"
)

// licence is a receiver's licence as the checks need it.
type licence struct {
	ID        string `db:"id"`
	Number    string `db:"number"`
	CapacityG int64  `db:"capacity_g"`
	scopes    []licenceScope
}

type licenceScope struct {
	LicenceID string `db:"licence_id"`
	Category  string `db:"category"`
	WasteCode string `db:"waste_code"`
	Method    string `db:"method"`
}

// receiverLicences returns the unit's licences valid on day, with scopes,
// in one query.
func receiverLicences(ctx context.Context, q store.Querier, unitID string, day time.Time) ([]licence, error) {
	var rows []struct {
		ID        string `db:"id"`
		Number    string `db:"number"`
		CapacityG int64  `db:"capacity_g"`
		licenceScope
	}
	if err := store.Select(ctx, q, &rows, `SELECT l.id, l.number, l.capacity_g, s.licence_id, s.category, s.waste_code, s.method
		FROM licences l JOIN licence_scopes s ON s.licence_id = l.id WHERE l.unit_id = ? AND l.status = 'valid'
		AND l.valid_from <= ? AND l.valid_to >= ? ORDER BY l.valid_to DESC, l.id`, unitID, day, day); err != nil {
		return nil, err
	}
	var ls []licence
	for _, r := range rows {
		if len(ls) == 0 || ls[len(ls)-1].ID != r.ID {
			ls = append(ls, licence{ID: r.ID, Number: r.Number, CapacityG: r.CapacityG})
		}
		ls[len(ls)-1].scopes = append(ls[len(ls)-1].scopes, r.licenceScope)
	}
	return ls, nil
}

// covers reports whether any licence covers code, by method when one is
// given. A scope names a whole category (waste_code ”) or one code.
func covers(ls []licence, code, method string) bool {
	if len(code) != 10 {
		return false
	}
	cat := "HW" + code[8:]
	for _, l := range ls {
		for _, s := range l.scopes {
			if s.Category == cat && (s.WasteCode == "" || s.WasteCode == code) && (method == "" || strings.EqualFold(s.Method, method)) {
				return true
			}
		}
	}
	return false
}

// collectOnly reports whether the receiver takes code under a collection
// and storage licence scope, which names no method.
func collectOnly(ls []licence, code string) bool {
	if len(code) != 10 {
		return false
	}
	for _, l := range ls {
		for _, s := range l.scopes {
			if s.Method == "" && s.Category == "HW"+code[8:] && (s.WasteCode == "" || s.WasteCode == code) {
				return true
			}
		}
	}
	return false
}

// UsedG is what a receiver's licences have already taken this year:
// declared quantities on their way, accepted quantities once received. The
// manifest steps keep it current (see usage).
func UsedG(ctx context.Context, q store.Querier, receiverID string, year int) (int64, error) {
	var g int64
	err := store.Get(ctx, q, &g, `SELECT used_g FROM receiver_usage WHERE receiver_unit_id = ? AND year = ?`, receiverID, year)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return g, err
}

// usage is what m takes from its receiver's capacity in its status.
func usage(m Manifest) int64 {
	var g int64
	for _, l := range m.Lines {
		switch m.Status {
		case Submitted, InTransit:
			g += l.QuantityG
		case Received, Completed:
			if l.AcceptedG != nil {
				g += *l.AcceptedG
			}
		}
	}
	return g
}

// addUsage moves a receiver's yearly usage by the change a step made.
func addUsage(ctx context.Context, tx *store.Tx, before, after Manifest) error {
	d := usage(after) - usage(before)
	if d == 0 {
		return nil
	}
	_, err := store.Exec(ctx, tx, `INSERT INTO receiver_usage (receiver_unit_id, year, used_g) VALUES (?, ?, ?)
		ON CONFLICT (receiver_unit_id, year) DO UPDATE SET used_g = receiver_usage.used_g + excluded.used_g`,
		after.ReceiverUnitID, after.Year, d)
	return err
}
