// Package trace answers "where did this waste come from and where did it
// go" (来源可查、去向可追) for a manifest number, a container's digital id or
// a ledger batch code: the whole chain from generation through storage and
// every signed manifest step to receipt and the method used, each step with
// the audit entry that records it and, on request, that entry's inclusion
// proof against the signed checkpoint.
package trace

import (
	"context"
	"regexp"
	"slices"
	"time"

	"wufei/internal/audit"
	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
	"wufei/internal/qty"
	"wufei/internal/store"
)

// Link is one link of the chain.
type Link struct {
	Kind      string       `json:"kind" doc:"generation、storage_in、storage_out、manifest.create、manifest.submit、manifest.pickup、manifest.receive、manifest.complete 等"`
	At        time.Time    `json:"at"`
	UnitID    string       `json:"unit_id"`
	Actor     string       `json:"actor,omitempty"`
	Ref       string       `json:"ref" doc:"批次编码、数字识别码或联单编号"`
	QuantityT *float64     `json:"quantity_t,omitempty"`
	AuditSeq  int64        `json:"audit_seq"`
	Proof     *audit.Proof `json:"proof,omitempty"`
}

// Party is a unit in the chain.
type Party struct {
	Role   string `json:"role" enum:"generator,consignor,carrier,receiver"`
	UnitID string `json:"unit_id"`
	Name   string `json:"name"`
}

// Trace is the chain behind a reference.
type Trace struct {
	Ref        string              `json:"ref"`
	RefKind    string              `json:"ref_kind" enum:"manifest,container,batch"`
	Parties    []Party             `json:"parties"`
	Manifests  []manifest.Manifest `json:"manifests"`
	Containers []string            `json:"containers"`
	Steps      []Link              `json:"steps"`
}

// Service builds traces.
type Service struct {
	db        *store.DB
	manifests *manifest.Service
	log       *audit.Log
}

// NewService returns a Service; log signs checkpoints for the proofs.
func NewService(db *store.DB, m *manifest.Service, log *audit.Log) *Service {
	return &Service{db: db, manifests: m, log: log}
}

var (
	numberRe    = regexp.MustCompile(`^[0-9]{14}$`)
	digitalIDRe = regexp.MustCompile(`^[0-9A-Z]{18}[0-9]{19}$`)
)

