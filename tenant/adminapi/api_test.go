package adminapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
	"github.com/cognate-idp/cognate/tenant/password"
)

const testToken = "test-operator-token-0123456789"

// fixture is a real service over a bbolt file, seeded with tenant acme, a
// confidential and a public client, and user ann.
type fixture struct {
	handler  http.Handler
	svc      *tenant.Service
	clientID string // confidential
	publicID string
	sub      string // ann
	changed  []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "cognate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	// Cheap argon2id: the tests are about the API, not the hash.
	hasher, err := password.NewHasher(password.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	f.svc = &tenant.Service{
		Store: store, Hasher: hasher, Logger: logger, Now: time.Now,
		Changed: func(_ context.Context, id string) { f.changed = append(f.changed, id) },
	}
	api := &adminapi.API{Service: f.svc, Logger: logger, TokenHash: sha256.Sum256([]byte(testToken))}
	f.handler = api.Handler()

	ctx := t.Context()
	// ES256 keys are generated in microseconds; RSA would slow every case.
	es256 := "ES256"
	if _, err := f.svc.CreateTenant(ctx, tenant.NewTenant{
		Slug: "acme", Name: "Acme BV",
		Settings: tenant.SettingsChange{SigningAlg: &es256}.Apply(tenant.Settings{}),
	}); err != nil {
		t.Fatal(err)
	}
	c, _, err := f.svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "planner", RedirectURIs: []string{"https://planner.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := f.svc.CreateClient(ctx, "acme", tenant.NewClient{Name: "spa", Public: true, RedirectURIs: []string{"http://localhost:3000/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.CreateUser(ctx, "acme", tenant.NewUser{Username: "ann", Email: "ann@example.com", EmailVerified: true, Password: "Corr3ct-horse"})
	if err != nil {
		t.Fatal(err)
	}
	f.clientID, f.publicID, f.sub = c.ID, p.ID, u.Sub
	f.changed = nil
	return f
}

// path fills in the seeded IDs.
func (f *fixture) path(p string) string {
	return strings.NewReplacer("{client}", f.clientID, "{public}", f.publicID, "{sub}", f.sub).Replace(p)
}

func (f *fixture) do(t *testing.T, method, path, body, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, f.path(path), strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

const bearer = "Bearer " + testToken

// TestEndpoints drives every endpoint through its success and its bad input.
// Each case gets a fresh store, so cases are independent of each other.
func TestEndpoints(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		auth   string // empty means the right token
		status int
		code   string   // the "error" field of an error response
		want   []string // substrings of the body
		reject []string // substrings the body must not have
	}{
		// Authentication and routing.
		{name: "no token", method: "GET", path: "/admin/v1/tenants", auth: "-", status: 401, code: "unauthorized"},
		{name: "wrong token", method: "GET", path: "/admin/v1/tenants", auth: "Bearer nope", status: 401, code: "unauthorized"},
		{name: "token as basic auth", method: "GET", path: "/admin/v1/tenants", auth: "Basic " + testToken, status: 401, code: "unauthorized"},
		{name: "lower-case scheme", method: "GET", path: "/admin/v1/tenants", auth: "bearer " + testToken, status: 200},
		{name: "unknown endpoint without token", method: "GET", path: "/admin/v1/nope", auth: "-", status: 401, code: "unauthorized"},
		{name: "unknown endpoint", method: "GET", path: "/admin/v1/nope", status: 404, code: "not_found"},
		{name: "wrong method", method: "PUT", path: "/admin/v1/tenants/acme", status: 405, code: "method_not_allowed", want: []string{"GET, HEAD, PATCH, DELETE"}},

		// Tenants.
		{name: "create tenant", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex","name":"Globex","settings":{"signing_alg":"ES256","locale":"nl"}}`,
			status: 201, want: []string{`"slug":"globex"`, `"locale":"nl"`, `"minimum_length":8`, `"lock_duration_seconds":900`}},
		{name: "create tenant reserved slug", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"auth"}`,
			status: 400, code: "invalid_request", want: []string{"reserved"}},
		{name: "create tenant with a name of spaces", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex","name":"  "}`,
			status: 400, code: "invalid_request", want: []string{"the name must be 1 to 128 characters"}},
		{name: "create tenant invalid slug", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"Acme!"}`,
			status: 400, code: "invalid_request", want: []string{"lowercase letters"}},
		{name: "create tenant duplicate", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"acme","settings":{"signing_alg":"ES256"}}`,
			status: 409, code: "already_exists"},
		{name: "create tenant bad settings", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex","settings":{"locale":"fr","mfa":{"mode":"SOMETIMES"}}}`,
			status: 400, code: "invalid_request", want: []string{`language \"fr\"`, "MFA mode"}},
		{name: "create tenant unknown field", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex","colour":"red"}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"colour\"`}},
		{name: "create tenant wrong type", method: "POST", path: "/admin/v1/tenants", body: `{"slug":5}`,
			status: 400, code: "invalid_request", want: []string{`field \"slug\" must be a string`}},
		{name: "create tenant malformed JSON", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex",}`,
			status: 400, code: "invalid_request", want: []string{"not valid JSON"}},
		{name: "create tenant with a byte order mark", method: "POST", path: "/admin/v1/tenants", body: "\ufeff" + `{"slug":"globex"}`,
			status: 400, code: "invalid_request", want: []string{"starts with a UTF-8 byte order mark (BOM)", "send the JSON without it"}},
		{name: "update tenant with a byte order mark", method: "PATCH", path: "/admin/v1/tenants/acme", body: "\ufeff" + `{"name":"Acme"}`,
			status: 400, code: "invalid_request", want: []string{"starts with a UTF-8 byte order mark (BOM)"}},
		{name: "rotate a key with a byte order mark", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: "\ufeff{}",
			status: 400, code: "invalid_request", want: []string{"starts with a UTF-8 byte order mark (BOM)"}},
		{name: "create tenant truncated JSON", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"glo`,
			status: 400, code: "invalid_request", want: []string{"ends in the middle"}},
		{name: "create tenant trailing data", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex"} {"slug":"initech"}`,
			status: 400, code: "invalid_request", want: []string{"single JSON object"}},
		{name: "create tenant empty body", method: "POST", path: "/admin/v1/tenants",
			status: 400, code: "invalid_request", want: []string{"empty"}},
		{name: "create tenant array body", method: "POST", path: "/admin/v1/tenants", body: `[]`,
			status: 400, code: "invalid_request", want: []string{"must be a JSON object"}},
		{name: "create tenant null body", method: "POST", path: "/admin/v1/tenants", body: `null`,
			status: 400, code: "invalid_request", want: []string{"must be a JSON object"}},
		{name: "create tenant string body", method: "POST", path: "/admin/v1/tenants", body: ` "globex" `,
			status: 400, code: "invalid_request", want: []string{"must be a JSON object"}},
		{name: "create tenant slug twice", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"alpha","slug":"beta"}`,
			status: 400, code: "invalid_request", want: []string{`field \"slug\" is given twice`}},
		{name: "create tenant slug twice, once escaped", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"alpha","\u0073lug":"beta"}`,
			status: 400, code: "invalid_request", want: []string{`field \"slug\" is given twice`}},
		{name: "create tenant setting twice, deep down", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","settings":{"lockout":{"max_failures":3,"lock_duration_seconds":600,"max_failures":50}}}`,
			status: 400, code: "invalid_request", want: []string{`field \"settings.lockout.max_failures\" is given twice`}},
		{name: "create tenant field in another case", method: "POST", path: "/admin/v1/tenants", body: `{"Slug":"globex"}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"Slug\" in the request body: field names are case-sensitive (\"slug\")`}},
		{name: "create tenant setting in another case, deep down", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","settings":{"lockout":{"MAX_FAILURES":3}}}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"settings.lockout.MAX_FAILURES\" in the request body: field names are case-sensitive (\"max_failures\")`}},
		{name: "create tenant name not UTF-8", method: "POST", path: "/admin/v1/tenants", body: "{\"slug\":\"globex\",\"name\":\"Acme \xff\xfe\"}",
			status: 400, code: "invalid_request", want: []string{"not UTF-8 (RFC 8259 §8.1): byte 30 is not part of a UTF-8 character"}},
		{name: "create tenant name in UTF-8", method: "POST", path: "/admin/v1/tenants", body: `{"slug":"globex","name":"Société Générale 東京","settings":{"signing_alg":"ES256"}}`,
			status: 201, want: []string{`"name":"Société Générale 東京"`}},
		{name: "create tenant with another's name, spelled otherwise", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","name":" ACME\u00a0 bv","settings":{"signing_alg":"ES256"}}`,
			status: 409, code: "already_exists", want: []string{`another organization has this name: tenant \"acme\" is called \"Acme BV\"`}},
		{name: "create tenant name with a right-to-left override", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","name":"Evil\u202eCorp","settings":{"signing_alg":"ES256"}}`,
			status: 400, code: "invalid_request", want: []string{"may not contain U+202E"}},
		{name: "create tenant name of a zero-width space", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","name":"\u200b","settings":{"signing_alg":"ES256"}}`,
			status: 400, code: "invalid_request", want: []string{"may not contain U+200B"}},
		{name: "create tenant oversized body", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","name":"` + strings.Repeat("x", 1<<20) + `"}`,
			status: 413, code: "request_too_large"},
		{name: "list tenants", method: "GET", path: "/admin/v1/tenants", status: 200, want: []string{`"tenants":[{"slug":"acme"`}},
		{name: "get tenant", method: "GET", path: "/admin/v1/tenants/acme", status: 200, want: []string{`"name":"Acme BV"`, `"signing_alg":"ES256"`}},
		{name: "get unknown tenant", method: "GET", path: "/admin/v1/tenants/nope", status: 404, code: "not_found", want: []string{`tenant \"nope\" does not exist`}},
		{name: "rename tenant", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"name":"Acme Holding"}`,
			status: 200, want: []string{`"name":"Acme Holding"`, `"signing_alg":"ES256"`}},
		{name: "change tenant settings", method: "PATCH", path: "/admin/v1/tenants/acme",
			body:   `{"settings":{"password_policy":{"minimum_length":12,"require_numbers":false},"mfa":{"mode":"OPTIONAL","factors":["TOTP"]}}}`,
			status: 200, want: []string{`"minimum_length":12`, `"require_uppercase":true`, `"require_numbers":false`, `"mode":"OPTIONAL"`, `"factors":["TOTP"]`, `"locale":"en"`}},
		// A password policy changes field by field: the fields left out keep
		// their values, on creation Cognito's defaults.
		{name: "change the password history alone", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"settings":{"password_policy":{"history_size":3}}}`,
			status: 200, want: []string{`"password_policy":{"minimum_length":8,"require_uppercase":true,"require_lowercase":true,"require_numbers":true,"require_symbols":true,"history_size":3}`}},
		{name: "change nothing of the password policy", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"settings":{"password_policy":{}}}`,
			status: 200, want: []string{`"password_policy":{"minimum_length":8,"require_uppercase":true,"require_lowercase":true,"require_numbers":true,"require_symbols":true,"history_size":0}`}},
		{name: "a minimum length of 0", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"settings":{"password_policy":{"minimum_length":0}}}`,
			status: 400, code: "invalid_request", want: []string{"minimum length 0 is outside 6..99"}},
		{name: "a password policy of zeros", method: "PATCH", path: "/admin/v1/tenants/acme",
			body:   `{"settings":{"password_policy":{"minimum_length":0,"require_uppercase":false,"require_lowercase":false,"require_numbers":false,"require_symbols":false,"history_size":0}}}`,
			status: 400, code: "invalid_request", want: []string{"minimum length 0 is outside 6..99"}},
		{name: "create tenant with part of a password policy", method: "POST", path: "/admin/v1/tenants",
			body:   `{"slug":"globex","settings":{"signing_alg":"ES256","password_policy":{"minimum_length":12,"require_symbols":false}}}`,
			status: 201, want: []string{`"password_policy":{"minimum_length":12,"require_uppercase":true,"require_lowercase":true,"require_numbers":true,"require_symbols":false,"history_size":0}`}},
		{name: "change a tenant with null", method: "PATCH", path: "/admin/v1/tenants/acme", body: `null`,
			status: 400, code: "invalid_request", want: []string{"must be a JSON object"}},
		{name: "change tenant bad settings", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"settings":{"password_policy":{"minimum_length":3}}}`,
			status: 400, code: "invalid_request", want: []string{"minimum length 3"}},
		{name: "change tenant repeated MFA factors", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"settings":{"mfa":{"mode":"ON","factors":["TOTP","TOTP"]}}}`,
			status: 400, code: "invalid_request", want: []string{`MFA factor \"TOTP\" is given twice`}},
		{name: "change tenant empty name", method: "PATCH", path: "/admin/v1/tenants/acme", body: `{"name":" "}`,
			status: 400, code: "invalid_request", want: []string{"1 to 128"}},
		{name: "change unknown tenant", method: "PATCH", path: "/admin/v1/tenants/nope", body: `{"name":"x"}`, status: 404, code: "not_found"},
		{name: "delete tenant", method: "DELETE", path: "/admin/v1/tenants/acme", status: 204},
		{name: "delete unknown tenant", method: "DELETE", path: "/admin/v1/tenants/nope", status: 404, code: "not_found"},
		{name: "rotate key", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", status: 200, want: []string{`"kid":`, `"alg":"ES256"`}},
		{name: "rotate key with overlap", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `{"overlap_seconds":0}`, status: 200, want: []string{`"kid":`}},
		{name: "rotate key bad overlap", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `{"overlap_seconds":-1}`,
			status: 400, code: "invalid_request", want: []string{"overlap_seconds"}},
		{name: "rotate key with null", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `null`,
			status: 400, code: "invalid_request", want: []string{"must be a JSON object"}},
		{name: "rotate key with white space", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: " \n", status: 200, want: []string{`"kid":`}},
		{name: "rotate key unknown tenant", method: "POST", path: "/admin/v1/tenants/nope/keys/rotate", status: 404, code: "not_found"},
		{name: "rotate key retiring the previous", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `{"retire_previous":true}`,
			status: 200, want: []string{`"kid":`}, reject: []string{"retire_at"}},
		{name: "rotate key retiring the previous, no overlap", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `{"retire_previous":true,"overlap_seconds":0}`,
			status: 200, want: []string{`"kid":`}},
		{name: "rotate key retiring the previous after an overlap", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `{"retire_previous":true,"overlap_seconds":60}`,
			status: 400, code: "invalid_request", want: []string{"retire_previous makes a key that signs at once"}},
		{name: "rotate key retiring the previous, not a boolean", method: "POST", path: "/admin/v1/tenants/acme/keys/rotate", body: `{"retire_previous":"yes"}`,
			status: 400, code: "invalid_request"},

		// Clients.
		{name: "create client", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"name":"planner2","redirect_uris":["https://planner.example.com/callback"],"scopes":["openid","email"]}`,
			status: 201, want: []string{`"client_secret":"`, `"public":false`, `"scopes":["openid","email"]`, `"access_token_ttl_seconds":3600`}},
		{name: "create public client", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"name":"spa2","public":true,"redirect_uris":["http://localhost:5173/cb"]}`,
			status: 201, want: []string{`"public":true`}, reject: []string{"client_secret"}},
		{name: "create machine client", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"name":"batch","grant_types":["client_credentials"],"scopes":["reports/read"]}`,
			status: 201, want: []string{`"grant_types":["client_credentials"]`, `"redirect_uris":[]`}},
		{name: "create client invalid", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"public":true,"grant_types":["client_credentials"],"redirect_uris":["http://example.com/cb"]}`,
			status: 400, code: "invalid_request", want: []string{"needs a name", "public client cannot use client_credentials", "must use https"}},
		{name: "create client short TTL", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"name":"x","redirect_uris":["https://x.example.com/cb"],"access_token_ttl_seconds":60}`,
			status: 400, code: "invalid_request", want: []string{"access token lifetime"}},
		{name: "create client unknown tenant", method: "POST", path: "/admin/v1/tenants/nope/clients",
			body: `{"name":"x","redirect_uris":["https://x.example.com/cb"]}`, status: 404, code: "not_found"},
		{name: "create client with scopes that break RFC 6749", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"name":"weird","grant_types":["client_credentials"],"scopes":["x\"y","a\u0001","b\\c","é"]}`,
			status: 400, code: "invalid_request", want: []string{`scope \"x\\\"y\" is refused`, `scope \"a\\x01\" is refused`,
				`scope \"b\\\\c\" is refused`, `scope \"é\" is refused`, "printable ASCII, without spaces, quotes or backslashes"}},
		{name: "create client with a scope twice", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body:   `{"name":"batch","grant_types":["client_credentials","client_credentials"],"scopes":["reports/read","reports/read"]}`,
			status: 400, code: "invalid_request", want: []string{`scope \"reports/read\" is given twice`, `grant type \"client_credentials\" is given twice`}},
		{name: "create client redirect URI not a string", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body: `{"name":"x","redirect_uris":["https://x.example.com/cb",1]}`, status: 400, code: "invalid_request",
			want: []string{`the items of field \"redirect_uris\" must be strings`}},
		{name: "create client unknown field", method: "POST", path: "/admin/v1/tenants/acme/clients",
			body: `{"name":"x","redirect_uri":"https://x.example.com/cb"}`, status: 400, code: "invalid_request", want: []string{"redirect_uri"}},
		{name: "list clients", method: "GET", path: "/admin/v1/tenants/acme/clients", status: 200, want: []string{`"client_id":"{client}"`, `"client_id":"{public}"`}},
		{name: "list clients unknown tenant", method: "GET", path: "/admin/v1/tenants/nope/clients", status: 404, code: "not_found"},
		{name: "get client", method: "GET", path: "/admin/v1/tenants/acme/clients/{client}", status: 200,
			want: []string{`"name":"planner"`, `"redirect_uris":["https://planner.example.com/cb"]`}, reject: []string{"client_secret"}},
		{name: "get unknown client", method: "GET", path: "/admin/v1/tenants/acme/clients/nope", status: 404, code: "not_found",
			want: []string{`tenant \"acme\" has no client \"nope\"`}},
		{name: "get client of unknown tenant", method: "GET", path: "/admin/v1/tenants/nope/clients/{client}", status: 404, code: "not_found"},
		{name: "delete client", method: "DELETE", path: "/admin/v1/tenants/acme/clients/{client}", status: 204},
		{name: "delete unknown client", method: "DELETE", path: "/admin/v1/tenants/acme/clients/nope", status: 404, code: "not_found"},
		{name: "rotate client secret", method: "POST", path: "/admin/v1/tenants/acme/clients/{client}/secret", status: 200,
			want: []string{`"client_id":"{client}"`, `"client_secret":"`}},
		{name: "rotate public client secret", method: "POST", path: "/admin/v1/tenants/acme/clients/{public}/secret",
			status: 400, code: "invalid_request", want: []string{"public"}},
		{name: "rotate unknown client secret", method: "POST", path: "/admin/v1/tenants/acme/clients/nope/secret", status: 404, code: "not_found"},

		// Users.
		{name: "create user", method: "POST", path: "/admin/v1/tenants/acme/users",
			body:   `{"username":"bob","email":"bob@example.com","attributes":{"given_name":"Bob","custom:team":"ops"},"password":"Sup3r-secret","temporary":true}`,
			status: 201, want: []string{`"username":"bob"`, `"status":"FORCE_CHANGE_PASSWORD"`, `"custom:team":"ops"`, `"temp_password_expires_at":`}},
		{name: "create user without password", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"carol"}`,
			status: 201, want: []string{`"status":"UNCONFIRMED"`, `"attributes":{}`, `"groups":[]`}},
		{name: "create user duplicate", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"ANN"}`,
			status: 409, code: "already_exists", want: []string{"username"}},
		{name: "create user weak password", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"bob","password":"short"}`,
			status: 400, code: "invalid_request", want: []string{"does not meet the policy", "too short"}},
		{name: "create user bad username", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"bob smith"}`,
			status: 400, code: "invalid_request", want: []string{"spaces"}},
		{name: "create user with an address that cannot be mailed", method: "POST", path: "/admin/v1/tenants/acme/users",
			body:   `{"username":"bob","email":"a(comment)@example.com","invite":true}`,
			status: 400, code: "invalid_request", want: []string{`\"a(comment)@example.com\" is not an email address`}},
		{name: "create user bad attribute", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"bob","attributes":{"team":"ops"}}`,
			status: 400, code: "invalid_request", want: []string{"custom:"}},
		{name: "create user temporary without password", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"bob","temporary":true}`,
			status: 400, code: "invalid_request"},
		{name: "create user verified without an address", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"bob","email_verified":true}`,
			status: 400, code: "invalid_request", want: []string{"a user without an email address cannot have a verified one"}},
		{name: "create user attribute not a string", method: "POST", path: "/admin/v1/tenants/acme/users",
			body:   `{"username":"bob","attributes":{"given_name":"Bob","custom:x":1,"custom:a":true}}`,
			status: 400, code: "invalid_request", want: []string{`the values in field \"attributes\" must be strings: \"custom:a\", \"custom:x\"`}},
		{name: "create user username twice", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"bob","email":"bob@example.com","username":"eve"}`,
			status: 400, code: "invalid_request", want: []string{`field \"username\" is given twice`}},
		// Sign-in looks a name up as a username first, then as an email
		// address: the two kinds of name may not cross between users.
		{name: "create user named as another's email", method: "POST", path: "/admin/v1/tenants/acme/users", body: `{"username":"ANN@example.com"}`,
			status: 409, code: "already_exists", want: []string{`username \"ANN@example.com\" is the email address of another user`}, reject: []string{"{sub}", `\"ann\"`}},
		{name: "create user with another's username as email", method: "POST", path: "/admin/v1/tenants/acme/users",
			body: `{"username":"bob","email":"ann@example.com"}`, status: 201, want: []string{`"email":"ann@example.com"`}},
		{name: "create user named as own email", method: "POST", path: "/admin/v1/tenants/acme/users",
			body: `{"username":"bob@example.com","email":"Bob@Example.com","email_verified":true}`, status: 201, want: []string{`"username":"bob@example.com"`, `"email_verified":true`}},
		{name: "create user unknown tenant", method: "POST", path: "/admin/v1/tenants/nope/users", body: `{"username":"bob"}`, status: 404, code: "not_found"},
		{name: "list users", method: "GET", path: "/admin/v1/tenants/acme/users", status: 200, want: []string{`"users":[{"sub":"{sub}"`}, reject: []string{`"next"`}},
		{name: "list users bad limit", method: "GET", path: "/admin/v1/tenants/acme/users?limit=0", status: 400, code: "invalid_request", want: []string{"limit"}},
		{name: "list users limit not a number", method: "GET", path: "/admin/v1/tenants/acme/users?limit=ten", status: 400, code: "invalid_request"},
		{name: "list users with an unknown parameter", method: "GET", path: "/admin/v1/tenants/acme/users?bogus=1", status: 400, code: "invalid_request",
			want: []string{`unknown query parameter \"bogus\"; this operation takes username, email, sub, after and limit`}},
		{name: "list users unknown tenant", method: "GET", path: "/admin/v1/tenants/nope/users", status: 404, code: "not_found"},
		{name: "find user by username", method: "GET", path: "/admin/v1/tenants/acme/users?username=Ann", status: 200, want: []string{`"sub":"{sub}"`}},
		{name: "find user by email", method: "GET", path: "/admin/v1/tenants/acme/users?email=ANN@example.com", status: 200, want: []string{`"sub":"{sub}"`}},
		{name: "find no user", method: "GET", path: "/admin/v1/tenants/acme/users?username=zed", status: 200, want: []string{`"users":[]`}},
		{name: "find user with paging", method: "GET", path: "/admin/v1/tenants/acme/users?username=ann&limit=5", status: 400, code: "invalid_request",
			want: []string{"a search by username or sub finds one user at most; it takes no after or limit"}},
		{name: "find user by sub with a cursor", method: "GET", path: "/admin/v1/tenants/acme/users?sub={sub}&after=a", status: 400, code: "invalid_request",
			want: []string{"a search by username or sub finds one user at most"}},
		{name: "find users by email a page at a time", method: "GET", path: "/admin/v1/tenants/acme/users?email=ann@example.com&limit=1", status: 200,
			want: []string{`"sub":"{sub}"`}, reject: []string{`"next"`}},
		{name: "find users by email with a bad limit", method: "GET", path: "/admin/v1/tenants/acme/users?email=ann@example.com&limit=101", status: 400, code: "invalid_request",
			want: []string{"limit must be a whole number from 1 to 100"}},
		{name: "find users by email after the last", method: "GET", path: "/admin/v1/tenants/acme/users?email=ann@example.com&after={sub}", status: 200,
			want: []string{`"users":[]`}},
		{name: "find user by sub", method: "GET", path: "/admin/v1/tenants/acme/users?sub={sub}", status: 200, want: []string{`"username":"ann"`}},
		{name: "find no user by sub", method: "GET", path: "/admin/v1/tenants/acme/users?sub=0c7e2c55-0000-4000-8000-000000000000", status: 200, want: []string{`"users":[]`}},
		{name: "find user by username and sub", method: "GET", path: "/admin/v1/tenants/acme/users?username=ann&sub={sub}", status: 400, code: "invalid_request",
			want: []string{"search by one of username, email or sub"}},
		{name: "find user by an empty sub", method: "GET", path: "/admin/v1/tenants/acme/users?sub=", status: 400, code: "invalid_request",
			want: []string{"query parameter sub is empty; give it a value, or leave it out"}},
		{name: "find user by an empty email", method: "GET", path: "/admin/v1/tenants/acme/users?email=", status: 400, code: "invalid_request",
			want: []string{"query parameter email is empty; give it a value, or leave it out"}},
		{name: "find user by two subs", method: "GET", path: "/admin/v1/tenants/acme/users?sub={sub}&sub=other", status: 400, code: "invalid_request",
			want: []string{"query parameter sub is given 2 times; give it once"}},
		{name: "find user by two usernames", method: "GET", path: "/admin/v1/tenants/acme/users?username=ann&username=ann", status: 400, code: "invalid_request",
			want: []string{"query parameter username is given 2 times; give it once"}},
		{name: "get user", method: "GET", path: "/admin/v1/tenants/acme/users/{sub}", status: 200,
			want: []string{`"username":"ann"`, `"status":"CONFIRMED"`, `"enabled":true`, `"password_changed_at":`}},
		{name: "get unknown user", method: "GET", path: "/admin/v1/tenants/acme/users/nope", status: 404, code: "not_found",
			want: []string{`tenant \"acme\" has no user \"nope\"`}},
		{name: "disable user", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"enabled":false}`,
			status: 200, want: []string{`"enabled":false`, `"email":"ann@example.com"`}},
		{name: "change user email", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"email":"ann@acme.example","attributes":{"locale":"nl"}}`,
			status: 200, want: []string{`"email":"ann@acme.example"`, `"email_verified":false`, `"locale":"nl"`}},
		{name: "change user bad email", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"email":"ann"}`,
			status: 400, code: "invalid_request", want: []string{"not an email address"}},
		{name: "change user bad attribute", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"attributes":{"shoe_size":"42"}}`,
			status: 400, code: "invalid_request", want: []string{"shoe_size"}},
		{name: "change user attribute not a string", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"attributes":{"custom:x":1,"locale":null}}`,
			status: 400, code: "invalid_request", want: []string{`the values in field \"attributes\" must be strings or null: \"custom:x\"`}},
		{name: "change user enabled twice", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"enabled":false,"enabled":true}`,
			status: 400, code: "invalid_request", want: []string{`field \"enabled\" is given twice`}},
		{name: "change user attribute twice", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"attributes":{"locale":"nl","locale":null}}`,
			status: 400, code: "invalid_request", want: []string{`field \"attributes.locale\" is given twice`}},
		{name: "change user field in another case", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"Enabled":false}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"Enabled\" in the request body: field names are case-sensitive (\"enabled\")`}},
		{name: "change user attribute names are not fields", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"attributes":{"Locale":"nl"}}`,
			status: 400, code: "invalid_request", want: []string{"Locale"}},
		{name: "change user with null", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `null`,
			status: 400, code: "invalid_request", want: []string{"must be a JSON object"}},

		{name: "change user status", method: "PATCH", path: "/admin/v1/tenants/acme/users/{sub}", body: `{"status":"CONFIRMED"}`,
			status: 400, code: "invalid_request", want: []string{`unknown field \"status\"`}},
		{name: "change unknown user", method: "PATCH", path: "/admin/v1/tenants/acme/users/nope", body: `{"enabled":true}`, status: 404, code: "not_found"},
		{name: "delete user", method: "DELETE", path: "/admin/v1/tenants/acme/users/{sub}", status: 204},
		{name: "delete unknown user", method: "DELETE", path: "/admin/v1/tenants/acme/users/nope", status: 404, code: "not_found"},
		{name: "set password", method: "POST", path: "/admin/v1/tenants/acme/users/{sub}/password", body: `{"password":"N3w-password","permanent":true}`, status: 204},
		{name: "set weak password", method: "POST", path: "/admin/v1/tenants/acme/users/{sub}/password", body: `{"password":"password"}`,
			status: 400, code: "invalid_request", want: []string{"no uppercase letter"}},
		{name: "set password unknown user", method: "POST", path: "/admin/v1/tenants/acme/users/nope/password", body: `{"password":"N3w-password"}`,
			status: 404, code: "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			auth := bearer
			switch tc.auth {
			case "-":
				auth = ""
			case "":
			default:
				auth = tc.auth
			}
			rec := f.do(t, tc.method, tc.path, tc.body, auth)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, body)
			}
			if rec.Code != http.StatusNoContent {
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
			}
			checkBody(t, body, tc.code, tc.want, tc.reject, f.path)
			// Nothing secret at rest ever leaves: not the hashes, not the keys.
			for _, leak := range []string{"secret_hash", "password_hash", "private", "argon2"} {
				if strings.Contains(body, leak) {
					t.Errorf("body contains %q:\n%s", leak, body)
				}
			}
		})
	}
}

