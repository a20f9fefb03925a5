package paging

import (
	"strconv"
	"testing"

	"wufei/internal/errs"
)

func TestWalk(t *testing.T) {
	all := make([]string, 23)
	for i := range all {
		all[i] = strconv.Itoa(100 + i)
	}
	// query mimics "WHERE key > after ORDER BY key LIMIT limit+1".
	query := func(after string, limit int) []string {
		var out []string
		for _, k := range all {
			if k > after && len(out) < limit+1 {
				out = append(out, k)
			}
		}
		return out
	}
	var seen []string
	cursor := ""
	for range 10 {
		limit, after, err := Args(5, cursor)
		if err != nil {
			t.Fatal(err)
		}
		p := Of(query(after, limit), limit, func(s string) string { return s })
		seen = append(seen, p.Items...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("walked %d of %d", len(seen), len(all))
	}
	if l, _, _ := Args(0, ""); l != DefaultLimit {
		t.Fatal("default limit")
	}
	if l, _, _ := Args(10_000, ""); l != MaxLimit {
		t.Fatal("max limit")
	}
	for _, bad := range []string{"***", "__8", ""} {
		if _, _, err := Args(5, bad); bad != "" && errs.KindOf(err) != errs.Invalid {
			t.Fatalf("cursor %q: %v", bad, err)
		}
	}
	if p := Of[int](nil, 5, nil); p.Items == nil {
		t.Fatal("nil items must encode as []")
	}
}
