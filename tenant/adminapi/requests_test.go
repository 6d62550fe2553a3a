package adminapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// A username and an email address are both names to sign in with, and
// sign-in looks a name up as a username first: so neither may be the other
// kind of name of another user. The refusal is a conflict, which names the
// value sent and nothing of the other user.
func TestSignInNamesStayApart(t *testing.T) {
	f := newFixture(t) // ann, with ann@example.com
	documented := documentedStatuses(t)
	const (
		users = "/admin/v1/tenants/{slug}/users"
		user  = users + "/{sub}"
	)
	steps := []struct {
		name          string
		method, route string // the operation in the document
		path, body    string
		status        int
		want          []string
	}{
		{"a username that is ann's address", "post", users, "/admin/v1/tenants/acme/users", `{"username":"Ann@Example.com"}`,
			409, []string{`"error":"already_exists"`, `username \"Ann@Example.com\" is the email address of another user`}},
		{"a username that is an address nobody has", "post", users, "/admin/v1/tenants/acme/users", `{"username":"bob@example.com"}`, 201, nil},
		{"ann's address becoming bob's username", "patch", user, "/admin/v1/tenants/acme/users/{sub}", `{"email":"BOB@example.com"}`,
			409, []string{`"error":"already_exists"`, `email address \"BOB@example.com\" is the username of another user`}},
		{"a new user with bob's username as address", "post", users, "/admin/v1/tenants/acme/users", `{"username":"carol","email":"bob@EXAMPLE.com"}`,
			409, []string{`email address \"bob@EXAMPLE.com\" is the username of another user`}},
		{"a new user with ann's username as address", "post", users, "/admin/v1/tenants/acme/users", `{"username":"dave","email":"ann@dave.example"}`, 201, nil},
		{"ann's address in other capitals", "patch", user, "/admin/v1/tenants/acme/users/{sub}", `{"email":"ANN@example.com","enabled":false}`,
			200, []string{`"email":"ANN@example.com"`, `"enabled":false`}},
		{"ann moves to another address", "patch", user, "/admin/v1/tenants/acme/users/{sub}", `{"email":"ann@acme.example"}`, 200, nil},
		{"her old address is free as a username", "post", users, "/admin/v1/tenants/acme/users", `{"username":"ann@example.com"}`, 201, nil},
	}
	for _, st := range steps {
		rec := f.do(t, strings.ToUpper(st.method), st.path, st.body, bearer)
		body := rec.Body.String()
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d: %s", st.name, rec.Code, st.status, body)
		}
		if !documented(st.method, st.route)[strconv.Itoa(rec.Code)] {
			t.Errorf("%s: %s %s answers %d, which the document does not list", st.name, st.method, st.route, rec.Code)
		}
		for _, w := range st.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: body lacks %s: %s", st.name, w, body)
			}
		}
		if rec.Code == http.StatusConflict && (strings.Contains(body, f.sub) || strings.Contains(body, `"ann"`)) {
			t.Errorf("%s: the refusal names the other user: %s", st.name, body)
		}
	}
	// Each signs in with the name that is theirs.
	err := f.svc.Store.View(t.Context(), func(tx tenant.Tx) error {
		for login, username := range map[string]string{"ann@acme.example": "ann", "bob@example.com": "bob@example.com", "ann@example.com": "ann@example.com"} {
			u, err := tenant.FindUser(tx, "acme", login)
			if err != nil || u.Username != username {
				t.Errorf("FindUser(%q) = %q, %v; want %q", login, u.Username, err, username)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A 405 lists the methods the path has in Allow, and HEAD with GET: the
// router answers HEAD wherever it answers GET.
func TestMethodNotAllowedListsHead(t *testing.T) {
	tests := []struct {
		method, path, allow string
	}{
		{"PUT", "/admin/v1/tenants/acme", "GET, HEAD, PATCH, DELETE"},
		{"DELETE", "/admin/v1/tenants", "GET, HEAD, POST"},
		{"PATCH", "/admin/v1/tenants/acme/users/{sub}/mfa", "GET, HEAD"},
		{"GET", "/admin/v1/tenants/acme/keys/rotate", "POST"},
		{"HEAD", "/admin/v1/tenants/acme/users/{sub}/password", "POST"},
		{"POST", "/admin/v1/tenants/acme/groups/ops/members/{sub}", "PUT, DELETE"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, tc.method, tc.path, "", bearer)
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tc.allow {
				t.Errorf("%d, Allow %q, want 405 and %q", rec.Code, rec.Header().Get("Allow"), tc.allow)
			}
			for method := range strings.SplitSeq(rec.Header().Get("Allow"), ", ") {
				if got := f.do(t, method, tc.path, "", bearer); got.Code == http.StatusMethodNotAllowed {
					t.Errorf("%s is in Allow but answers 405", method)
				}
			}
		})
	}
}

// Every operation that answers 413 to a body over the limit lists 413 in
// docs/openapi.yaml, and every operation the document gives a body does
// answer so; the rest ignore a body. (The import's limit is 512 MiB, which
// its own tests stop short of.)
func TestOpenAPIListsTooLarge(t *testing.T) {
	documented := documentedStatuses(t)
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	adminapi.ReadOpenAPI(t, &doc)
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	fill := strings.NewReplacer("{slug}", "acme", "{id}", "{client}", "{name}", "admins")
	for route, ops := range doc.Paths {
		if strings.HasSuffix(route, "/import") {
			continue
		}
		for method, node := range ops {
			if method == "parameters" {
				continue
			}
			t.Run(method+" "+route, func(t *testing.T) {
				var op struct {
					RequestBody map[string]any `yaml:"requestBody"`
				}
				if err := node.Decode(&op); err != nil {
					t.Fatal(err)
				}
				f := newFixture(t)
				rec := f.do(t, strings.ToUpper(method), fill.Replace(route), big, bearer)
				takesBody := op.RequestBody != nil
				switch {
				case rec.Code == http.StatusRequestEntityTooLarge && !documented(method, route)["413"]:
					t.Errorf("answers 413, which the document does not list")
				case rec.Code != http.StatusRequestEntityTooLarge && takesBody:
					t.Errorf("the document gives it a body, but a body over 1 MiB is answered %d: %s", rec.Code, rec.Body)
				case rec.Code == http.StatusRequestEntityTooLarge && !takesBody:
					t.Errorf("the document gives it no body, but it reads one")
				}
			})
		}
	}
}
