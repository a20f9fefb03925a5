package manifest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/store"
)

// actsFor reports whether the principal works for a unit and may sign for it.
func actsFor(p auth.Principal) bool { return p.Role.BoundToUnit() && p.UnitID != "" }

// scope is the condition (over alias m) limiting manifests to those the
// principal may see. A draft is the consignor's own until it is submitted.
// Regulators see the manifests leaving or entering their region or park.
// Scope is scope for other packages' aggregates over manifests (alias m).
func Scope(p auth.Principal) (string, []any) { return scope(p) }

func scope(p auth.Principal) (string, []any) {
	switch {
	case p.Role == auth.Admin:
		return "1 = 1", nil
	case p.Role == auth.Regulator && p.SeesAllRegions():
		return "m.status <> 'draft'", nil
	case p.Role == auth.Regulator:
		return `m.status <> 'draft' AND (m.region_code = ? OR m.receiver_region_code = ? OR EXISTS (SELECT 1 FROM units pu
			WHERE pu.park_code = ? AND (pu.id = m.consignor_unit_id OR pu.id = m.receiver_unit_id)))`,
			[]any{p.RegionCode, p.RegionCode, p.RegionCode}
	case actsFor(p):
		return `(m.consignor_unit_id = ? OR (m.status <> 'draft' AND (m.receiver_unit_id = ? OR EXISTS (SELECT 1
			FROM manifest_carriers mc WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ?))))`,
			[]any{p.UnitID, p.UnitID, p.UnitID}
	}
	return "1 = 0", nil
}

const columns = `m.id, m.number, m.year, m.status, m.consignor_unit_id, cu.name AS consignor_name, m.receiver_unit_id,
	ru.name AS receiver_name, m.region_code, m.receiver_region_code, m.cross_province, m.approval_id, m.route_id,
	m.previous_id, m.emergency_measures, m.note, m.warnings, m.submitted_at, m.picked_up_at, m.arrived_at, m.receipt_due_at,
	m.received_at, m.completed_at, m.closed_at, m.created_at, m.updated_at, m.version`

const from = ` FROM manifests m JOIN units cu ON cu.id = m.consignor_unit_id JOIN units ru ON ru.id = m.receiver_unit_id`

// load reads a manifest the principal may see, with its lines and legs.
func (s *Service) load(ctx context.Context, q store.Querier, p auth.Principal, id string) (Manifest, error) {
	return s.loadBy(ctx, q, p, "m.id", id)
}

// loadBy is load by a unique column: the id, or the number.
func (s *Service) loadBy(ctx context.Context, q store.Querier, p auth.Principal, col, key string) (Manifest, error) {
	cond, args := scope(p)
	var m Manifest
	err := store.Get(ctx, q, &m, `SELECT `+columns+from+` WHERE `+col+` = ? AND `+cond, append([]any{key}, args...)...)
	if errors.Is(err, store.ErrNotFound) {
		return m, errs.E(errs.NotFound, "manifest_not_found", "联单不存在或无权查看")
	}
	if err != nil {
		return m, err
	}
	if err := store.Select(ctx, q, &m.Lines, `SELECT line_no, waste_code, category, name, official_name, quantity_g, form,
		characteristics, packaging, package_count, container_ids, received_g, accepted_g, refused_g, refusal_reason, method,
		approval_id FROM manifest_lines WHERE manifest_id = ? ORDER BY line_no`, m.ID); err != nil {
		return m, err
	}
	if err := store.Select(ctx, q, &m.Carriers, `SELECT mc.leg, mc.carrier_unit_id, u.name AS carrier_name, mc.vehicle_plate,
		mc.picked_up_at FROM manifest_carriers mc JOIN units u ON u.id = mc.carrier_unit_id WHERE mc.manifest_id = ?
		ORDER BY mc.leg`, m.ID); err != nil {
		return m, err
	}
	if err := store.Select(ctx, q, &m.Steps, `SELECT step, action, status, at, actor_user_id, actor_username, actor_unit_id,
		audit_seq FROM manifest_steps WHERE manifest_id = ? ORDER BY step`, m.ID); err != nil {
		return m, err
	}
	m.finish()
	return m, nil
}

// Get returns a manifest the principal may see.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Manifest, error) {
	return s.load(ctx, s.db.Reader(), p, id)
}

