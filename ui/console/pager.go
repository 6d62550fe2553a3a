package console

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
)

// A list too long for one page (the users, a group's members, the audit
// trail) goes on from the service's cursor, which the page's links carry
// in "after", base64url-encoded: the cursor is the service's and may hold
// any byte.

// readCursor is the cursor of the list page in's "after" asks for; "" for
// the first page. A cursor that does not decode, or that valid (when not
// nil) refuses, came from no page of the console: it is refused as a bad
// form.
func readCursor(in url.Values, valid func(string) bool) (string, error) {
	raw := in.Get("after")
	if raw == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err == nil && valid != nil && !valid(string(b)) {
		err = errors.New("not a cursor of this list")
	}
	if err != nil {
		return "", &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: err}
	}
	return string(b), nil
}

// pageLinks are a list page's links at path, with the list's filters
// params: first to the first page when this one (after) is not it, next
// on from the service's cursor when there is more; "" for a link the page
// does not have.
func pageLinks(path string, params url.Values, after, next string) (first, nextURL string) {
	withQuery := func(v url.Values) string {
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if after != "" {
		first = withQuery(params)
	}
	if next != "" {
		v := url.Values{}
		for k, vs := range params {
			v[k] = vs
		}
		v.Set("after", base64.RawURLEncoding.EncodeToString([]byte(next)))
		nextURL = withQuery(v)
	}
	return first, nextURL
}