// TestCreatedResourcesCanBeRead follows each Location header back.
func TestCreatedResourcesCanBeRead(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ path, body string }{
		{"/admin/v1/tenants", `{"slug":"globex","settings":{"signing_alg":"ES256"}}`},
		{"/admin/v1/tenants/acme/clients", `{"name":"x","redirect_uris":["https://x.example.com/cb"]}`},
		{"/admin/v1/tenants/acme/users", `{"username":"bob"}`},
	} {
		rec := f.do(t, "POST", c.path, c.body, bearer)
		if rec.Code != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", c.path, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		if got := f.do(t, "GET", loc, "", bearer); got.Code != http.StatusOK {
			t.Errorf("GET %s (Location of POST %s): %d %s", loc, c.path, got.Code, got.Body)
		}
	}
}

func TestDeleteTenantRemovesEverything(t *testing.T) {
	f := newFixture(t)
	if rec := f.do(t, "DELETE", "/admin/v1/tenants/acme", "", bearer); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if !slices.Equal(f.changed, []string{"acme"}) {
		t.Errorf("Changed called with %v, want [acme]", f.changed)
	}
	for _, p := range []string{"/admin/v1/tenants/acme", "/admin/v1/tenants/acme/users/{sub}", "/admin/v1/tenants/acme/clients/{client}"} {
		if rec := f.do(t, "GET", p, "", bearer); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s after delete: %d", p, rec.Code)
		}
	}
	// The slug is free again, with none of the old records.
	rec := f.do(t, "POST", "/admin/v1/tenants", `{"slug":"acme","settings":{"signing_alg":"ES256"}}`, bearer)
	if rec.Code != http.StatusCreated {
		t.Fatalf("recreate: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do(t, "GET", "/admin/v1/tenants/acme/users", "", bearer); !strings.Contains(rec.Body.String(), `"users":[]`) {
		t.Errorf("recreated tenant has users: %s", rec.Body)
	}
}

