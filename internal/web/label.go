package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"wufei/internal/auth"
	"wufei/internal/errs"
	"wufei/internal/hw/label"
	"wufei/internal/hw/ledger"
)

// containerStatusKeys and wasteFormKeys name the messages for container
// statuses and physical forms.
var (
	containerStatusKeys = map[string]string{
		ledger.StatusGenerated: "container_status.generated", ledger.StatusStored: "container_status.stored",
		ledger.StatusWithdrawn: "container_status.withdrawn", ledger.StatusShipped: "container_status.shipped",
		ledger.StatusReceived: "container_status.received", ledger.StatusTreated: "container_status.treated",
		ledger.StatusCancelled: "container_status.cancelled",
	}
	wasteFormKeys = map[string]string{"S": "form.solid", "SS": "form.semi_solid", "L": "form.liquid", "G": "form.gas"}
)

type labelData struct {
	Facts     ledger.LabelFacts
	StatusKey string
	FormKey   string
	SizeMM    int
	Copies    int
	Manifest  string // link to the manifest, for its parties
	Own       bool   // the visitor's unit holds it: label downloads
	SVG       string
	PNG       string
}

// labelPage is what a label's QR code opens: the facts on the label, to
// anyone, and to a party of the manifest the container is on, the manifest.
func (s *server) labelPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("digital_id")
	f, err := s.Ledger.PublicFacts(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := labelData{Facts: f, StatusKey: containerStatusKeys[f.Status], FormKey: wasteFormKeys[f.Form]}
	d.SizeMM, d.Copies = label.Size(f.VolumeL)
	if p, ok := auth.FromContext(ctx); ok {
		party, err := s.Ledger.ManifestParty(ctx, p, f.ManifestID)
		if err != nil { // the page still shows the label
			slog.ErrorContext(ctx, "web: manifest party", "manifest", f.ManifestID, "err", err)
		}
		if party {
			d.Manifest = "/manifests/" + f.ManifestID
		}
		if p.UnitID == f.UnitID {
			d.Own = true
			base := "/api/v1/containers/" + f.DigitalID + "/label"
			d.SVG, d.PNG = base+".svg", base+".png"
		}
	}
	s.page(w, r, http.StatusOK, "label", "content", s.view(r, "", d))
}

// maxSheetLabels bounds the labels on one printed sheet request.
const maxSheetLabels = 100

type sheetLabel struct {
	Facts     ledger.LabelFacts
	StatusKey string
	SizeMM    int
	Copies    []int
	SVG       template.HTML
}

type sheetData struct {
	Nonce  string
	Labels []sheetLabel
}

// labelsSheet is a printable A4 sheet of the unit's labels at their
// regulated sizes, two for a container over 450 L: those named in ids,
// else the unit's containers not yet stored or shipped.
func (s *server) labelsSheet(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	if p.UnitID == "" {
		s.fail(w, r, errs.E(errs.Forbidden, "forbidden", "只有单位账号才能打印本单位的标签"))
		return
	}
	var ids []string
	for _, v := range r.URL.Query()["ids"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > maxSheetLabels {
		s.fail(w, r, errs.Field("ids", "too_many", "一次最多打印 100 个容器的标签"))
		return
	}
	if len(ids) == 0 {
		page, err := s.Ledger.ListContainers(ctx, p, ledger.ContainerFilter{UnitID: p.UnitID, Status: ledger.StatusGenerated, Limit: 24})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, c := range page.Items {
			ids = append(ids, c.DigitalID)
		}
	}
	// The sheet's print styles and button are inline, allowed by this
	// response's nonce only.
	d := sheetData{Nonce: nonceCSP(w, true)}
	base := label.BaseOf(r)
	for _, id := range ids {
		f, err := s.Ledger.Facts(ctx, p, id)
		if err == nil && f.UnitID != p.UnitID {
			err = errs.E(errs.Forbidden, "forbidden", "只能打印本单位容器的标签")
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		svg, err := label.SVGElement(f.Label(base))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		mm, n := label.Size(f.VolumeL)
		d.Labels = append(d.Labels, sheetLabel{Facts: f, StatusKey: containerStatusKeys[f.Status], SizeMM: mm,
			Copies: make([]int, n), SVG: template.HTML(svg)}) // our own SVG, every text escaped
	}
	s.render(w, r, http.StatusOK, "labels_sheet", "sheet", s.view(r, "", d))
}
