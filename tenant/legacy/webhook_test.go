package legacy_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/auth"
	"github.com/cognate-idp/cognate/tenant/legacy"
)

const webhookSecret = "whsec-0123456789abcdef0123456789"

// legacySystem is a receiver of Cognate's migration webhook as docs/
// migration.md tells one to write: it checks the signature and the age of
// the request, then answers like a Cognito user migration Lambda.
type legacySystem struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	users  map[string]legacyUser
	events []map[string]any
	// status, when set, is answered instead of an event.
	status int
}

type legacyUser struct {
	password string
	attrs    map[string]any
	final    string // finalUserStatus
}

func newLegacySystem(t *testing.T) *legacySystem {
	l := &legacySystem{t: t, users: map[string]legacyUser{}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

// verify checks X-Cognate-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
// "<t>.<body>">, and refuses requests older than five minutes.
func verify(header string, body []byte, secret string, now time.Time) bool {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(sig), []byte(want))
}

func (l *legacySystem) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		!verify(r.Header.Get(legacy.SignatureHeader), body, webhookSecret, time.Now()) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		l.t.Errorf("a request without a valid signature: %s", r.Header.Get(legacy.SignatureHeader))
		return
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		l.t.Errorf("event: %v", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
	if l.status != 0 {
		w.WriteHeader(l.status)
		return
	}
	name, _ := ev["userName"].(string)
	u, ok := l.users[name]
	req, _ := ev["request"].(map[string]any)
	switch ev["triggerSource"] {
	case "UserMigration_Authentication":
		if !ok || req["password"] != u.password {
			http.Error(w, "Bad password", http.StatusUnauthorized) // a Lambda's thrown error
			return
		}
	case "UserMigration_ForgotPassword":
		if !ok {
			http.Error(w, "User not found", http.StatusNotFound)
			return
		}
	}
	ev["response"] = map[string]any{"userAttributes": u.attrs, "finalUserStatus": u.final, "messageAction": "SUPPRESS"}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ev)
}

func (l *legacySystem) lastEvent() map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return nil
	}
	return l.events[len(l.events)-1]
}

func (l *legacySystem) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

func webhookPool(l *legacySystem) tenant.LegacyPool {
	return tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: l.srv.URL + "/migrate", WebhookSecret: webhookSecret}
}