// Trace resolves ref and returns its chain in time order. A manifest must be
// visible to the principal; a container or batch must belong to its unit or
// travel on a manifest it may see (regulators: of their region).
func (s *Service) Trace(ctx context.Context, p auth.Principal, ref string, proofs bool) (Trace, error) {
	t := Trace{Ref: ref, Parties: []Party{}, Manifests: []manifest.Manifest{}, Containers: []string{}, Steps: []Link{}}
	q := s.db.Reader()
	var (
		manifestIDs []string
		found       *manifest.Manifest // the manifest the ref names, already read
	)
	switch {
	case numberRe.MatchString(ref):
		t.RefKind = "manifest"
		m, err := s.manifests.GetByNumber(ctx, p, ref)
		if err != nil {
			return t, err
		}
		manifestIDs, found = append(manifestIDs, m.ID), &m
		for _, l := range m.Lines {
			t.Containers = append(t.Containers, l.ContainerIDs...)
		}
	case digitalIDRe.MatchString(ref):
		t.RefKind, t.Containers = "container", []string{ref}
	default:
		t.RefKind = "batch"
		ids, err := ledger.BatchContainers(ctx, q, ref)
		if err != nil {
			return t, err
		}
		if len(ids) == 0 {
			return t, errs.E(errs.NotFound, "trace_not_found", "没有找到该联单编号、数字识别码或批次编码")
		}
		t.Containers = ids
	}
	visible := t.RefKind == "manifest"
	chains, err := ledger.ContainerChains(ctx, q, t.Containers)
	if err != nil {
		return t, err
	}
	// A record naming several containers (a batch generated, stored or
	// shipped together) is in each one's chain but is one step of the trace.
	recorded := map[int64]bool{}
	for _, id := range t.Containers {
		ch, ok := chains[id]
		if !ok {
			return t, errs.E(errs.NotFound, "container_not_found", "容器不存在或无权查看")
		}
		c := ch.Container
		if !visible && (c.UnitID == p.UnitID || seesRegion(p, c.RegionCode)) {
			visible = true
		}
		for _, st := range ch.Steps {
			if recorded[st.AuditSeq] {
				continue
			}
			recorded[st.AuditSeq] = true
			t.Steps = append(t.Steps, Link{Kind: st.Kind, At: st.At, UnitID: st.UnitID, Actor: st.Handler, Ref: st.Ref,
				QuantityT: tonnes(st.QuantityG), AuditSeq: st.AuditSeq})
		}
		if c.ManifestID != "" && !slices.Contains(manifestIDs, c.ManifestID) {
			manifestIDs = append(manifestIDs, c.ManifestID)
		}
		t.Parties = addParty(t.Parties, Party{Role: "generator", UnitID: c.UnitID})
	}
	for _, id := range manifestIDs {
		var m manifest.Manifest
		if found != nil && found.ID == id {
			m = *found
		} else if m, err = s.manifests.Get(ctx, p, id); errs.KindOf(err) == errs.NotFound && t.RefKind != "manifest" {
			continue // a container's later journey the principal may not see
		} else if err != nil {
			return t, err
		}
		visible = true
		t.Manifests = append(t.Manifests, m)
		t.Parties = addParty(t.Parties, Party{Role: "consignor", UnitID: m.ConsignorUnitID, Name: m.ConsignorName})
		for _, c := range m.Carriers {
			t.Parties = addParty(t.Parties, Party{Role: "carrier", UnitID: c.CarrierUnitID, Name: c.CarrierName})
		}
		t.Parties = addParty(t.Parties, Party{Role: "receiver", UnitID: m.ReceiverUnitID, Name: m.ReceiverName})
		for _, st := range m.Steps {
			t.Steps = append(t.Steps, Link{Kind: "manifest." + st.Action, At: st.At, UnitID: st.ActorUnitID,
				Actor: st.ActorUsername, Ref: m.Number, AuditSeq: st.AuditSeq})
		}
	}
	if !visible {
		return Trace{}, errs.E(errs.NotFound, "trace_not_found", "没有找到该联单编号、数字识别码或批次编码")
	}
	if err := nameParties(ctx, q, t.Parties); err != nil {
		return t, err
	}
	slices.SortStableFunc(t.Steps, func(a, b Link) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return int(a.AuditSeq - b.AuditSeq)
	})
	if proofs {
		for i := range t.Steps {
			pr, err := s.log.Entry(ctx, t.Steps[i].AuditSeq)
			if err != nil {
				return t, err
			}
			t.Steps[i].Proof = &pr
		}
	}
	return t, nil
}

// nameParties fills the names the chain did not carry: from another role
// of the same unit (a generator is most often the manifest's consignor),
// else in one query.
func nameParties(ctx context.Context, q store.Querier, ps []Party) error {
	known := map[string]string{}
	for _, p := range ps {
		if p.Name != "" {
			known[p.UnitID] = p.Name
		}
	}
	var ids []string
	for i, p := range ps {
		if p.Name == "" {
			if ps[i].Name = known[p.UnitID]; ps[i].Name == "" {
				ids = append(ids, p.UnitID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	query, args, err := store.In(`SELECT id, name FROM units WHERE id IN (?)`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := store.Select(ctx, q, &rows, query, args...); err != nil {
		return err
	}
	names := map[string]string{}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	for i := range ps {
		if ps[i].Name == "" {
			ps[i].Name = names[ps[i].UnitID]
		}
	}
	return nil
}

func seesRegion(p auth.Principal, region string) bool {
	return p.SeesAllRegions() || (p.Role == auth.Regulator && p.RegionCode == region)
}

func addParty(ps []Party, p Party) []Party {
	for _, x := range ps {
		if x.Role == p.Role && x.UnitID == p.UnitID {
			return ps
		}
	}
	return append(ps, p)
}

func tonnes(g int64) *float64 {
	if g == 0 {
		return nil
	}
	t := qty.Tonnes(g)
	return &t
}
