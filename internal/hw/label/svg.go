package label

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"

	"rsc.io/qr"
)

// The SVG is laid out on a 100 × 100 grid and scaled to the label's size,
// so every size keeps the same layout. A body text of 3.5 units is 3.5, 5.25
// and 7 mm high at 100, 150 and 200 mm: at least the regulated 3, 5 and 6 mm.
const (
	fontSize   = 3.5
	lineHeight = 4.4
	edge       = 5.0  // content starts 3 mm inside the 1 mm border
	colRight   = 70.0 // the text column's right edge beside the marks and QR code
	firstLine  = 19.2 // first baseline, below the heading
	lastLine   = 94.0 // no baseline below this
	qrLeft     = 73.0
	qrSide     = 22.0
)

const fontFamily = `Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, SimHei, sans-serif`

// orange is the label's ground: HJ 1276 asks for a conspicuous orange-yellow.
const orange = "#ff9900"

// row is one field of the label: its caption, its value and the lines the
// value wraps to.
type row struct {
	caption, value string
	width          float64 // the room for caption and value
	mono           bool
	lines          []string
}

// SVG writes the label as a standalone SVG document sized in millimetres.
// All text stays text, in Chinese, so the viewer's fonts draw it; styling
// is by attributes only, so the SVG also works inline under a strict CSP.
func SVG(w io.Writer, l Label) error {
	b, err := svgBytes(l, true)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// SVGElement is the label as an <svg> element to place inside an HTML page.
func SVGElement(l Label) ([]byte, error) { return svgBytes(l, false) }

func svgBytes(l Label, standalone bool) ([]byte, error) {
	qc, err := code(l.URL)
	if err != nil {
		return nil, fmt.Errorf("label: qr: %w", err)
	}
	mm, _ := Size(l.VolumeL)
	var b bytes.Buffer
	if standalone {
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%dmm" height="%dmm" viewBox="0 0 100 100" font-family="%s" role="img" aria-label="%s">`,
		mm, mm, fontFamily, esc("危险废物标签 "+l.DigitalID))
	b.WriteString("\n")
	fmt.Fprintf(&b, `<rect width="100" height="100" fill="%s"/>`+"\n", orange)
	b.WriteString(`<rect x="1.5" y="1.5" width="97" height="97" fill="none" stroke="#000" stroke-width="1"/>` + "\n")
	b.WriteString(`<text x="50" y="12.6" font-size="8" font-weight="700" text-anchor="middle" letter-spacing="2">危险废物</text>` + "\n")
	b.WriteString(`<line x1="5" y1="15" x2="95" y2="15" stroke="#000" stroke-width="0.4"/>` + "\n")

	hazards := make([]string, len(l.Characteristics))
	for i, c := range l.Characteristics {
		hazards[i] = HazardName(c)
	}
	text := colRight - edge
	upper := []*row{
		{caption: "废物名称：", value: l.Name, width: text},
		{caption: "废物类别：", value: l.Category, width: text},
		{caption: "废物代码：", value: l.WasteCode, width: text},
		{caption: "废物形态：", value: FormName(l.Form), width: text},
		{caption: "危险特性：", value: strings.Join(hazards, "、"), width: text},
		{caption: "主要成分：", value: l.Components, width: text},
		{caption: "有害成分：", value: l.HazardousComponents, width: text},
		{caption: "注意事项：", value: l.Precautions, width: text},
	}
	id := &row{caption: "数字识别码：", value: l.DigitalID, width: 100 - 2*edge, mono: true}
	lower := []*row{
		{caption: "产生/收集单位：", value: l.UnitName, width: text},
		{caption: "联系人：", value: l.ContactName, width: text},
		{caption: "联系方式：", value: l.ContactPhone, width: text},
		{caption: "产生日期：", value: dateOf(l.GeneratedAt), width: text},
		{caption: "废物重量：", value: weight(l.QuantityG), width: text},
		{caption: "备注：", value: l.Remark, width: text},
	}
	all := append(append([]*row{}, upper...), lower...)
	// Each field gets a line; spare lines go to the fields most often long.
	capacity := int((lastLine-firstLine)/lineHeight) + 1 - 2 // two for the digital id
	need := make([]int, len(all))
	used := 0
	for i, r := range all {
		need[i] = len(wrap(r.value, r.valueWidth(), 0))
		used++
	}
	got := make([]int, len(all))
	for i := range got {
		got[i] = 1
	}
	for _, i := range []int{len(upper), 0, 7, 5, 6, len(all) - 1, 4} { // unit, name, precautions, components…
		for got[i] < need[i] && used < capacity {
			got[i]++
			used++
		}
	}
	for i, r := range all {
		r.lines = wrap(r.value, r.valueWidth(), got[i])
	}

	y := firstLine
	for _, r := range upper {
		y = r.draw(&b, edge, y)
	}
	upperBottom := y - lineHeight
	marks(&b, l.Characteristics, firstLine-fontSize, upperBottom+1)
	fmt.Fprintf(&b, `<text x="%g" y="%.2f" font-size="%g" font-weight="700">%s</text>`+"\n", edge, y, fontSize, esc(id.caption))
	y += lineHeight
	fmt.Fprintf(&b, `<text x="%g" y="%.2f" font-size="%g" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" textLength="%g" lengthAdjust="spacingAndGlyphs">%s</text>`+"\n",
		edge, y, fontSize, min(float64(len(l.DigitalID))*fontSize*0.6, 100-2*edge), esc(l.DigitalID))
	y += lineHeight
	qrTop := y - fontSize
	for _, r := range lower {
		y = r.draw(&b, edge, y)
	}
	side := min(qrSide, 96-qrTop)
	drawQR(&b, qc, qrLeft, qrTop, side)
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// valueWidth is the room for a row's value after its caption.
func (r *row) valueWidth() float64 { return r.width - textWidth(r.caption) }

// draw writes a row from baseline y and returns the next baseline; lines
// after the first hang under the value.
func (r *row) draw(b *bytes.Buffer, x, y float64) float64 {
	vx := x + textWidth(r.caption)
	fmt.Fprintf(b, `<text x="%g" y="%.2f" font-size="%g"><tspan font-weight="700">%s</tspan>`, x, y, fontSize, esc(r.caption))
	for i, line := range r.lines {
		if i == 0 {
			fmt.Fprintf(b, `<tspan>%s</tspan>`, esc(line))
			continue
		}
		fmt.Fprintf(b, `<tspan x="%.2f" dy="%g">%s</tspan>`, vx, lineHeight, esc(line))
	}
	b.WriteString("</text>\n")
	return y + lineHeight*float64(max(1, len(r.lines)))
}

// marks draws a diamond for each hazard characteristic, in the manner of
// the GHS pictograms, with its letter and name, two to a row between top
// and bottom in the right-hand column.
func marks(b *bytes.Buffer, cs []string, top, bottom float64) {
	if len(cs) == 0 {
		return
	}
	rows := (len(cs) + 1) / 2
	cell := min(15.0, (bottom-top)/float64(rows))
	caption := cell >= 13
	d := cell - 1
	if caption {
		d = cell - fontSize - 1.5
	}
	colW := (100 - edge - qrLeft) / 2
	for i, c := range cs {
		cx := qrLeft + colW*float64(i%2) + colW/2
		cy := top + cell*float64(i/2) + d/2
		h := d / 2
		fmt.Fprintf(b, `<polygon points="%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f" fill="#fff" stroke="#c00" stroke-width="0.7"/>`,
			cx, cy-h, cx+h, cy, cx, cy+h, cx-h, cy)
		fmt.Fprintf(b, `<text x="%.2f" y="%.2f" font-size="%.2f" font-weight="700" text-anchor="middle">%s</text>`,
			cx, cy+d*0.14, d*0.4, esc(c))
		if caption {
			fmt.Fprintf(b, `<text x="%.2f" y="%.2f" font-size="%g" text-anchor="middle">%s</text>`, cx, cy+h+fontSize+0.3,
				fontSize, esc(HazardName(c)))
		}
		b.WriteString("\n")
	}
}

// drawQR draws the QR code with its quiet zone in a white square, one path
// of horizontal runs of dark modules.
func drawQR(b *bytes.Buffer, c *qr.Code, x, y, side float64) {
	n := c.Size
	m := side / float64(n+8)
	fmt.Fprintf(b, `<rect x="%g" y="%.2f" width="%.2f" height="%.2f" fill="#fff"/>`+"\n", x, y, side, side)
	fmt.Fprintf(b, `<path transform="translate(%.3f %.3f) scale(%.4f)" fill="#000" shape-rendering="crispEdges" d="`, x+4*m, y+4*m, m)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if !c.Black(col, row) {
				col++
				continue
			}
			run := 0
			for col+run < n && c.Black(col+run, row) {
				run++
			}
			fmt.Fprintf(b, "M%d %dh%dv1h-%dz", col, row, run, run)
			col += run
		}
	}
	b.WriteString(`"/>` + "\n")
}