func TestWebhookMigration(t *testing.T) {
	l := newLegacySystem(t)
	l.users["ann"] = legacyUser{password: "Ann-Passw0rd!", final: "CONFIRMED",
		attrs: map[string]any{"email": "ann@example.com", "email_verified": "true", "custom:legacy_id": "42", "sub": "legacy-42"}}
	l.users["bob@example.com"] = legacyUser{password: "Bob-Passw0rd!", final: "CONFIRMED",
		attrs: map[string]any{"username": "bob", "email": "bob@example.com", "email_verified": true}}
	l.users["cas"] = legacyUser{password: "Cas-Passw0rd!", attrs: map[string]any{"email": "cas@example.com"}} // no finalUserStatus
	e := newEnv(t, webhookPool(l))

	// The event has exactly the shape of Cognito's migration event.
	if _, err := e.signIn("ann", "wrong"); !errors.Is(err, auth.ErrNotAuthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	ev := l.lastEvent()
	var keys []string
	for k := range ev {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"callerContext", "region", "request", "response", "triggerSource", "userName", "userPoolId", "version"}; !slices.Equal(keys, want) {
		t.Errorf("event keys %v, want %v", keys, want)
	}
	req, _ := ev["request"].(map[string]any)
	cc, _ := ev["callerContext"].(map[string]any)
	if ev["triggerSource"] != "UserMigration_Authentication" || ev["userName"] != "ann" || ev["userPoolId"] != "acme" ||
		req["password"] != "wrong" || req["validationData"] == nil || req["clientMetadata"] == nil || cc == nil {
		t.Errorf("event %v", ev)
	}
	if resp, _ := ev["response"].(map[string]any); len(resp) != 0 {
		t.Errorf("response sent: %v", resp)
	}

	// finalUserStatus CONFIRMED: the password counts.
	e.mustSignIn(t, "ann", "Ann-Passw0rd!")
	u, _ := e.find(t, "ann")
	if u.Sub != "legacy-42" || u.Email != "ann@example.com" || !u.EmailVerified || u.Attributes["custom:legacy_id"] != "42" ||
		u.Status != tenant.StatusConfirmed || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("ann: %+v", u)
	}
	// Signed in by an alias: the username comes back in the answer.
	e.mustSignIn(t, "bob@example.com", "Bob-Passw0rd!")
	if u, ok := e.find(t, "bob"); !ok || u.Email != "bob@example.com" || !u.EmailVerified {
		t.Errorf("bob: %+v", u)
	}
	// Anything but CONFIRMED: the user must reset the password.
	res, err := e.signIn("cas", "Cas-Passw0rd!")
	if err != nil || res.Challenge != auth.PasswordResetRequired {
		t.Errorf("cas: %+v, %v", res, err)
	}
	if u, _ := e.find(t, "cas"); u.Status != tenant.StatusResetRequired {
		t.Errorf("cas: %s", u.Status)
	}

	// The second sign-in is Cognate's alone.
	n := l.count()
	e.mustSignIn(t, "ann", "Ann-Passw0rd!")
	if _, err := e.signIn("cas", "Cas-Passw0rd!"); err != nil {
		t.Error(err)
	}
	if l.count() != n {
		t.Error("the webhook was called for migrated users")
	}
}

// What a legacy pool tells that Cognate cannot hold (an email that is not
// an address, a phone number not in E.164 form, an attribute no user pool
// has) does not keep the person out: they sign in, and are created
// without it. The migration's one log line then says so, as a warning,
// naming each attribute and the rule it breaks, but none of the values.
// The same holds for a user brought over for a password reset.
func TestWebhookMigrationLogsUnkeptAttributes(t *testing.T) {
	l := newLegacySystem(t)
	l.users["wil"] = legacyUser{password: "Wil-Passw0rd!", final: "CONFIRMED", attrs: map[string]any{
		"email": "not-an-email", "email_verified": true, "phone_number": "0612345678", "favourite_colour": "blue",
		"given_name": "Wil", "updated_at": 1689030181, "custom:legacy_id": "42"}}
	l.users["ann"] = legacyUser{password: "Ann-Passw0rd!", final: "CONFIRMED",
		attrs: map[string]any{"email": "ann@example.com", "email_verified": "true", "given_name": "Ann"}}
	l.users["dee"] = legacyUser{attrs: map[string]any{"email": "dee@example.com", "email_verified": "true", "birthdate": "31/12/1999"}}
	e := newEnv(t, webhookPool(l))
	var log bytes.Buffer
	e.m.Logger = slog.New(slog.NewTextHandler(&log, nil))
	e.svc.Logger = e.m.Logger
	lines := func() []string {
		defer log.Reset()
		return strings.Split(strings.TrimSpace(log.String()), "\n")
	}

	e.mustSignIn(t, "wil", "Wil-Passw0rd!")
	u, _ := e.find(t, "wil")
	if u.Email != "" || u.EmailVerified || u.Attributes["given_name"] != "Wil" || u.Attributes["updated_at"] != "1689030181" ||
		u.Attributes["custom:legacy_id"] != "42" || u.Attributes["phone_number"] != "" || u.Attributes["favourite_colour"] != "" {
		t.Errorf("wil: %+v", u)
	}
	got := lines()
	if len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "user migrated from the legacy pool") ||
		!strings.Contains(got[0], "not_kept.email=email.invalid") || !strings.Contains(got[0], "not_kept.phone_number=attribute.phone") ||
		!strings.Contains(got[0], "not_kept.favourite_colour=attribute.unknown") || strings.Count(got[0], "not_kept.") != 3 {
		t.Errorf("log of wil's migration, want one warning naming email, phone_number and favourite_colour:\n%s", strings.Join(got, "\n"))
	}
	for _, value := range []string{"not-an-email", "0612345678", "blue", "Wil-Passw0rd!"} {
		if strings.Contains(strings.Join(got, "\n"), value) {
			t.Errorf("the log holds the value %q", value)
		}
	}

	// Nothing left out: the one line is the ordinary one.
	e.mustSignIn(t, "ann", "Ann-Passw0rd!")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "level=INFO") || !strings.Contains(got[0], "user migrated from the legacy pool") ||
		strings.Contains(got[0], "not_kept") {
		t.Errorf("log of ann's migration, want one ordinary line:\n%s", strings.Join(got, "\n"))
	}

	// Brought over for a password reset.
	if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: "dee", ClientIP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	if u, ok := e.find(t, "dee"); !ok || u.Email != "dee@example.com" || u.Attributes["birthdate"] != "" {
		t.Errorf("dee: %+v", u)
	}
	var legacyLines []string
	for _, line := range lines() {
		if strings.Contains(line, "legacy pool") {
			legacyLines = append(legacyLines, line)
		}
	}
	if len(legacyLines) != 1 || !strings.Contains(legacyLines[0], "level=WARN") ||
		!strings.Contains(legacyLines[0], "not_kept.birthdate=attribute.date") || strings.Contains(legacyLines[0], "31/12/1999") {
		t.Errorf("log of dee's reset, want one warning naming birthdate:\n%s", strings.Join(legacyLines, "\n"))
	}
}