func TestRotateClientSecret(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before, err := f.svc.Client(ctx, "acme", f.clientID)
	if err != nil {
		t.Fatal(err)
	}
	rec := f.do(t, "POST", "/admin/v1/tenants/acme/clients/{client}/secret", "", bearer)
	var got adminapi.ClientWithSecret
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ClientSecret == "" {
		t.Fatalf("rotate: %d %s (%v)", rec.Code, rec.Body, err)
	}
	after, err := f.svc.Client(ctx, "acme", f.clientID)
	if err != nil {
		t.Fatal(err)
	}
	if after.SecretHash == before.SecretHash || after.SecretHash != tenant.HashSecret(got.ClientSecret) {
		t.Error("the stored hash is not the hash of the returned secret")
	}
	if !slices.Equal(f.changed, []string{"acme"}) {
		t.Errorf("Changed called with %v, want [acme]", f.changed)
	}
}

// A rotation with retire_previous, for a key that may have leaked: the new
// key signs at once and the tenant's other keys retire now, not a day
// later; the provider is told, to rebuild the JWKS; the audit trail names
// the keys withdrawn.
func TestRotateKeyRetiringThePrevious(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	keys := func() []tenant.SigningKey {
		var ks []tenant.SigningKey
		if err := f.svc.Store.View(ctx, func(tx tenant.Tx) (err error) { ks, err = tenant.SigningKeys(tx, "acme"); return err }); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if rec := f.do(t, "POST", "/admin/v1/tenants/acme/keys/rotate", `{"overlap_seconds":0}`, bearer); rec.Code != http.StatusOK {
		t.Fatalf("rotate: %d %s", rec.Code, rec.Body)
	}
	var previous []string
	for _, k := range tenant.PublishedKeys(keys(), time.Now()) {
		previous = append(previous, k.ID)
	}
	if len(previous) != 2 {
		t.Fatalf("published after an ordinary rotation: %v, want both keys for a day", previous)
	}

	f.changed = nil
	rec := f.do(t, "POST", "/admin/v1/tenants/acme/keys/rotate", `{"retire_previous":true}`, bearer)
	var got adminapi.SigningKey
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("rotate retiring the previous: %d %s", rec.Code, rec.Body)
	}
	now := time.Now()
	if got.ActiveFrom.After(now) {
		t.Errorf("the new key signs from %v, want at once", got.ActiveFrom)
	}
	var published []string
	for _, k := range tenant.PublishedKeys(keys(), now) {
		published = append(published, k.ID)
	}
	if !slices.Equal(published, []string{got.KeyID}) {
		t.Errorf("published: %v, want only %s", published, got.KeyID)
	}
	if !slices.Equal(f.changed, []string{"acme"}) {
		t.Errorf("Changed called with %v, want [acme]", f.changed)
	}
	rec = f.do(t, "GET", "/admin/v1/tenants/acme/audit?action=key.rotate&limit=1", "", bearer)
	var page adminapi.AuditPage
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Events) != 1 {
		t.Fatalf("audit: %d %s", rec.Code, rec.Body)
	}
	if d := page.Events[0].Details; d["kid"] != got.KeyID || d["retired"] != strings.Join(previous, ",") {
		t.Errorf("audit details %v, want kid %s and retired %v", d, got.KeyID, previous)
	}
}

