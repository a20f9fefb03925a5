// Package label draws the HJ 1276-2022 危险废物标签 of a container: the
// regulated fields, hazard marks and a QR code that opens the container's
// page, as SVG (all text, in Chinese, for printing and the web) or as PNG
// at 300 dpi. It renders only; the ledger supplies the facts.
package label

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"wufei/internal/calendar"

	"rsc.io/qr"
)

// Label is what a container's label shows.
type Label struct {
	DigitalID           string
	Name                string // 废物名称
	Category            string // 废物类别, HWxx
	WasteCode           string // 废物代码, ddd-ddd-dd
	Form                string // S, SS, L, G
	Characteristics     []string
	Components          string // 主要成分
	HazardousComponents string // 有害成分
	Precautions         string // 注意事项
	UnitName            string // 产生/收集单位
	ContactName         string
	ContactPhone        string
	GeneratedAt         time.Time
	QuantityG           int64
	Remark              string
	VolumeL             float64 // decides the size
	URL                 string  // the QR code's payload
}

// Size is the regulated label size for a container of volumeL litres
// (HJ 1276: ≤50 L 100×100 mm, up to 450 L 150×150 mm, from 450 L 200×200 mm)
// and how many labels it carries: containers over 450 L get one on each of
// two opposite sides.
func Size(volumeL float64) (mm, copies int) {
	switch {
	case volumeL <= 50:
		return 100, 1
	case volumeL < 450:
		return 150, 1
	case volumeL == 450:
		return 200, 1
	}
	return 200, 2
}

// MinTextMM is the minimum text height for a label of size mm.
func MinTextMM(mm int) float64 {
	switch {
	case mm >= 200:
		return 6
	case mm >= 150:
		return 5
	}
	return 3
}

// URL is the address a label's QR code opens: base + /l/{digital id}.
func URL(base, digitalID string) string {
	return strings.TrimRight(base, "/") + "/l/" + digitalID
}

var hostRe = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// Base is the site's address as a request reached it: its host, and https
// when the connection or the proxy in front says so. A malformed host gives
// localhost rather than a QR code pointing anywhere.
func Base(host string, tls bool, forwardedProto string) string {
	scheme := "http"
	if tls || strings.EqualFold(strings.TrimSpace(forwardedProto), "https") {
		scheme = "https"
	}
	if !hostRe.MatchString(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// BaseOf is Base for an HTTP request.
func BaseOf(r *http.Request) string {
	return Base(r.Host, r.TLS != nil, r.Header.Get("X-Forwarded-Proto"))
}

// formNames are the physical forms as the label prints them.
var formNames = map[string]string{"S": "固态", "SS": "半固态", "L": "液态", "G": "气态"}

// FormName is a form's Chinese name.
func FormName(f string) string {
	if n, ok := formNames[f]; ok {
		return n
	}
	return f
}

// hazardNames are the hazard characteristics as the label prints them.
var hazardNames = map[string]string{"T": "毒性", "C": "腐蚀性", "I": "易燃性", "R": "反应性", "In": "感染性"}

// HazardName is a characteristic's Chinese name.
func HazardName(c string) string {
	if n, ok := hazardNames[c]; ok {
		return n
	}
	return c
}

// code encodes the QR payload; medium error correction survives a
// scuffed drum.
func code(url string) (*qr.Code, error) { return qr.Encode(url, qr.M) }

func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.Zone).Format(time.DateOnly)
}

// weight formats grams as the label's weight in tonnes or kilograms.
func weight(g int64) string {
	if g <= 0 {
		return ""
	}
	if g < 1_000_000 {
		return trimFloat(float64(g)/1000) + " kg"
	}
	return trimFloat(float64(g)/1e6) + " t"
}

func trimFloat(f float64) string {
	s := strings.TrimRight(strings.TrimRight(strconv.FormatFloat(f, 'f', 3, 64), "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}