// textWidth estimates the width of s at the body size: CJK and full-width
// characters are an em wide, others about 0.6 em.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w * fontSize
}

func runeWidth(r rune) float64 {
	if r >= 0x2e80 || (r >= 0x3000 && r <= 0x303f) {
		return 1
	}
	return 0.6
}

// wrap breaks s into lines no wider than width; with max > 0 it keeps at
// most max lines, ending the last with an ellipsis when text is cut. An
// empty value is one empty line, left for writing in by hand.
func wrap(s string, width float64, max int) []string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return []string{""}
	}
	var lines []string
	var cur []rune
	w := 0.0
	for _, r := range s {
		rw := runeWidth(r) * fontSize
		if w+rw > width && len(cur) > 0 && !strings.ContainsRune(noBreakBefore, r) {
			lines = append(lines, string(cur))
			cur, w = nil, 0
			if r == ' ' {
				continue
			}
		}
		cur = append(cur, r)
		w += rw
	}
	lines = append(lines, string(cur))
	if max > 0 && len(lines) > max {
		last := []rune(lines[max-1])
		for len(last) > 0 && textWidth(string(last))+fontSize > width {
			last = last[:len(last)-1]
		}
		lines = append(lines[:max-1], string(last)+"…")
	}
	return lines
}

// noBreakBefore are the characters a line may not start with (禁则): closing
// brackets and punctuation stay with the text before them.
const noBreakBefore = "）)】」』》，。、；：！？,.;:!?…%"

func esc(s string) string { return html.EscapeString(s) }