func TestUserAttributesMerge(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		body string
		want map[string]string
	}{
		{`{"attributes":{"given_name":"Ann","custom:team":"ops"}}`, map[string]string{"given_name": "Ann", "custom:team": "ops"}},
		{`{"attributes":{"family_name":"Smith"}}`, map[string]string{"given_name": "Ann", "custom:team": "ops", "family_name": "Smith"}},
		{`{"attributes":{"custom:team":null,"given_name":"Anne"}}`, map[string]string{"given_name": "Anne", "family_name": "Smith"}},
		{`{"enabled":false}`, map[string]string{"given_name": "Anne", "family_name": "Smith"}},
	}
	for _, s := range steps {
		rec := f.do(t, "PATCH", "/admin/v1/tenants/acme/users/{sub}", s.body, bearer)
		var u adminapi.User
		if err := json.Unmarshal(rec.Body.Bytes(), &u); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", s.body, rec.Code, rec.Body)
		}
		if len(u.Attributes) != len(s.want) {
			t.Errorf("after %s: attributes %v, want %v", s.body, u.Attributes, s.want)
		}
		for k, v := range s.want {
			if u.Attributes[k] != v {
				t.Errorf("after %s: attributes %v, want %v", s.body, u.Attributes, s.want)
			}
		}
	}
}

