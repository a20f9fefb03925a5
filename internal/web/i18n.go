package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Languages the UI speaks; the first is the default.
var languages = []string{"zh-CN", "en"}

//go:embed i18n/*.json
var i18nFS embed.FS

// langCookie holds the language chosen with the switch.
const langCookie = "lang"

// messages maps a message key to its text in one language.
type messages map[string]string

func loadMessages() (map[string]messages, error) {
	out := map[string]messages{}
	for _, l := range languages {
		b, err := i18nFS.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, err
		}
		var c messages
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("web: i18n/%s.json: %w", l, err)
		}
		out[l] = c
	}
	return out, nil
}

// t returns the text for key, formatted with args when given. A missing key
// shows as itself, so that it is seen rather than silently blank.
func (c messages) t(key string, args ...any) string {
	s, ok := c[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// requestLang picks the language: the one chosen with the switch, else
// Chinese. The browser's Accept-Language is not followed: officials' browsers
// are often set to English, and the regulated names and forms are Chinese.
func requestLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(languages, c.Value) {
		return c.Value
	}
	return languages[0]
}
