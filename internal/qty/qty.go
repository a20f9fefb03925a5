// Package qty converts quantities between the API's tonnes and storage's
// integer grams, so that no float is ever stored or summed.
package qty

import (
	"math"

	"wufei/internal/errs"
)

// MaxTonnes bounds a single quantity; it keeps grams well inside int64.
const MaxTonnes = 1e9

// Grams converts tonnes (at most 6 decimals, i.e. whole grams) to grams.
// field names the input for the error.
func Grams(field string, t float64) (int64, error) {
	if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 || t > MaxTonnes {
		return 0, errs.Field(field, "quantity_range", "数量须为 0 至 10 亿吨之间的数")
	}
	g := t * 1e6
	r := math.Round(g)
	if math.Abs(g-r) > 0.01 { // more than whole grams, beyond float noise
		return 0, errs.Field(field, "quantity_precision", "数量最多保留 6 位小数（克）")
	}
	return int64(r), nil
}

// Tonnes converts grams to tonnes for display and the API.
func Tonnes(g int64) float64 { return float64(g) / 1e6 }