func TestListUsersPages(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"bob", "carol", "dave", "erin"} {
		if _, err := f.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: name}); err != nil {
			t.Fatal(err)
		}
	}
	seen, pages := pageThrough(t, f, "/admin/v1/tenants/acme/users")
	if want := []string{"ann", "bob", "carol", "dave", "erin"}; !slices.Equal(seen, want) || pages != 3 {
		t.Errorf("saw %v in %d pages, want %v in 3", seen, pages, want)
	}
}

// A search by email is paged as the listing is: many users may share an
// address.
func TestFindUsersByEmailPages(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"bob", "carol", "dave", "erin"} {
		email := "shared@example.com"
		if name == "erin" {
			email = "erin@example.com"
		}
		if _, err := f.svc.CreateUser(t.Context(), "acme", tenant.NewUser{Username: name, Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	seen, pages := pageThrough(t, f, "/admin/v1/tenants/acme/users?email=SHARED@example.com")
	if want := []string{"bob", "carol", "dave"}; !slices.Equal(seen, want) || pages != 2 {
		t.Errorf("saw %v in %d pages, want %v in 2", seen, pages, want)
	}
}

// pageThrough follows a user list's next cursors two users a page, and
// returns the usernames it saw, sorted, and how many pages it took. path
// may hold a query of its own (a search).
func pageThrough(t *testing.T, f *fixture, path string) (usernames []string, pages int) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	query := sep + "limit=2" // the first page is asked for without after
	for {
		rec := f.do(t, "GET", path+query, "", bearer)
		var page adminapi.UserPage
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, rec.Code, rec.Body)
		}
		pages++
		for _, u := range page.Users {
			usernames = append(usernames, u.Username)
		}
		if page.Next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		query = sep + "limit=2&after=" + url.QueryEscape(page.Next)
	}
	slices.Sort(usernames)
	return usernames, pages
}