func TestWebhookForgotPassword(t *testing.T) {
	l := newLegacySystem(t)
	l.users["dee"] = legacyUser{attrs: map[string]any{"email": "dee@example.com", "email_verified": "true"}}
	l.users["eve"] = legacyUser{attrs: map[string]any{"email": "eve@example.com"}} // not verified
	// A sub no user can have here: not brought over either.
	l.users["fox"] = legacyUser{attrs: map[string]any{"email": "fox@example.com", "email_verified": "true", "sub": "../x"}}
	e := newEnv(t, webhookPool(l))

	for _, login := range []string{"dee", "eve", "fox", "nobody"} {
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login, ClientIP: "192.0.2.9"}); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
	}
	ev := l.lastEvent()
	if req, _ := ev["request"].(map[string]any); ev["triggerSource"] != "UserMigration_ForgotPassword" || req["password"] != nil {
		t.Errorf("event %v", ev)
	}
	u, ok := e.find(t, "dee")
	if !ok || u.Status != tenant.StatusResetRequired || u.Email != "dee@example.com" {
		t.Fatalf("dee: %+v", u)
	}
	if _, ok := e.find(t, "eve"); ok {
		t.Error("a user without a verified address was brought over")
	}
	if _, ok := e.find(t, "fox"); ok {
		t.Error("a user with the sub ../x was brought over")
	}
	if mails := e.queuedMail(t); len(mails) != 1 || !slices.Equal(mails[0].To, []string{"dee@example.com"}) {
		t.Errorf("mail %+v", mails)
	}
}

// The forgot-password form asks the legacy pool about unknown names at most
// 30 times an hour per client, and an IPv6 client is its /64: taking a new
// address for each request does not make it ask more.
func TestWebhookLookupsLimitedPerClient(t *testing.T) {
	l := newLegacySystem(t)
	e := newEnv(t, webhookPool(l))
	for i := range 31 {
		err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: fmt.Sprintf("nobody%d", i), ClientIP: fmt.Sprintf("2001:db8:1::%x", i+1)})
		if i < 30 && err != nil || i == 30 && !errors.Is(err, tenant.ErrRateLimited) {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if n := l.count(); n != 30 {
		t.Errorf("the pool was asked %d times, want 30", n)
	}
}

