package provider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cognate-idp/cognate/tenant"
)

// FuzzAuthenticateRequest drives client authentication with any HTTP
// Basic header and form. A client is authenticated only with its own
// secret, sent one way (Basic credentials form-encoded first, RFC 6749
// §2.3.1, or client_secret_post); a public client only where the endpoint
// admits one and without a secret. A refusal is an OAuth error and one log
// line, which repeats no secret sent; a success writes nothing. Where the
// library authenticates again by Basic alone, what it reads decodes to
// the same client and secret.
func FuzzAuthenticateRequest(f *testing.F) {
	const confID, confSecret, publicID = "conf client", "s3cr:t +/%&=é", "public-client"
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	f.Add(basic(url.QueryEscape(confID), url.QueryEscape(confSecret)), "", uint8(0))
	f.Add(basic("conf+client", "s3cr%3At+%2B%2F%25%26%3D%C3%A9"), "client_id=conf+client", uint8(3))
	f.Add(basic(confID, confSecret), "", uint8(1)) // not form-encoded: '+' and '%' differ
	f.Add("", "client_id=conf+client&client_secret=s3cr%3At+%2B%2F%25%26%3D%C3%A9", uint8(3))
	f.Add("", "client_id=public-client", uint8(2))
	f.Add("", "client_id=public-client&client_secret=", uint8(1))
	f.Add(basic("public-client", ""), "", uint8(3))
	f.Add(basic("conf%zzclient", "x"), "", uint8(0))
	f.Add("Basic !!!", "client_assertion_type=x", uint8(0))
	f.Add(basic(confID, confSecret), "client_secret=x&client_id=other", uint8(2))
	policies := []clientAuthPolicy{policyTokenMachine, policyTokenUser, policyRevoke, policyIntrospect}
	st := &tenantState{clients: map[string]*client{
		confID:   {Client: tenant.Client{ID: confID, SecretHash: tenant.HashSecret(confSecret)}},
		publicID: {Client: tenant.Client{ID: publicID}},
	}}
	f.Fuzz(func(t *testing.T, authorization, form string, policy uint8) {
		pol := policies[int(policy)%len(policies)]
		var logs bytes.Buffer
		p := &Provider{logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil))}
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		if err := r.ParseForm(); err != nil {
			return // the endpoints answer a form that does not parse before this
		}
		// What was sent, read on its own.
		basicID, basicSecret, isBasic := r.BasicAuth()
		if isBasic {
			var errID, errSecret error
			basicID, errID = url.QueryUnescape(basicID)
			basicSecret, errSecret = url.QueryUnescape(basicSecret)
			if errID != nil || errSecret != nil {
				basicID, basicSecret = "\x00unreadable", "\x00unreadable"
			}
		}
		formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		secretsSent := append([]string{formSecret, basicSecret}, r.PostForm["client_secret"]...)

		w := httptest.NewRecorder()
		cl, ok := p.authenticateRequest(w, r, st, pol)
		// The text handler writes a record on one line, quoting a value
		// with a line break in it.
		var logged []string
		if logs.Len() > 0 {
			logged = strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
		}
		if !ok {
			if w.Code != http.StatusBadRequest && w.Code != http.StatusUnauthorized {
				t.Fatalf("refused with status %d", w.Code)
			}
			var answer oauthError
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || answer.Error == "" {
				t.Fatalf("refused with body %q", w.Body)
			}
			if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if len(logged) != 1 {
				t.Fatalf("a refusal logged %d lines: %q", len(logged), logged)
			}
			for _, s := range secretsSent {
				// As sent, or as the handler quotes a value that needs it.
				quoted := strconv.Quote(s)
				repeated := strings.Contains(logged[0], s) || strings.Contains(logged[0], quoted[1:len(quoted)-1])
				if len(s) >= 8 && repeated && !strings.Contains(formID+basicID, s) {
					t.Fatalf("the log line %q repeats the secret sent", logged[0])
				}
			}
			return
		}
		if w.Body.Len() > 0 || len(logged) > 0 {
			t.Fatalf("an authenticated client, and the answer %q and log %q", w.Body, logged)
		}
		switch cl.ID {
		case confID:
			viaBasic := isBasic && basicID == confID && basicSecret == confSecret && !r.PostForm.Has("client_secret")
			viaPost := !isBasic && formID == confID && formSecret == confSecret
			if !viaBasic && !viaPost {
				t.Fatalf("authenticated %q with Authorization %q and form %q", cl.ID, authorization, form)
			}
		case publicID:
			if !pol.public || (isBasic && (basicID != publicID || basicSecret != "")) || (!isBasic && formID != publicID) || formSecret != "" {
				t.Fatalf("public client admitted at %s with Authorization %q and form %q", pol.realm, authorization, form)
			}
		default:
			t.Fatalf("authenticated unknown client %q", cl.ID)
		}
		if pol.libraryReadsBasic {
			user, pass, ok := r.BasicAuth()
			user, errUser := url.QueryUnescape(user)
			pass, errPass := url.QueryUnescape(pass)
			if !ok || errUser != nil || errPass != nil || user != cl.ID || pass != confSecret {
				t.Fatalf("the library would read Basic %q, %q (%v, %v, %v)", user, pass, ok, errUser, errPass)
			}
		}
	})
}