// A zero TokenHash is an API nobody may use, not one anybody may use.
func TestZeroTokenHashAdmitsNobody(t *testing.T) {
	f := newFixture(t)
	api := &adminapi.API{Service: f.svc}
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		req := httptest.NewRequest("GET", "/admin/v1/tenants", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		api.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, rec.Code)
		}
	}
}

// checkBody checks an answer's body: its error code when code is set (and
// that it has a message), the substrings it must have (each expanded by
// expand, which fills in fixture values) and those it must not.
func checkBody(t *testing.T, body, code string, want, reject []string, expand func(string) string) {
	t.Helper()
	if code != "" {
		var e adminapi.Error
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("error body %q: %v", body, err)
		}
		if e.Code != code || e.Message == "" {
			t.Errorf("error %+v, want code %q and a message", e, code)
		}
	}
	for _, w := range want {
		if w := expand(w); !strings.Contains(body, w) {
			t.Errorf("body lacks %s:\n%s", w, body)
		}
	}
	for _, r := range reject {
		if strings.Contains(body, r) {
			t.Errorf("body has %s:\n%s", r, body)
		}
	}
}

// A path with a dot or empty segment is refused, not redirected to its
// cleaned form: the redirect keeps the method, and a client that follows
// it would delete the tenant for a user whose sub is "..".
func TestUncleanPathsAreRefused(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodDelete, "/admin/v1/tenants/acme/users/.."},
		{http.MethodDelete, "/admin/v1/tenants/acme/groups/admins/members/.."},
		{http.MethodGet, "/admin/v1/tenants/acme/./clients"},
		{http.MethodPatch, "/admin/v1/tenants//acme"},
	} {
		w := f.do(t, tc.method, tc.path, "", bearer)
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || !strings.Contains(w.Body.String(), "names nothing here") {
			t.Errorf("%s %s: %d %q %s", tc.method, tc.path, w.Code, w.Header().Get("Location"), w.Body)
		}
	}
	if w := f.do(t, http.MethodGet, "/admin/v1/tenants/acme", "", bearer); w.Code != http.StatusOK {
		t.Errorf("the tenant after the refusals: %d %s", w.Code, w.Body)
	}
	// Without the token, nothing is said about the path.
	if w := f.do(t, http.MethodDelete, "/admin/v1/tenants/acme/users/..", "", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", w.Code)
	}
}