// GetByNumber returns a manifest by its number.
func (s *Service) GetByNumber(ctx context.Context, p auth.Principal, number string) (Manifest, error) {
	return s.loadBy(ctx, s.db.Reader(), p, "m.number", number)
}

// may checks that the principal is the party who performs action on m now:
// the wrong party is Forbidden, the wrong moment a Conflict.
func (s *Service) may(p auth.Principal, m Manifest, action string) error {
	party := Consignor
	if t, ok := machine[action]; ok {
		party = t.party
	}
	if !isParty(p, m, party) {
		return errs.E(errs.Forbidden, "not_the_party", map[Party]string{Consignor: "只有移出单位可以执行此操作",
			Carrier: "只有本联单的承运单位可以执行此操作", Receiver: "只有接受单位可以执行此操作"}[party])
	}
	if action == "update" {
		if m.Status != Draft {
			return errs.E(errs.Conflict, "invalid_transition", "联单已提交，不能直接修改，请提出更正申请")
		}
		return nil
	}
	if !allowed(action, m.Status) {
		return errs.E(errs.Conflict, "invalid_transition", "联单当前状态（"+string(m.Status)+"）不能执行 "+action)
	}
	return nil
}

// isParty reports whether the principal signs for party on m. Drivers sign
// only for their carrier.
func isParty(p auth.Principal, m Manifest, party Party) bool {
	if !actsFor(p) {
		return false
	}
	switch party {
	case Consignor:
		return p.UnitID == m.ConsignorUnitID && p.Role != auth.Driver
	case Receiver:
		return p.UnitID == m.ReceiverUnitID && p.Role != auth.Driver
	case Carrier:
		for _, c := range m.Carriers {
			if c.CarrierUnitID == p.UnitID {
				return true
			}
		}
	}
	return false
}

// nextLeg is the index of the first leg not yet picked up, or -1.
func nextLeg(m Manifest) int {
	for i, c := range m.Carriers {
		if c.PickedUpAt == nil {
			return i
		}
	}
	return -1
}

// legOK is the carriers' own condition for their steps: the first carrier
// picks up, the next one takes over, the last one, having picked up,
// reports arrival once.
func legOK(p auth.Principal, m Manifest, action string) bool {
	if len(m.Carriers) == 0 {
		return false
	}
	switch action {
	case "pickup":
		return m.Carriers[0].CarrierUnitID == p.UnitID
	case "handover":
		i := nextLeg(m)
		return i >= 0 && m.Carriers[i].CarrierUnitID == p.UnitID
	case "deliver":
		last := m.Carriers[len(m.Carriers)-1]
		return last.CarrierUnitID == p.UnitID && last.PickedUpAt != nil && m.ArrivedAt == nil
	}
	return true
}

// Can reports whether p may take action on m now — the party, the status
// and, for the carriers' steps, the leg — so that a page offers only what
// the step would accept. The step still decides.
func Can(p auth.Principal, m Manifest, action string) bool {
	t, ok := machine[action]
	return ok && allowed(action, m.Status) && isParty(p, m, t.party) && legOK(p, m, action)
}

// Filter narrows a manifest list.
type Filter struct {
	Status    string
	Number    string
	WasteCode string
	Role      string // consignor, carrier or receiver: the caller's unit in that part
	Year      int
	Limit     int
	After     string // id of the last manifest of the previous page
}

// List lists the manifests the principal may see, newest first.
func (s *Service) List(ctx context.Context, p auth.Principal, f Filter) ([]Manifest, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	q, args := ListQuery(p, f, limit+1)
	var ms []Manifest
	if err := store.Select(ctx, s.db.Reader(), &ms, q, args...); err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > limit {
		ms, next = ms[:limit], ms[limit-1].ID
	}
	if ms == nil {
		ms = []Manifest{} // an empty list is [], not null
	}
	if err := s.loadLines(ctx, ms); err != nil {
		return nil, "", err
	}
	return ms, next, nil
}