// A user the pool sends over as RESET_REQUIRED at sign-in resets by code
// like any other: only to an address the pool said was verified.
func TestWebhookResetRequiredNeedsVerifiedAddress(t *testing.T) {
	l := newLegacySystem(t)
	l.users["cas"] = legacyUser{password: "Cas-Passw0rd!", attrs: map[string]any{"email": "cas@example.com"}}
	l.users["dan"] = legacyUser{password: "Dan-Passw0rd!", attrs: map[string]any{"email": "dan@example.com", "email_verified": "true"}}
	e := newEnv(t, webhookPool(l))
	for login, pw := range map[string]string{"cas": "Cas-Passw0rd!", "dan": "Dan-Passw0rd!"} {
		if res, err := e.signIn(login, pw); err != nil || res.Challenge != auth.PasswordResetRequired {
			t.Fatalf("%s: %+v, %v", login, res, err)
		}
		if err := e.svc.StartPasswordReset(ctx, "acme", tenant.ResetRequest{Login: login, ClientIP: "192.0.2.9"}); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
	}
	if mails := e.queuedMail(t); len(mails) != 1 || !slices.Equal(mails[0].To, []string{"dan@example.com"}) {
		t.Errorf("mail %+v, want one, to dan's verified address only", mails)
	}
}

func TestWebhookUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer string
		setup  func(*tenant.LegacyPool)
	}{
		{"server error", http.StatusBadGateway, "", nil},
		{"throttled", http.StatusTooManyRequests, "", nil},
		{"timed out", http.StatusRequestTimeout, "", nil},
		{"a redirect, not followed", http.StatusTemporaryRedirect, "", nil},
		{"not an event", http.StatusOK, "<html>", nil},
		{"no userAttributes", http.StatusOK, `{"response":{"finalUserStatus":"CONFIRMED"}}`, nil},
		// A sub no user can have here (tenant.ValidateSub), which the
		// admin API and the CLI could not name the user by.
		{"sub a/b", http.StatusOK, `{"response":{"userAttributes":{"sub":"a/b"},"finalUserStatus":"CONFIRMED"}}`, nil},
		{"sub ..", http.StatusOK, `{"response":{"userAttributes":{"sub":".."},"finalUserStatus":"CONFIRMED"}}`, nil},
		{"sub with a space", http.StatusOK, `{"response":{"userAttributes":{"sub":"has space"},"finalUserStatus":"CONFIRMED"}}`, nil},
		{"sub of 200 characters", http.StatusOK, `{"response":{"userAttributes":{"sub":"` + strings.Repeat("x", 200) + `"},"finalUserStatus":"CONFIRMED"}}`, nil},
		{"sub not ASCII", http.StatusOK, `{"response":{"userAttributes":{"sub":"ünï"},"finalUserStatus":"CONFIRMED"}}`, nil},
		{"wrong secret: the receiver's signature check answers 503", 0, "", func(p *tenant.LegacyPool) { p.WebhookSecret = "another-secret-0123456789abc" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				switch {
				case !verify(r.Header.Get(legacy.SignatureHeader), body, webhookSecret, time.Now()):
					// A receiver that distrusts the request cannot
					// judge the password: it is not a refusal.
					http.Error(w, "bad signature", http.StatusServiceUnavailable)
				case tc.status == http.StatusTemporaryRedirect:
					http.Redirect(w, r, "https://elsewhere.example/steal", tc.status)
				default:
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, tc.answer)
				}
			}))
			defer srv.Close()
			pool := tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: srv.URL, WebhookSecret: webhookSecret}
			if tc.setup != nil {
				tc.setup(&pool)
			}
			e := newEnv(t, pool)
			var log bytes.Buffer
			e.m.Logger = slog.New(slog.NewTextHandler(&log, nil))
			if _, err := e.signIn("fay", "Fay-Passw0rd!"); !errors.Is(err, auth.ErrTemporarilyUnavailable) {
				t.Fatalf("%v, want ErrTemporarilyUnavailable", err)
			}
			if calls.Load() != 1 || e.countUsers(t) != 0 {
				t.Errorf("%d calls, %d users", calls.Load(), e.countUsers(t))
			}
			if lines := strings.Split(strings.TrimSpace(log.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") {
				t.Errorf("log, want one warning:\n%s", log.String())
			}
			// A 503, as a failed signature check answers: the warning
			// names the likely cause.
			if turnedAway := tc.setup != nil; turnedAway != strings.Contains(log.String(), "is the webhook secret the same on both sides") {
				t.Errorf("log, want the webhook secret named only for a 503:\n%s", log.String())
			}
		})
	}
}