// Every refusal logs one line that says what the client was told, and
// never what it sent: a password in the body or a token in the header.
func TestRefusalsLogOneLineWithoutSecrets(t *testing.T) {
	f := newFixture(t)
	var log bytes.Buffer
	api := &adminapi.API{Service: f.svc, Logger: slog.New(slog.NewTextHandler(&log, nil)), TokenHash: sha256.Sum256([]byte(testToken))}
	f.handler = api.Handler()
	const secret = "Sekrit-0123456789"
	tests := []struct {
		name, method, path, body, auth string
		status                         int
	}{
		{"a token with a typo", "GET", "/admin/v1/tenants", "", "Bearer " + secret, 401},
		{"an unknown endpoint", "GET", "/admin/v1/nope", "", bearer, 404},
		{"a method the path does not take", "PUT", "/admin/v1/tenants/acme", "", bearer, 405},
		{"a body that is not JSON", "POST", "/admin/v1/tenants/acme/users", `{"username":"bo","password":"` + secret + `"`, bearer, 400},
		{"a password the policy refuses", "POST", "/admin/v1/tenants/acme/users/{sub}/password", `{"password":"` + strings.ToLower(secret[:6]) + `"}`, bearer, 400},
		{"an unknown user", "POST", "/admin/v1/tenants/acme/users/nope/password", `{"password":"` + secret + `"}`, bearer, 404},
		{"a username taken", "POST", "/admin/v1/tenants/acme/users", `{"username":"ann","password":"` + secret + `"}`, bearer, 409},
		{"a dot segment", "DELETE", "/admin/v1/tenants/acme/users/..", "", bearer, 400},
		{"a body over the limit", "POST", "/admin/v1/tenants", `{"slug":"` + strings.Repeat("a", 2<<20) + `"}`, bearer, 413},
		// A legacy pool's URL refused for what it carries is named without it.
		{"a webhook URL with credentials", "PATCH", "/admin/v1/tenants/acme",
			`{"settings":{"legacy":{"kind":"webhook","webhook_url":"https://ann:` + secret + `@legacy.example.com/hook","webhook_secret":"abcdefghijklmnopqrstuvwxyz0123"}}}`, bearer, 400},
		{"a webhook URL over http with a key", "PATCH", "/admin/v1/tenants/acme",
			`{"settings":{"legacy":{"kind":"webhook","webhook_url":"http://evil.example.com/hook?api_key=` + secret + `","webhook_secret":"abcdefghijklmnopqrstuvwxyz0123"}}}`, bearer, 400},
		{"a Cognito endpoint with credentials", "PATCH", "/admin/v1/tenants/acme",
			`{"settings":{"legacy":{"kind":"cognito","user_pool_id":"eu-west-1_AbC123","client_id":"c","endpoint":"https://AKIA:` + secret + `@vpce.example.com"}}}`, bearer, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log.Reset()
			w := f.do(t, tc.method, tc.path, tc.body, tc.auth)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if strings.Contains(w.Body.String(), secret[:6]) {
				t.Errorf("the response has what the client sent: %s", w.Body)
			}
			lines := strings.Split(strings.TrimSpace(log.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], `msg="admin API request refused"`) ||
				!strings.Contains(lines[0], fmt.Sprintf("status=%d", tc.status)) || !strings.Contains(lines[0], "description=") {
				t.Errorf("log, want one refusal line with status %d and what the client was told:\n%s", tc.status, log.String())
			}
			if strings.Contains(log.String(), secret[:6]) || strings.Contains(log.String(), strings.ToLower(secret[:6])) {
				t.Errorf("the log has what the client sent:\n%s", log.String())
			}
		})
	}
}
