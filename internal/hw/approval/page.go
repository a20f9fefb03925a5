package approval

import (
	"encoding/base64"
	"unicode/utf8"

	"wufei/internal/errs"
	"wufei/internal/registry"
)

// pageArgs checks a page size and decodes a cursor (an id we encoded).
func pageArgs(limit int, cursor string) (int, string, error) {
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	if cursor == "" {
		return limit, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 || len(b) > 64 || !utf8.Valid(b) {
		return 0, "", errs.Field("cursor", "cursor_invalid", "分页游标无效")
	}
	return limit, string(b), nil
}

// paginate trims a limit+1 result to a page and sets the next cursor.
func paginate[T any](items []T, limit int, key func(T) string) registry.Page[T] {
	if items == nil {
		items = []T{}
	}
	p := registry.Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
	}
	return p
}
