package qty

import "testing"

func TestGrams(t *testing.T) {
	for _, c := range []struct {
		t    float64
		g    int64
		fail bool
	}{
		{1, 1_000_000, false},
		{0.000001, 1, false},
		{20000, 20_000_000_000, false},
		{12.345678, 12_345_678, false},
		{0.1 + 0.2, 300_000, false},
		{0.0000001, 0, true},
		{-1, 0, true},
		{2e9, 0, true},
	} {
		g, err := Grams("q", c.t)
		if (err != nil) != c.fail || g != c.g {
			t.Errorf("Grams(%v) = %d, %v; want %d, fail=%v", c.t, g, err, c.g, c.fail)
		}
	}
	if Tonnes(1_500_000) != 1.5 {
		t.Fatal("Tonnes")
	}
}
