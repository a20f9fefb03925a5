package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/matching"
	"wufei/internal/hw/trace"
)

type traceLink struct {
	trace.Link
	Key, When, Unit string
}

type traceParty struct {
	trace.Party
	RoleKey string
}

type traceData struct {
	Ref     string
	Err     formError
	Found   bool
	Trace   trace.Trace
	Parties []traceParty
	Steps   []traceLink
}

// tracePage finds the chain behind a manifest number, a container's digital
// id or a batch code and shows it as a timeline.
func (s *server) tracePage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d := traceData{Ref: strings.TrimSpace(r.URL.Query().Get("ref"))}
	status := http.StatusOK
	if d.Ref != "" {
		t, err := s.Trace.Trace(r.Context(), p, d.Ref, false)
		switch k := errs.KindOf(err); {
		case err == nil:
			d.Found, d.Trace = true, t
		case k == errs.NotFound || k == errs.Invalid:
			// Not found is an answer to a search, shown beside the box.
			var e *errs.Error
			d.Err.Message = "没有找到该联单编号、数字识别码或批次编码"
			if errors.As(err, &e) && e.Message != "" {
				d.Err.Message = e.Message
			}
			status = statusOf(k)
		default:
			s.fail(w, r, err)
			return
		}
	}
	names := map[string]string{}
	for _, pt := range d.Trace.Parties {
		names[pt.UnitID] = pt.Name
		d.Parties = append(d.Parties, traceParty{Party: pt, RoleKey: partyKeys[pt.Role]})
	}
	for _, l := range d.Trace.Steps {
		d.Steps = append(d.Steps, traceLink{Link: l, Key: stepKeys[strings.TrimPrefix(l.Kind, "manifest.")], When: minute(l.At),
			Unit: names[l.UnitID]})
	}
	s.page(w, r, status, "trace", "content", s.view(r, "trace", d))
}

type candidateRow struct {
	matching.Candidate
	Distance string // kilometres, one decimal
}

type matchingData struct {
	WasteCode, QuantityT string
	Err                  formError
	Searched             bool
	Items                []candidateRow
	Use                  bool // the caller may raise a manifest
}

// matchingPage ranks the licensed receivers for a waste, each with a link
// that starts a manifest to it.
func (s *server) matchingPage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := r.URL.Query()
	d := matchingData{WasteCode: strings.TrimSpace(q.Get("waste_code")), QuantityT: strings.TrimSpace(q.Get("quantity_t"))}
	status := http.StatusOK
	if d.WasteCode != "" {
		d.Searched = true
		var v errs.Validation
		qt := parseTonnes(&v, "quantity_t", d.QuantityT)
		err := v.Err()
		if err == nil {
			var t float64
			if qt != nil {
				t = *qt
			}
			var cs []matching.Candidate
			cs, err = s.Matching.Match(r.Context(), p, matching.Query{WasteCode: d.WasteCode, QuantityT: t})
			for _, c := range cs {
				row := candidateRow{Candidate: c}
				if c.DistanceKM != nil {
					row.Distance = strconv.FormatFloat(*c.DistanceKM, 'f', 1, 64)
				}
				d.Items = append(d.Items, row)
			}
		}
		if err != nil {
			fe, code, ok := userError(err)
			if !ok {
				s.fail(w, r, err)
				return
			}
			d.Err, status = fe, code
		}
	}
	var err error
	if d.Use, err = s.consignor(r, p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.page(w, r, status, "matching", "content", s.view(r, "manifests", d))
}

// UseLink starts a manifest to a receiver with the searched waste.
func (d matchingData) UseLink(receiver string) string {
	v := url.Values{"receiver": {receiver}, "waste_code": {d.WasteCode}}
	if d.QuantityT != "" {
		if _, err := strconv.ParseFloat(d.QuantityT, 64); err == nil {
			v.Set("quantity_t", d.QuantityT)
		}
	}
	return "/manifests/new?" + v.Encode()
}
