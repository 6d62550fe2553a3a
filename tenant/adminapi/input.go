package adminapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// What a request may carry besides its path. As with a body's fields,
// anything a route does not read is refused rather than ignored: a
// misspelt filter (?acton=) would otherwise answer the whole audit trail
// as if it were the filtered one, a misspelt dry_run would import for
// real, and a body sent to an operation that takes none ({"permanent":
// true} to activate) would look taken into account.

// input is what a route reads besides its path: the query parameters it
// takes, and whether it takes a body.
type input struct {
	query []string
	body  bool
}

// auditQueryParameters are the filters and paging of both audit trails.
var auditQueryParameters = []string{"action", "actor", "target", "from", "to", "after", "limit"}

// routeInputs lists, by pattern, the routes that take query parameters or
// a body; every other route takes neither. docs/openapi.yaml documents
// the same (its parameters "in: query" and requestBody), and a test keeps
// the two in step.
var routeInputs = map[string]input{
	"POST /admin/v1/tenants":                             {body: true},
	"PATCH /admin/v1/tenants/{slug}":                     {body: true},
	"POST /admin/v1/tenants/{slug}/clients":              {body: true},
	"PATCH /admin/v1/tenants/{slug}/clients/{id}":        {body: true},
	"POST /admin/v1/tenants/{slug}/users":                {body: true},
	"GET /admin/v1/tenants/{slug}/users":                 {query: []string{"username", "email", "sub", "after", "limit"}},
	"PATCH /admin/v1/tenants/{slug}/users/{sub}":         {body: true},
	"POST /admin/v1/tenants/{slug}/users/{sub}/password": {body: true},
	"POST /admin/v1/tenants/{slug}/import":               {query: []string{"format", "dry_run"}, body: true},
	"POST /admin/v1/tenants/{slug}/groups":               {body: true},
	"PATCH /admin/v1/tenants/{slug}/groups/{name}":       {body: true},
	"GET /admin/v1/tenants/{slug}/groups/{name}/members": {query: []string{"after", "limit"}},
	"POST /admin/v1/tenants/{slug}/keys/rotate":          {body: true},
	"GET /admin/v1/tenants/{slug}/audit":                 {query: auditQueryParameters},
	"GET /admin/v1/audit":                                {query: auditQueryParameters},
}

// checkInput refuses, before fn runs, a request with query parameters or
// a body that the route with this pattern does not take.
func checkInput(pattern string, fn handlerFunc) handlerFunc {
	in := routeInputs[pattern]
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := in.checkQuery(r.URL.RawQuery); err != nil {
			return err
		}
		if !in.body {
			if err := refuseBody(r); err != nil {
				return err
			}
		}
		return fn(w, r)
	}
}

// checkQuery refuses a query that does not parse, a parameter the route
// does not take, one given more than once (which of two values was meant
// is a guess the API does not make, as with a field given twice in a
// body), and one given without a value (?action= or ?limit): read as not
// given, an empty filter would answer the whole audit trail, and an empty
// dry_run would import for real.
func (in input) checkQuery(raw string) error {
	if raw == "" {
		return nil
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		// r.URL.Query() would drop the pair it cannot read and go on.
		return badRequest("the query string is malformed: %s", queryProblem(err))
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // the same message for the same request
	for _, name := range names {
		switch {
		case !slices.Contains(in.query, name) && len(in.query) == 0:
			return badRequest("unknown query parameter %q; this operation takes no query parameters", name)
		case !slices.Contains(in.query, name):
			return badRequest("unknown query parameter %q; this operation takes %s", name, listed(in.query))
		case len(values[name]) > 1:
			return badRequest("query parameter %s is given %d times; give it once", name, len(values[name]))
		case values[name][0] == "":
			return badRequest("query parameter %s is empty; give it a value, or leave it out", name)
		}
	}
	return nil
}

// queryProblem says what url.ParseQuery could not read, and how to write
// it.
func queryProblem(err error) string {
	var escape url.EscapeError
	switch {
	case errors.As(err, &escape):
		return fmt.Sprintf("%q is not an escape; write %% in a value as %%25", string(escape))
	case strings.Contains(err.Error(), "semicolon"):
		return "parameters are separated by &, not by a semicolon (write one in a value as %3B)"
	}
	return err.Error()
}

// listed joins names as a sentence does: "a, b and c".
func listed(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// refuseBody refuses a body on an operation that takes none; an empty one,
// or one of whitespace alone (as an optional JSON body may be), is none.
func refuseBody(r *http.Request) error {
	if r.Body == nil {
		return nil
	}
	// No further than the limit of any body: a longer one is not empty.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badRequest("the request body could not be read")
	}
	if len(body) > maxBody || len(bytes.TrimLeft(body, " \t\r\n")) > 0 {
		return badRequest("this operation takes no request body, and would ignore what was sent; send the request without one")
	}
	return nil
}