// The receiver refuses with a 4xx (401, 403, 404, 400 …, not 408 or 429):
// the person reads a wrong password, which counts towards the lockout, as
// receivers written to the first rule answer it. A receiver that answers a
// request with another secret 503, as the docs ask, makes sign-in
// unavailable instead.
func TestWebhookRefusal(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if !verify(r.Header.Get(legacy.SignatureHeader), body, webhookSecret, time.Now()) {
					http.Error(w, "bad signature", http.StatusServiceUnavailable)
					return
				}
				http.Error(w, "Bad password", status)
			}))
			defer srv.Close()
			pool := tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: srv.URL, WebhookSecret: webhookSecret}
			e := newEnv(t, pool)
			if _, err := e.dir.Authenticate(ctx, "acme", pool, "gus", "Gus-Passw0rd!"); !errors.Is(err, tenant.ErrLegacyRefused) {
				t.Fatalf("Authenticate: %v, want ErrLegacyRefused", err)
			}
			if _, err := e.signIn("gus", "Gus-Passw0rd!"); !errors.Is(err, auth.ErrNotAuthorized) {
				t.Errorf("sign-in: %v, want ErrNotAuthorized", err)
			}
			pool.WebhookSecret = "another-secret-0123456789abc"
			if _, err := e.dir.Authenticate(ctx, "acme", pool, "gus", "Gus-Passw0rd!"); !errors.Is(err, tenant.ErrLegacyUnavailable) || errors.Is(err, tenant.ErrLegacyRefused) {
				t.Errorf("with another secret: %v, want ErrLegacyUnavailable", err)
			}
		})
	}
}

// The password travels in the event: the URL must be https, or http to
// this machine, both when saved and when called.
func TestWebhookRequiresHTTPS(t *testing.T) {
	e := newEnv(t, tenant.LegacyPool{})
	// Names that look like loopback addresses are DNS names that may
	// point anywhere.
	plainToElsewhere := []string{"http://legacy.example.com/migrate", "http://127.0.0.attacker/x", "http://127.evil.attacker.example/"}
	for _, u := range append([]string{"ftp://legacy.example.com/", "https://user:pw@legacy.example.com/", "/migrate"}, plainToElsewhere...) {
		_, err := e.svc.UpdateTenant(ctx, "acme", tenant.TenantChange{Settings: tenant.SettingsChange{Legacy: &tenant.LegacyPoolChange{
			Pool: tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: u, WebhookSecret: webhookSecret}}}})
		if !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("%s: %v", u, err)
		}
	}
	// Checked again when sending, for a pool saved by an older version.
	for _, u := range plainToElsewhere {
		_, err := e.dir.Authenticate(ctx, "acme", tenant.LegacyPool{Kind: tenant.LegacyWebhook, WebhookURL: u, WebhookSecret: webhookSecret}, "a", "b")
		if !errors.Is(err, tenant.ErrLegacyUnavailable) || e.calls.Load() != 0 {
			t.Errorf("%s: %v after %d requests, want ErrLegacyUnavailable before any", u, err, e.calls.Load())
		}
	}
}
