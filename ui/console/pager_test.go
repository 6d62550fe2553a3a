package console

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"testing"
)

func TestReadCursor(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	onlyGood := func(s string) bool { return s == "good\x00cursor" }
	tests := []struct {
		name    string
		after   string
		valid   func(string) bool
		want    string
		refused bool
	}{
		{"first page", "", nil, "", false},
		{"a cursor", enc("user\x00bob"), nil, "user\x00bob", false},
		{"not base64url", "not+base64/", nil, "", true},
		{"padded", enc("ab") + "==", nil, "", true},
		{"a cursor the list takes", enc("good\x00cursor"), onlyGood, "good\x00cursor", false},
		{"a cursor the list refuses", enc("other"), onlyGood, "", true},
		{"no cursor, whatever the list takes", "", onlyGood, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readCursor(url.Values{"after": {tt.after}}, tt.valid)
			var pe *pageError
			switch {
			case tt.refused && !(errors.As(err, &pe) && pe.status == http.StatusBadRequest && pe.msg == "error.badForm"):
				t.Errorf("readCursor(%q) = %q, %v; want a bad form", tt.after, got, err)
			case !tt.refused && (err != nil || got != tt.want):
				t.Errorf("readCursor(%q) = %q, %v; want %q", tt.after, got, err, tt.want)
			}
		})
	}
}

func TestPageLinks(t *testing.T) {
	next := base64.RawURLEncoding.EncodeToString([]byte("n\x00xt"))
	tests := []struct {
		name        string
		path        string
		params      url.Values
		after, more string
		first, next string
	}{
		{"one page", "/admin/users", nil, "", "", "", ""},
		{"the first of several", "/admin/users", nil, "", "n\x00xt", "", "/admin/users?after=" + next},
		{"a middle page", "/admin/groups/sales", nil, "c", "n\x00xt", "/admin/groups/sales", "/admin/groups/sales?after=" + next},
		{"the last page", "/admin/groups/sales", nil, "c", "", "/admin/groups/sales", ""},
		{"filters kept", "/admin/audit", url.Values{"actor": {"boss"}, "action": {"user."}}, "c", "n\x00xt",
			"/admin/audit?action=user.&actor=boss", "/admin/audit?action=user.&actor=boss&after=" + next},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, nextURL := pageLinks(tt.path, tt.params, tt.after, tt.more)
			if first != tt.first || nextURL != tt.next {
				t.Errorf("pageLinks = %q, %q; want %q, %q", first, nextURL, tt.first, tt.next)
			}
			if tt.params != nil && tt.params.Has("after") {
				t.Error("pageLinks changed the filters it was given")
			}
		})
	}
}
