package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"wufei/internal/errs"
	"wufei/internal/store"
)

// Cover is what allows a cross-province transfer: an approval (ApprovalID
// and ApprovalNumber set) or a whitelist route (RouteID set).
type Cover struct {
	ApprovalID     string
	ApprovalNumber string
	RouteID        string
}

// Covering finds what allows the consignor to send grams of wasteCode to the
// receiver on day: a valid approval in force that day covering the code with
// at least grams left — the one that runs out soonest, so approvals are used
// before they lapse — or else a valid whitelist route in force covering the
// code. Without either it returns an Invalid error with code
// cross_province_not_approved and no field; the caller names the line.
func Covering(ctx context.Context, q store.Querier, consignorID, receiverID, wasteCode string, day time.Time, grams int64) (Cover, error) {
	d := Day(day)
	var a struct {
		ID     string `db:"id"`
		Number string `db:"number"`
	}
	err := store.Get(ctx, q, &a, `SELECT t.id, t.number FROM approvals t JOIN approval_items i ON i.approval_id = t.id
		WHERE t.consignor_unit_id = ? AND t.receiver_unit_id = ? AND t.status = 'valid' AND t.valid_from <= ?
		AND t.valid_to >= ? AND i.waste_code = ? AND i.quantity_g - i.used_g >= ?
		ORDER BY t.valid_to, t.id LIMIT 1`, consignorID, receiverID, d, d, wasteCode, grams)
	switch {
	case err == nil:
		return Cover{ApprovalID: a.ID, ApprovalNumber: a.Number}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Cover{}, err
	}
	var routeID string
	err = store.Get(ctx, q, &routeID, `SELECT t.id FROM whitelist_routes t JOIN whitelist_route_codes c ON c.route_id = t.id
		WHERE t.consignor_unit_id = ? AND t.receiver_unit_id = ? AND t.status = 'valid' AND t.valid_from <= ?
		AND t.valid_to >= ? AND c.waste_code = ? ORDER BY t.valid_to, t.id LIMIT 1`,
		consignorID, receiverID, d, d, wasteCode)
	switch {
	case err == nil:
		return Cover{RouteID: routeID}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Cover{}, err
	}
	return Cover{}, errs.E(errs.Invalid, "cross_province_not_approved",
		fmt.Sprintf("跨省转移 %s 须有在 %s 有效、剩余数量足够的跨省转移审批，或白名单路线", wasteCode, d))
}

// Use draws grams of wasteCode on an approval, inside the caller's
// transaction (a manifest being submitted, whose own audit entry names the
// approval). It refuses to go past the cap with approval_quantity_exceeded.
func Use(ctx context.Context, tx *store.Tx, approvalID, wasteCode string, grams int64) error {
	if grams < 0 {
		return fmt.Errorf("approval: use of %d g", grams)
	}
	n, err := store.Exec(ctx, tx, `UPDATE approval_items SET used_g = used_g + ?
		WHERE approval_id = ? AND waste_code = ? AND used_g + ? <= quantity_g`, grams, approvalID, wasteCode, grams)
	if err != nil || n == 1 {
		return err
	}
	var it ApprovalItem
	err = store.Get(ctx, tx, &it, `SELECT waste_code, category, quantity_g, used_g FROM approval_items
		WHERE approval_id = ? AND waste_code = ?`, approvalID, wasteCode)
	if errors.Is(err, store.ErrNotFound) {
		return errs.E(errs.Invalid, "approval_code_not_covered", "该跨省转移审批不含废物代码 "+wasteCode)
	}
	if err != nil {
		return err
	}
	return errs.E(errs.Invalid, "approval_quantity_exceeded", fmt.Sprintf("超出跨省转移审批批准数量：%s 剩余 %s 吨",
		wasteCode, fmtTonnes(it.QuantityG-it.UsedG)))
}

// Release gives back grams of wasteCode drawn on an approval: a manifest
// cancelled, or waste the receiver refused. It never takes the used
// quantity below zero.
func Release(ctx context.Context, tx *store.Tx, approvalID, wasteCode string, grams int64) error {
	if grams < 0 {
		return fmt.Errorf("approval: release of %d g", grams)
	}
	n, err := store.Exec(ctx, tx, `UPDATE approval_items SET used_g = used_g - ?
		WHERE approval_id = ? AND waste_code = ? AND used_g >= ?`, grams, approvalID, wasteCode, grams)
	if err != nil || n == 1 {
		return err
	}
	return errs.E(errs.Conflict, "approval_release_exceeds_use",
		fmt.Sprintf("跨省转移审批 %s 的 %s 使用量不足 %s 吨，无法退回", approvalID, wasteCode, fmtTonnes(grams)))
}
