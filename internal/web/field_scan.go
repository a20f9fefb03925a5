package web

import (
	"net/http"
	"slices"
	"strings"

	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/hw/manifest"
)

// maxChecked bounds the digital ids one check form carries (a manifest's
// lines hold at most a few hundred containers).
const maxChecked = 999

// digitalIDOf reads a digital id as typed or scanned: the id itself, or the
// address a label's QR code holds (…/l/{digital id}). Letters of the credit
// code are upper case; a phone keyboard may not type them so.
func digitalIDOf(s string) (string, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "/l/"); i >= 0 {
		s = s[i+len("/l/"):]
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
	}
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return "", errs.Field("digital_id", "required", "请扫描或输入容器的数字识别码")
	}
	if _, err := ledger.ParseDigitalID("digital_id", s); err != nil {
		return "", err
	}
	return s, nil
}

// scanBox is one container of a line and whether it has been checked.
type scanBox struct {
	ID      string
	Checked bool
}

// scanLine is one waste line with its containers.
type scanLine struct {
	manifest.Line
	FormKey string
	Boxes   []scanBox
	Done    int
}

// manifestScan is a manifest being checked container by container, at
// pickup by its carrier or on arrival by its receiver.
type manifestScan struct {
	Kind    string // pickup or arrival
	M       manifest.Manifest
	Lines   []scanLine
	Checked []string // the digital ids checked so far, in the order checked
	Total   int      // containers on the manifest
	Done    int      // of them checked
	Uncoded int      // packages on lines that list no container
	Address string
	Contact string
	Phone   string
	Last    string // the id just checked
	LastNo  int    // its line
	Again   bool   // it had been checked before
	Typed   string // what was typed, when it was refused
	Problem string // message key of what the check found wrong
	Err     formError
}

// newManifestScan lays out m's containers, with those already checked
// (as carried by the form) ticked. Ids not on the manifest are dropped.
func newManifestScan(kind string, m manifest.Manifest, checked []string) manifestScan {
	d := manifestScan{Kind: kind, M: m}
	on := map[string]bool{}
	for _, l := range m.Lines {
		sl := scanLine{Line: l, FormKey: optionLabel(physicalForms, l.Form)}
		for _, id := range l.ContainerIDs {
			sl.Boxes = append(sl.Boxes, scanBox{ID: id})
			on[id] = true
		}
		if len(l.ContainerIDs) == 0 {
			d.Uncoded += l.PackageCount
		}
		d.Total += len(l.ContainerIDs)
		d.Lines = append(d.Lines, sl)
	}
	for _, id := range checked {
		id = strings.TrimSpace(id)
		if on[id] && !slices.Contains(d.Checked, id) && len(d.Checked) < maxChecked {
			d.Checked = append(d.Checked, id)
		}
	}
	d.tick()
	return d
}

// tick marks the checked containers and counts them.
func (d *manifestScan) tick() {
	d.Done = 0
	for i := range d.Lines {
		l := &d.Lines[i]
		l.Done = 0
		for j := range l.Boxes {
			l.Boxes[j].Checked = slices.Contains(d.Checked, l.Boxes[j].ID)
			if l.Boxes[j].Checked {
				l.Done++
			}
		}
		d.Done += l.Done
	}
}

// check checks one typed or scanned id against the manifest's lines and
// returns the status the page answers with.
func (d *manifestScan) check(typed string) int {
	id, err := digitalIDOf(typed)
	if err != nil {
		d.Typed = typed
		fe, status, _ := userError(err)
		d.Err = fe
		return status
	}
	for _, l := range d.Lines {
		for _, b := range l.Boxes {
			if b.ID != id {
				continue
			}
			d.Last, d.LastNo, d.Again = id, l.LineNo, b.Checked
			if !b.Checked {
				d.Checked = append(d.Checked, id)
				d.tick()
			}
			return http.StatusOK
		}
	}
	d.Typed, d.Problem = id, "field.not_on_manifest"
	return http.StatusUnprocessableEntity
}

// Complete reports whether every container has been checked.
func (d manifestScan) Complete() bool { return d.Done == d.Total }
