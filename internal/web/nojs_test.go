package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"wufei/internal/demo"
	"wufei/internal/store"
	"wufei/internal/store/storetest"
)

var (
	tbodyRE = regexp.MustCompile(`(?s)<tbody[^>]*>(.*?)</tbody>`)
	trRE    = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	itemRE  = regexp.MustCompile(`(?s)<li class="alert-item[^"]*"[^>]*>(.*?)</li>`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
	// What only a script would fill: content fetched on load or on
	// scrolling, or kept in a template for a script to copy.
	scriptedRE = regexp.MustCompile(`hx-trigger="[^"]*\b(load|revealed|intersect)\b|<template\b`)
)

// tableRows are the text of the rows in a page's table bodies, and of the
// items of the alert list, as the server sent them.
func tableRows(body string) []string {
	var rows []string
	add := func(h string) {
		text := html.UnescapeString(tagRE.ReplaceAllString(h, " "))
		rows = append(rows, strings.TrimSpace(spaceRE.ReplaceAllString(text, " ")))
	}
	for _, tb := range tbodyRE.FindAllStringSubmatch(body, -1) {
		for _, tr := range trRE.FindAllStringSubmatch(tb[1], -1) {
			add(tr[1])
		}
	}
	for _, li := range itemRE.FindAllStringSubmatch(body, -1) {
		add(li[1])
	}
	return rows
}

// naming counts the rows that name one of the values.
func naming(rows, values []string) int {
	n := 0
	for _, r := range rows {
		for _, v := range values {
			if v != "" && strings.Contains(r, v) {
				n++
				break
			}
		}
	}
	return n
}

// TestReadingWithoutScript fetches the main reading pages over plain HTTP,
// as a browser without JavaScript would, and finds each page's records in
// the tables the server rendered: every list names records of the
// database, and no content waits for a script to fetch it.
func TestReadingWithoutScript(t *testing.T) {
	db, _ := storetest.SQLite(t)
	f := startDemo(t, db)
	clients := map[string]*http.Client{"": f.client()}
	for _, user := range []string{"sthjj", "gen"} {
		c := f.client()
		p := f.do(t, c, "POST", "/login", url.Values{"username": {user}, "password": {demo.Password}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("log in %s: %d", user, p.status)
		}
		clients[user] = c
	}
	values := func(query string) []string {
		t.Helper()
		var vs []string
		if err := store.Select(context.Background(), db.Reader(), &vs, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return vs
	}

	for _, c := range []struct {
		user, path string
		values     string // the records' names or numbers
		min        int    // rows that must name one
		all        bool   // every row is a record
	}{
		{"sthjj", "/manifests", `SELECT number FROM manifests`, 10, true},
		{"sthjj", "/alerts", `SELECT title FROM alerts`, 1, true},
		{"sthjj", "/plans", `SELECT u.name FROM plans p JOIN units u ON u.id = p.unit_id`, 5, true},
		{"sthjj", "/approvals", `SELECT u.name FROM approvals a JOIN units u ON u.id = a.consignor_unit_id`, 1, false},
		{"sthjj", "/units", `SELECT name FROM units`, 20, true},
		{"sthjj", "/licences", `SELECT number FROM licences`, 2, true},
		{"sthjj", "/vehicles", `SELECT plate FROM vehicles`, 1, true},
		{"sthjj", "/catalog", `SELECT code FROM waste_codes`, 20, false}, // and the categories
		{"sthjj", "/indicators", `SELECT name FROM indicators`, 19, true},
		{"sthjj", "/tasks", `SELECT title FROM tasks`, 20, true},
		{"sthjj", "/cells", `SELECT name FROM cells`, 1, true},
		{"sthjj", "/streams/gisw_ledger", `SELECT u.name FROM gisw_ledgers l JOIN units u ON u.id = l.unit_id`, 5, true},
		{"sthjj", "/dashboard", `SELECT name FROM regions`, 4, false},
		{"gen", "/manifests", `SELECT number FROM manifests`, 1, true},
		{"gen", "/containers", `SELECT digital_id FROM containers`, 5, true},
		{"", "/public/facilities", `SELECT name FROM units`, 1, true},
		{"", "/public/indicators", `SELECT name FROM indicators`, 19, true},
		{"", "/public/cells", `SELECT name FROM cells WHERE status = 'certified'`, 1, true},
		{"", "/", `SELECT name FROM indicators`, 1, true},
	} {
		p := f.do(t, clients[c.user], "GET", c.path, nil)
		if p.status != http.StatusOK {
			t.Errorf("%s %s: status %d", c.user, c.path, p.status)
			continue
		}
		rows := tableRows(p.body)
		if n := naming(rows, values(c.values)); n < c.min || (c.all && n < len(rows)) {
			t.Errorf("%s %s: %d of %d table rows name a record, want at least %d (all: %v)", c.user, c.path, n, len(rows), c.min, c.all)
		}
		if m := scriptedRE.FindString(p.body); m != "" {
			t.Errorf("%s %s: content waits for a script: %s", c.user, c.path, m)
		}
	}

	// The dashboard: every chart's numbers are in its table, on the page.
	p := f.do(t, clients["sthjj"], "GET", "/dashboard", nil)
	charts := regexp.MustCompile(`(?s)<section class="card dash-chart[^"]*" id="chart-([a-z_]+)"(.*?)</section>`).FindAllStringSubmatch(p.body, -1)
	if len(charts) != 8 {
		t.Fatalf("%d charts on the dashboard, want 8", len(charts))
	}
	for _, ch := range charts {
		rows := tableRows(ch[2])
		nums := regexp.MustCompile(`<td class="num">[^<]*\d`).FindAllString(ch[2], -1)
		if len(rows) == 0 || len(nums) == 0 {
			t.Errorf("chart %s: %d rows, %d figures in its table", ch[1], len(rows), len(nums))
		}
	}
	if tiles := regexp.MustCompile(`(?s)<ul class="tiles dash-tiles" id="targets">(.*?)</ul>`).FindStringSubmatch(p.body); tiles == nil ||
		naming(strings.Split(tiles[1], "</li>"), values(`SELECT name FROM indicators`)) < 19 {
		t.Errorf("the dashboard's target tiles do not name the plan's 19 indicators")
	}
}