// ListQuery is the query of a page of n manifests: each way the principal
// may see a manifest (as its consignor, its receiver or a carrier; a
// regulator by either party's region or park) picks its newest n matching
// ids through its own index, and the page is the newest n of them all. One
// condition joined by OR would walk every manifest of a province, newest
// first, to find a unit's few. A waste code drives from the code's lines.
// A status other than completed is held by few manifests of a region, or of
// the platform: a regulator's or the administrator's list walks that
// status's own index and tests the whole scope on each.
func ListQuery(p auth.Principal, f Filter, n int) (string, []any) {
	ways := paths(p)
	switch {
	case actsFor(p) && f.Role != "":
		// The caller's unit in one part is one of its own ways.
		i := map[string]int{"consignor": 0, "receiver": 1, "carrier": 2}[f.Role]
		ways = ways[i : i+1]
	case !actsFor(p) && len(ways) > 0 && f.Status != "" && f.Status != string(Completed):
		cond, args := scope(p)
		// The index's own condition, written as it is, lets both engines use it.
		ways = []path{{from: byManifests, id: "m.id", where: []string{"m.status <> 'completed'", cond}, args: args,
			byStatus: true}}
	}
	var (
		union []string
		args  []any
	)
	for i, w := range ways {
		if f.WasteCode != "" {
			if w.from == byManifests && !w.byStatus {
				w.from, w.id = "manifest_lines fl JOIN manifests m ON m.id = fl.manifest_id", "fl.manifest_id"
				w.many = true
				w.and("fl.waste_code = ?", f.WasteCode)
			} else {
				w.and("EXISTS (SELECT 1 FROM manifest_lines fl WHERE fl.waste_code = ? AND fl.manifest_id = m.id)", f.WasteCode)
			}
		}
		if f.Status != "" {
			if slices.Contains(Statuses, Status(f.Status)) {
				// A literal, so that PostgreSQL's cached generic plan knows
				// how few manifests a rare status holds; as a parameter it
				// planned the list like a common one's, walking them all.
				w.and("m.status = '" + f.Status + "'")
			} else {
				w.and("m.status = ?", f.Status)
			}
		}
		if f.Number != "" {
			w.and("m.number = ?", f.Number)
		}
		if f.Year != 0 {
			// The year's index serves a list over all manifests; a way with
			// its own index (a unit, a region) must not be planned through
			// the year's, a province's whole year. Unary plus, which both
			// engines read as the integer itself, keeps the index out.
			year := "+m.year = ?"
			if w.wide {
				year = "m.year = ?"
			}
			w.and(year, f.Year)
		}
		if !actsFor(p) {
			switch f.Role {
			case "consignor":
				w.and("m.consignor_unit_id = ?", p.UnitID)
			case "receiver":
				w.and("m.receiver_unit_id = ?", p.UnitID)
			case "carrier":
				w.and("EXISTS (SELECT 1 FROM manifest_carriers fc WHERE fc.carrier_unit_id = ? AND fc.manifest_id = m.id)", p.UnitID)
			}
		}
		if f.After != "" {
			w.and(w.id+" < ?", f.After)
		}
		distinct := ""
		if w.many {
			distinct = "DISTINCT "
		}
		union = append(union, fmt.Sprintf("SELECT id FROM (SELECT %s%s AS id FROM %s WHERE %s ORDER BY %s DESC LIMIT ?) AS w%d",
			distinct, w.id, w.from, strings.Join(w.where, " AND "), w.id, i))
		args = append(args, append(w.args, n)...)
	}
	if len(union) == 0 {
		return `SELECT ` + columns + from + ` WHERE 1 = 0 LIMIT ?`, []any{n}
	}
	return `SELECT ` + columns + from + ` WHERE m.id IN (` + strings.Join(union, " UNION ") + `) ORDER BY m.id DESC LIMIT ?`,
		append(args, n)
}

// path is one way a principal sees manifests: a driving table (joined to
// manifests as m), its manifest id column and conditions an index serves.
type path struct {
	from, id string
	where    []string
	args     []any
	wide     bool // every manifest, past the draft or not
	many     bool // the driving table may name a manifest twice: lines of one code, legs of one carrier
	byStatus bool // driven by the status's index: other conditions only test
}

func (w *path) and(c string, a ...any) { w.where, w.args = append(w.where, c), append(w.args, a...) }

const byManifests = "manifests m"

