package label

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
)

// DPI is the resolution of the PNG label.
const DPI = 300

var palette = color.Palette{
	color.RGBA{0xff, 0x99, 0x00, 0xff}, // ground
	color.Black,
	color.White,
	color.RGBA{0xcc, 0x00, 0x00, 0xff}, // hazard marks
}

const (
	ground uint8 = iota
	ink
	paper
	red
)

// PNG writes the label as a PNG at 300 dpi in its regulated size. Its text
// is the bitmap font's: the heading in English, the waste code, category,
// form, hazard letters, date, weight and digital id, with the QR code and
// hazard marks; the Chinese fields are in the SVG.
func PNG(w io.Writer, l Label) error {
	img, err := Image(l)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}

// Image draws the label at 300 dpi.
func Image(l Label) (*image.Paletted, error) {
	qc, err := code(l.URL)
	if err != nil {
		return nil, fmt.Errorf("label: qr: %w", err)
	}
	mm, _ := Size(l.VolumeL)
	side := int(math.Round(float64(mm) / 25.4 * DPI))
	img := image.NewPaletted(image.Rect(0, 0, side, side), palette)
	u := float64(side) / 100 // one layout unit: a hundredth of the side
	at := func(v float64) int { return int(math.Round(v * u)) }

	// Border 1 mm wide, 1 mm in, at every size.
	mmPx := float64(DPI) / 25.4
	b0, b1 := int(math.Round(mmPx)), int(math.Round(2*mmPx))
	fill(img, image.Rect(b0, b0, side-b0, b1), ink)
	fill(img, image.Rect(b0, side-b1, side-b0, side-b0), ink)
	fill(img, image.Rect(b0, b0, b1, side-b0), ink)
	fill(img, image.Rect(side-b1, b0, side-b0, side-b0), ink)

	heading := "HAZARDOUS WASTE"
	sh := min(at(88)/(len(heading)*(glyphW+1)), at(9)/glyphH)
	hw := len(heading)*(glyphW+1)*sh - sh
	text(img, (side-hw)/2, at(4.5), sh, heading, ink)
	fill(img, image.Rect(at(5), at(15), at(95), at(15)+max(1, at(0.4))), ink)

	// Body text at the regulated minimum height or just above it.
	s := int(math.Ceil(MinTextMM(mm) * mmPx / glyphH))
	adv := (glyphH + 2) * s
	y := at(18)
	hazards := strings.Join(l.Characteristics, "/")
	for _, line := range []string{l.WasteCode, strings.TrimSpace(l.Category + " FORM " + l.Form), "HAZ " + hazards,
		"DATE " + dateOf(l.GeneratedAt), "WT " + ascii(weight(l.QuantityG))} {
		text(img, at(5), y, s, line, ink)
		y += adv
	}
	// Hazard marks: diamonds with their letters.
	// They share the text column's 50 units.
	d := at(12)
	if n := len(l.Characteristics); n > 0 {
		d = min(d, (at(50)-(n-1)*at(0.5))/n)
	}
	for i, c := range l.Characteristics {
		x := at(5) + i*(d+at(0.5))
		diamond(img, x, y, d, max(2, at(0.8)))
		ls := max(1, min(s, d/2/(len(c)*(glyphW+1)))) // two letters (In) shrink to fit
		tw := len(c)*(glyphW+1)*ls - ls
		text(img, x+(d-tw)/2, y+(d-glyphH*ls)/2, ls, c, ink)
	}
	if len(l.Characteristics) > 0 {
		y += d
	}

	// The QR code in a white square with its quiet zone.
	q := at(38)
	qx, qy := at(95)-q, at(18)
	fill(img, image.Rect(qx, qy, qx+q, qy+q), paper)
	m := q / (qc.Size + 8)
	off := (q - m*qc.Size) / 2
	for r := 0; r < qc.Size; r++ {
		for c := 0; c < qc.Size; c++ {
			if qc.Black(c, r) {
				fill(img, image.Rect(qx+off+c*m, qy+off+r*m, qx+off+(c+1)*m, qy+off+(r+1)*m), ink)
			}
		}
	}

	// The digital id in its segments: the unit, then code, date and sequence.
	y = max(y, qy+q) + at(3)
	lines := []string{"DIGITAL ID"}
	if id := l.DigitalID; len(id) == 37 {
		lines = append(lines, id[:18], id[18:26]+" "+id[26:34]+" "+id[34:])
	} else {
		lines = append(lines, id)
	}
	if p := ascii(l.ContactPhone); p != "" && !strings.Contains(p, "?") {
		lines = append(lines, "TEL "+p)
	}
	for _, line := range lines {
		if y+glyphH*s > side-b1-at(1) {
			break
		}
		text(img, at(5), y, s, line, ink)
		y += adv
	}
	return img, nil
}

// ascii keeps what the bitmap font can draw.
func ascii(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			b.WriteRune('?')
		}
	}
	return strings.TrimSpace(b.String())
}

func fill(img *image.Paletted, r image.Rectangle, c uint8) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = c
		}
	}
}

// text draws s at (x, y), its top left, each font pixel s × s; it returns
// the width drawn.
func text(img *image.Paletted, x, y, scale int, s string, c uint8) int {
	cx := x
	for _, r := range s {
		g := glyph(r)
		for gy, row := range g {
			for gx := 0; gx < glyphW; gx++ {
				if row[gx] == '#' {
					fill(img, image.Rect(cx+gx*scale, y+gy*scale, cx+(gx+1)*scale, y+(gy+1)*scale), c)
				}
			}
		}
		cx += (glyphW + 1) * scale
	}
	return cx - x
}

// diamond draws a white square standing on its corner, size d, with a red
// edge t wide.
func diamond(img *image.Paletted, x, y, d, t int) {
	h := float64(d) / 2
	for py := 0; py < d; py++ {
		for px := 0; px < d; px++ {
			dist := math.Abs(float64(px)+0.5-h) + math.Abs(float64(py)+0.5-h)
			switch {
			case dist > h:
				continue
			case dist > h-float64(t):
				img.SetColorIndex(x+px, y+py, red)
			default:
				img.SetColorIndex(x+px, y+py, paper)
			}
		}
	}
}
