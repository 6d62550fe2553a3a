// Package adminapi is the operator's admin API: JSON over HTTP under
// /admin/v1/, for creating and managing tenants, their clients, users,
// groups and signing keys, for reading the audit trail and the mail
// outbox, and for taking a backup of the data file. The cognate CLI is
// its main client; docs/openapi.yaml describes it.
//
// Handlers are thin: parse the request into typed values, make one call to
// tenant.Service, render a wire type from types.go. Every rule about what a
// valid change is lives in tenant; every error becomes a response in one
// place, errors.go. This package knows nothing of the OIDC provider, the
// pages or how the server is assembled.
package adminapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// API serves the admin API. Build it with its fields set and mount
// Handler() under /admin/v1/.
type API struct {
	Service *tenant.Service
	Logger  *slog.Logger
	// TokenHash is the SHA-256 of the operator's bearer token. Only the
	// hash is kept in memory; the zero value admits nobody.
	TokenHash [32]byte
	// ClientIP is the operator's address for the audit trail (the wiring
	// passes provider.Hosts.ClientIP, which knows the trusted proxies);
	// nil means the connection's peer.
	ClientIP func(*http.Request) string

	// backups are the copies being sent, for StopBackups.
	backups backupsInFlight
}

// Prefix is where the API lives; Handler serves only paths beneath it.
const Prefix = "/admin/v1/"

// handlerFunc is an endpoint: it writes a response and returns nil, or
// returns an error and writes nothing, leaving the response to fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint: a ServeMux pattern and its handler.
type route struct {
	pattern string
	fn      handlerFunc
}

// routes lists every endpoint; docs/openapi.yaml describes the same list,
// and a test keeps the two in step. What each takes besides its path is in
// routeInputs (input.go).
func (a *API) routes() []route {
	return []route{
		{"POST /admin/v1/tenants", a.createTenant},
		{"GET /admin/v1/tenants", a.listTenants},
		{"GET /admin/v1/tenants/{slug}", a.getTenant},
		{"PATCH /admin/v1/tenants/{slug}", a.updateTenant},
		{"DELETE /admin/v1/tenants/{slug}", a.deleteTenant},

		{"POST /admin/v1/tenants/{slug}/clients", a.createClient},
		{"GET /admin/v1/tenants/{slug}/clients", a.listClients},
		{"GET /admin/v1/tenants/{slug}/clients/{id}", a.getClient},
		{"PATCH /admin/v1/tenants/{slug}/clients/{id}", a.updateClient},
		{"DELETE /admin/v1/tenants/{slug}/clients/{id}", a.deleteClient},
		{"POST /admin/v1/tenants/{slug}/clients/{id}/secret", a.rotateClientSecret},

		{"POST /admin/v1/tenants/{slug}/users", a.createUser},
		{"GET /admin/v1/tenants/{slug}/users", a.listUsers},
		{"GET /admin/v1/tenants/{slug}/users/{sub}", a.getUser},
		{"PATCH /admin/v1/tenants/{slug}/users/{sub}", a.updateUser},
		{"DELETE /admin/v1/tenants/{slug}/users/{sub}", a.deleteUser},
		{"POST /admin/v1/tenants/{slug}/users/{sub}/password", a.setPassword},
		{"POST /admin/v1/tenants/{slug}/users/{sub}/activate", a.activateUser},
		{"POST /admin/v1/tenants/{slug}/users/{sub}/resend-invitation", a.resendInvitation},
		{"POST /admin/v1/tenants/{slug}/users/{sub}/reset-password", a.resetPassword},
		{"POST /admin/v1/tenants/{slug}/users/{sub}/unlock", a.unlockUser},
		{"GET /admin/v1/tenants/{slug}/users/{sub}/mfa", a.getUserMFA},
		{"POST /admin/v1/tenants/{slug}/users/{sub}/reset-mfa", a.resetUserMFA},
		{"POST /admin/v1/tenants/{slug}/import", a.importUsers},

		{"POST /admin/v1/tenants/{slug}/groups", a.createGroup},
		{"GET /admin/v1/tenants/{slug}/groups", a.listGroups},
		{"GET /admin/v1/tenants/{slug}/groups/{name}", a.getGroup},
		{"PATCH /admin/v1/tenants/{slug}/groups/{name}", a.updateGroup},
		{"DELETE /admin/v1/tenants/{slug}/groups/{name}", a.deleteGroup},
		{"GET /admin/v1/tenants/{slug}/groups/{name}/members", a.listGroupMembers},
		{"PUT /admin/v1/tenants/{slug}/groups/{name}/members/{sub}", a.addGroupMember},
		{"DELETE /admin/v1/tenants/{slug}/groups/{name}/members/{sub}", a.removeGroupMember},

		{"POST /admin/v1/tenants/{slug}/keys/rotate", a.rotateKey},

		{"GET /admin/v1/tenants/{slug}/audit", a.tenantAudit},
		{"GET /admin/v1/audit", a.operatorAudit},

		{"GET /admin/v1/mail", a.mailStatus},

		{"GET /admin/v1/backup", a.backup},
	}
}