// paths is scope as separate ways, each served by an index in id order.
func paths(p auth.Principal) []path {
	m := func(c string, a ...any) path { return path{from: byManifests, id: "m.id", where: []string{c}, args: a} }
	switch {
	case p.Role == auth.Admin:
		return []path{{from: byManifests, id: "m.id", where: []string{"1 = 1"}, wide: true}}
	case p.Role == auth.Regulator && p.SeesAllRegions():
		return []path{{from: byManifests, id: "m.id", where: []string{"m.status <> 'draft'"}, wide: true}}
	case p.Role == auth.Regulator:
		r := p.RegionCode
		park := func(party string) path {
			return path{from: "units pu JOIN manifests m ON m." + party + " = pu.id", id: "m.id",
				where: []string{"pu.park_code = ? AND m.status <> 'draft'"}, args: []any{r}}
		}
		return []path{m("m.region_code = ? AND m.status <> 'draft'", r), m("m.receiver_region_code = ? AND m.status <> 'draft'", r),
			park("consignor_unit_id"), park("receiver_unit_id")}
	case actsFor(p):
		u := p.UnitID
		// A draft is its consignor's alone, even where the unit is also its
		// receiver or carrier.
		seen := "(m.status <> 'draft' OR m.consignor_unit_id = ?)"
		return []path{m("m.consignor_unit_id = ?", u), m("m.receiver_unit_id = ? AND "+seen, u, u),
			{from: "manifest_carriers mc JOIN manifests m ON m.id = mc.manifest_id", id: "mc.manifest_id",
				where: []string{"mc.carrier_unit_id = ? AND " + seen}, args: []any{u, u}, many: true}}
	}
	return nil
}

// loadLines fills the lines and legs of a page of manifests in two queries.
func (s *Service) loadLines(ctx context.Context, ms []Manifest) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	at := map[string]int{}
	for i := range ms {
		ids[i], at[ms[i].ID] = ms[i].ID, i
	}
	q, args, err := store.In(`SELECT manifest_id, line_no, waste_code, category, name, official_name, quantity_g, form,
		characteristics, packaging, package_count, container_ids, received_g, accepted_g, refused_g, refusal_reason, method,
		approval_id FROM manifest_lines WHERE manifest_id IN (?) ORDER BY manifest_id, line_no`, ids)
	if err != nil {
		return err
	}
	var lines []struct {
		ManifestID string `db:"manifest_id"`
		Line
	}
	if err := store.Select(ctx, s.db.Reader(), &lines, q, args...); err != nil {
		return err
	}
	for _, l := range lines {
		i := at[l.ManifestID]
		ms[i].Lines = append(ms[i].Lines, l.Line)
	}
	q, args, err = store.In(`SELECT mc.manifest_id, mc.leg, mc.carrier_unit_id, u.name AS carrier_name, mc.vehicle_plate,
		mc.picked_up_at FROM manifest_carriers mc JOIN units u ON u.id = mc.carrier_unit_id WHERE mc.manifest_id IN (?)
		ORDER BY mc.manifest_id, mc.leg`, ids)
	if err != nil {
		return err
	}
	var legs []struct {
		ManifestID string `db:"manifest_id"`
		Leg
	}
	if err := store.Select(ctx, s.db.Reader(), &legs, q, args...); err != nil {
		return err
	}
	for _, l := range legs {
		i := at[l.ManifestID]
		ms[i].Carriers = append(ms[i].Carriers, l.Leg)
	}
	for i := range ms {
		ms[i].finish()
	}
	return nil
}

// Pickup is where a carrier collects a manifest's waste: the consignor's
// address and contact.
type Pickup struct {
	Address string `db:"address"`
	Contact string `db:"contact_name"`
	Phone   string `db:"contact_phone"`
}

// Pickups returns, by manifest id, where the principal's carrier unit picks
// up each of the manifests. The registry does not show generators to a
// carrier, but a manifest naming the carrier shows it where to go: the
// address is read only through the carrier's own legs of manifests past the
// draft; other ids are left out.
func (s *Service) Pickups(ctx context.Context, p auth.Principal, ids []string) (map[string]Pickup, error) {
	out := map[string]Pickup{}
	if len(ids) == 0 || p.UnitID == "" {
		return out, nil
	}
	q, args, err := store.In(`SELECT m.id, u.address, u.contact_name, u.contact_phone FROM manifests m
		JOIN units u ON u.id = m.consignor_unit_id WHERE m.id IN (?) AND m.status <> 'draft' AND EXISTS (SELECT 1
		FROM manifest_carriers mc WHERE mc.manifest_id = m.id AND mc.carrier_unit_id = ?)`, ids, p.UnitID)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID string `db:"id"`
		Pickup
	}
	if err := store.Select(ctx, s.db.Reader(), &rows, q, args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Pickup
	}
	return out, nil
}