// Handler returns the API's routes behind the token check.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.routes() {
		mux.Handle(rt.pattern, a.adapt(checkInput(rt.pattern, rt.fn)))
	}
	// Everything else under the prefix answers in JSON too, so a client
	// never has to parse ServeMux's plain-text 404 and 405 pages.
	mux.Handle(Prefix, a.adapt(unmatched(mux)))
	return a.authenticate(a.refuseUncleanPaths(mux))
}

// PathHeader carries, from a client that escaped a "." or ".." segment (as
// %2E or %2E%2E, see refuseUncleanPaths), the path as it sent it, without
// the query. The cognate CLI sends it.
const PathHeader = "Cognate-Path"

// refuseUncleanPaths answers a path with a ".", ".." or empty segment with
// 400, where ServeMux would redirect to the cleaned path. (Escaped, as
// %2E%2E, a dot segment is a name like any other, which no redirect
// changes.) Such a redirect keeps the method, and clients that follow it
// (many do, for a 307) would act on another resource: a DELETE of
// /admin/v1/tenants/acme/users/.. would delete the tenant.
//
// A proxy between client and server may resolve even the escaped form
// (URL normalisation decodes %2E), sending the DELETE to the tenant
// itself. A client that names the path it sent in PathHeader has a
// request whose path arrived otherwise refused, before any route acts.
func (a *API) refuseUncleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As ServeMux sees it: escaped, so that a group named "a/../b",
		// sent as a%2F..%2Fb, is one segment.
		p := r.URL.EscapedPath()
		if strings.Contains(p, "//") || slices.ContainsFunc(strings.Split(p, "/"), func(seg string) bool { return seg == "." || seg == ".." }) {
			a.writeError(w, r, badRequest("the path %q has a \".\", \"..\" or empty segment, which names nothing here: "+
				"users are named by sub, groups by name, clients by ID", p))
			return
		}
		if sent := r.Header.Get(PathHeader); sent != "" && sent != p {
			a.writeError(w, r, badRequest("the path was sent as %q and arrived as %q: something between the client and cognate, "+
				"most likely a proxy, changed it, and the request would act on something else; nothing was done. "+
				"Send it to cognate directly (--server with its listen address), or make the proxy pass paths unchanged", sent, p))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adapt turns an endpoint into a handler; its error becomes the response.
func (a *API) adapt(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// authenticate admits requests that carry the operator's bearer token. It
// runs before routing, so without the token nobody learns which paths exist.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.tokenValid(r.Header.Get("Authorization")) {
			// Logged like every refusal, so that someone trying tokens
			// shows up.
			w.Header().Set("WWW-Authenticate", `Bearer realm="cognate-admin"`)
			a.writeError(w, r, errUnauthorized)
			return
		}
		// Every change the service records names the operator as its actor.
		actor := tenant.Actor{Kind: tenant.ActorOperator, Name: "operator", IP: a.clientIP(r)}
		next.ServeHTTP(w, r.WithContext(tenant.WithActor(r.Context(), actor)))
	})
}

// clientIP is the address of the request's sender, through the trusted
// proxies.
func (a *API) clientIP(r *http.Request) string {
	if a.ClientIP != nil {
		return a.ClientIP(r)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// tokenValid compares hashes rather than tokens: the comparison then takes
// the same time whatever the length of the token sent, and the server holds
// no copy of the token itself.
func (a *API) tokenValid(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" || a.TokenHash == [32]byte{} {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], a.TokenHash[:]) == 1
}

// unmatched answers requests for which no route matched: 405 with an Allow
// header when the path exists for other methods, else 404. HEAD is allowed
// wherever GET is, as ServeMux serves it (RFC 9110 §9.3.2).
func unmatched(mux *http.ServeMux) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != Prefix {
				allow = append(allow, method)
				if method == http.MethodGet {
					allow = append(allow, http.MethodHead)
				}
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &apiError{
				status: http.StatusMethodNotAllowed, code: "method_not_allowed",
				message: r.Method + " is not allowed here; use " + strings.Join(allow, ", "),
			}
		}
		return &apiError{status: http.StatusNotFound, code: "not_found", message: "no such endpoint: " + r.URL.Path}
	}
}

// writeJSON renders v into a buffer first, so an encoding failure becomes a
// clean 500 instead of half a response.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store") // responses can carry client secrets
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// noContent is the response of a change with nothing to show.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
