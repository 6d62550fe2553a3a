package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"github.com/cognate-idp/cognate/ui/uitest"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/cognate-idp/cognate/cmd/example-rp/rp"
	"github.com/cognate-idp/cognate/mail/mailtest"
	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/bolt"
)

// The onboarding flows end to end: Cognate assembled by buildApp, with mail
// going through its SMTP sender and outbox to an SMTP server the test runs
// (mail/mailtest), the operator's admin API, headless Chromium for the
// person, and the example relying party (cmd/example-rp/rp) receiving the
// tokens. Nothing in between is a fake; the clock is the one thing the test
// moves.

// offsetClock is real time moved forward by the test.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// onboardingStack is a running Cognate with tenant acme ("Acme BV") and a
// relying party registered with it.
type onboardingStack struct {
	t         *testing.T
	cfg       Config
	secrets   serverSecrets
	logger    *slog.Logger
	logs      *uitest.Log
	clock     *offsetClock
	smtp      *mailtest.Server
	base      string // the apex, http://localhost:<port>
	tenantURL string // http://acme.localhost:<port>
	token     string

	// What start makes and stop ends; restart replaces them.
	store      *bolt.Store
	app        *app
	srv        *http.Server
	stopOutbox context.CancelFunc
	outboxDone chan struct{}

	rpURL    string
	clientID string
}

func newOnboardingStack(t *testing.T) *onboardingStack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	st := &onboardingStack{
		t:         t,
		logs:      &uitest.Log{},
		clock:     &offsetClock{},
		smtp:      mailtest.Start(t),
		base:      "http://localhost:" + port,
		tenantURL: "http://acme.localhost:" + port,
		token:     strings.Repeat("operator-token-", 3),
	}
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	st.cfg, err = LoadConfig([]string{
		"--listen", ln.Addr().String(), "--data", filepath.Join(t.TempDir(), "cognate.db"), "--base-url", st.base,
		"--admin-token", st.token, "--secret-key", key,
		"--smtp-host", st.smtp.Host, "--smtp-port", strconv.Itoa(st.smtp.Port), "--smtp-tls", "none",
		"--smtp-from", "Cognate <no-reply@example.com>",
	}, nil, nil)
	if err == nil {
		err = st.cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	st.logger = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), st.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if st.secrets, err = loadSecrets(st.cfg, st.logger); err != nil {
		t.Fatal(err)
	}
	st.start(ln)
	t.Cleanup(st.stop)

	st.admin(http.MethodPost, "/tenants", adminapi.CreateTenantRequest{Slug: "acme", Name: "Acme BV"}, nil, http.StatusCreated)
	var app *rp.RP
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	t.Cleanup(rpSrv.Close)
	st.rpURL = rpSrv.URL
	var cl adminapi.ClientWithSecret
	st.admin(http.MethodPost, "/tenants/acme/clients", adminapi.CreateClientRequest{Name: "Planner", Public: true,
		RedirectURIs: []string{st.rpURL + "/callback"}}, &cl, http.StatusCreated)
	st.clientID = cl.ClientID
	if app, err = rp.New(t.Context(), rp.Config{Issuer: st.tenantURL, ClientID: st.clientID, RedirectURL: st.rpURL + "/callback"}); err != nil {
		t.Fatal(err)
	}
	return st
}

// start opens the store, assembles Cognate on it and runs the server on ln
// and the outbox beside it, as runServe does.
func (st *onboardingStack) start(ln net.Listener) {
	t := st.t
	t.Helper()
	var err error
	if st.store, err = bolt.Open(st.cfg.Data); err != nil {
		t.Fatal(err)
	}
	if st.app, err = buildApp(st.cfg, st.store, st.secrets, st.logger, st.clock.Now); err != nil {
		t.Fatal(err)
	}
	// Retries come after a moved clock without a second's wait.
	st.app.outbox.PollInterval = 50 * time.Millisecond
	st.srv = &http.Server{Handler: st.app.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = st.srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	st.stopOutbox, st.outboxDone = cancel, make(chan struct{})
	go func() {
		defer close(st.outboxDone)
		st.app.outbox.Run(ctx)
	}()
}

// stop ends the outbox and the server and closes the store.
func (st *onboardingStack) stop() {
	if st.store == nil {
		return
	}
	st.stopOutbox()
	<-st.outboxDone
	_ = st.srv.Close()
	_ = st.store.Close()
	st.store = nil
}

// restart stops everything and starts a new Cognate on the same file and
// port, as after a crash or a deploy.
func (st *onboardingStack) restart() {
	st.t.Helper()
	st.stop()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", st.cfg.Listen); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		st.t.Fatal(err)
	}
	st.start(ln)
}

// admin calls the admin API and checks the status.
func (st *onboardingStack) admin(method, path string, in, out any, want int) {
	st.t.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequestWithContext(st.t.Context(), method, st.base+"/admin/v1"+path, body)
	req.Header.Set("Authorization", "Bearer "+st.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		st.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			st.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// createUser makes a user of tenant slug and returns its sub.
func (st *onboardingStack) createUser(slug string, in adminapi.CreateUserRequest) string {
	st.t.Helper()
	var u adminapi.User
	st.admin(http.MethodPost, "/tenants/"+slug+"/users", in, &u, http.StatusCreated)
	return u.Sub
}

func (st *onboardingStack) userAction(sub, action string) adminapi.User {
	st.t.Helper()
	var u adminapi.User
	st.admin(http.MethodPost, "/tenants/acme/users/"+sub+"/"+action, nil, &u, http.StatusOK)
	return u
}

var (
	welcomeTemp = regexp.MustCompile(`Temporary password:\s+(\S+)`)
	mailedCode  = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)
)

// secrets are the temporary passwords and codes the mails carried, for the
// check that the log holds none of them.
type secrets struct{ temps, codes []string }

func (s *secrets) temp(t *testing.T, m mailtest.Message) string {
	t.Helper()
	match := welcomeTemp.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no temporary password in %q:\n%s", m.Subject, m.Text)
	}
	s.temps = append(s.temps, match[1])
	return match[1]
}

func (s *secrets) code(t *testing.T, m mailtest.Message) string {
	t.Helper()
	match := mailedCode.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("no code in %q:\n%s", m.Subject, m.Text)
	}
	s.codes = append(s.codes, match[1])
	return match[1]
}

// --- the browser ---

// e2eChrome starts headless Chromium, or skips t when there is none (fails
// instead under COGNATE_REQUIRE_BROWSER=1), as the ui package's browser
// tests do.
func e2eChrome(t *testing.T) context.Context {
	t.Helper()
	ctx := uitest.Chrome(t, 1100, 820)
	// Pages that break the CSP fail the test.
	var mu sync.Mutex
	var console []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range console {
			if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused to") {
				t.Errorf("browser console: %s", m)
			}
		}
	})
	return ctx
}

// person drives the browser through one scenario.
type person struct {
	t   *testing.T
	ctx context.Context
}

func (st *onboardingStack) person(t *testing.T, browser context.Context) *person {
	ctx, cancel := context.WithTimeout(browser, 20*time.Second)
	t.Cleanup(cancel)
	// Each scenario starts as a new visitor: no session, no form token.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("clear cookies: %v", err)
	}
	return &person{t: t, ctx: ctx}
}

func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		body, _ := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS("body")))
		p.t.Fatalf("%s: %v\n(at %s)\n%s", what, err, loc, body)
	}
}

func (p *person) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

var (
	usernameField = chromedp.CSS(`input[autocomplete="username"]`)
	passwordField = chromedp.CSS(`input[autocomplete="current-password"]`)
	newPassword   = chromedp.CSS(`input[name="new_password"]`)
	confirmField  = chromedp.CSS(`input[name="confirm_password"]`)
	codeField     = chromedp.CSS(`input[autocomplete="one-time-code"]`)
	submit        = chromedp.CSS(`button[type="submit"]`)
	loginForm     = chromedp.CSS(`form[action="/login"]`)
	alert         = chromedp.CSS(`[role="alert"]`)
	claimsBox     = chromedp.ID("claims")
)

// signIn opens the relying party, which sends the browser to Cognate's
// login page, and types a username and a password.
func (p *person) signIn(st *onboardingStack, username, pw string) {
	p.t.Helper()
	p.do("open the relying party and sign in",
		chromedp.Navigate(st.rpURL+"/start"),
		chromedp.WaitVisible(loginForm),
		chromedp.SendKeys(usernameField, username),
		chromedp.SendKeys(passwordField, pw),
		chromedp.Click(submit),
	)
}

// chooseNewPassword answers the forced change and waits for the relying
// party's page with the ID token's claims.
func (p *person) chooseNewPassword(pw string) map[string]any {
	p.t.Helper()
	p.do("choose a new password",
		chromedp.WaitVisible(newPassword),
		chromedp.SendKeys(newPassword, pw),
		chromedp.SendKeys(confirmField, pw),
		chromedp.Click(submit),
	)
	return p.claims()
}

func (p *person) claims() map[string]any {
	p.t.Helper()
	p.do("reach the relying party with tokens", chromedp.WaitVisible(claimsBox))
	var c map[string]any
	if err := json.Unmarshal([]byte(p.text("#claims")), &c); err != nil {
		p.t.Fatal(err)
	}
	return c
}

func (p *person) alert() string {
	p.t.Helper()
	p.do("wait for a message", chromedp.WaitVisible(alert))
	return p.text(`[role="alert"]`)
}

func TestOnboardingEndToEnd(t *testing.T) {
	browser := e2eChrome(t) // first: without a browser, skip before building anything
	st := newOnboardingStack(t)
	var seen secrets
	const (
		annFirst  = "Ann-Chosen-1!"
		annSecond = "Ann-Second-2?"
		annThird  = "Ann-Third-3#"
	)
	annSub := st.createUser("acme", adminapi.CreateUserRequest{Username: "ann", Email: "ann@example.com"})

	t.Run("activate, first sign-in, forced change, tokens", func(t *testing.T) {
		var u adminapi.User
		st.admin(http.MethodGet, "/tenants/acme/users/"+annSub, nil, &u, http.StatusOK)
		if u.Status != "UNCONFIRMED" {
			t.Fatalf("a new user is %s, want UNCONFIRMED (not activated)", u.Status)
		}
		if u = st.userAction(annSub, "activate"); u.Status != "FORCE_CHANGE_PASSWORD" {
			t.Fatalf("activated user is %s", u.Status)
		}
		m := st.smtp.WaitFor("ann@example.com", "Your account for Acme BV", 10*time.Second)
		temp := seen.temp(t, m)
		if !strings.Contains(m.Text, st.tenantURL+"/sign-in?login_hint=ann") || m.Header.Get("From") != `"Acme BV" <no-reply@example.com>` {
			t.Errorf("welcome mail from %q:\n%s", m.Header.Get("From"), m.Text)
		}

		p := st.person(t, browser)
		p.signIn(st, "ann", temp)
		// The temporary password may not stay.
		p.do("keep the temporary password",
			chromedp.WaitVisible(newPassword),
			chromedp.SendKeys(newPassword, temp),
			chromedp.SendKeys(confirmField, temp),
			chromedp.Click(submit),
		)
		if got := p.alert(); !strings.Contains(got, "differs from your temporary password") {
			t.Errorf("alert %q", got)
		}
		claims := p.chooseNewPassword(annFirst)
		if claims["cognito:username"] != "ann" || claims["sub"] != annSub || claims["email"] != "ann@example.com" {
			t.Errorf("claims %v", claims)
		}
	})

	t.Run("forgot password", func(t *testing.T) {
		p := st.person(t, browser)
		p.do("ask for a code",
			chromedp.Navigate(st.rpURL+"/start"),
			chromedp.WaitVisible(loginForm),
			chromedp.Click(chromedp.CSS(`a[href^="/forgot-password"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/forgot-password"]`)),
			chromedp.SendKeys(usernameField, "ann@example.com"),
			chromedp.Click(submit),
			chromedp.WaitVisible(codeField),
		)
		if got := p.text(`[role="status"]`); !strings.Contains(got, "If an account exists for that name") {
			t.Errorf("after asking: %q", got)
		}
		code := seen.code(t, st.smtp.WaitFor("ann@example.com", "verification code", 10*time.Second))
		p.do("reset with the code",
			chromedp.SendKeys(codeField, code),
			chromedp.SendKeys(newPassword, annSecond),
			chromedp.SendKeys(confirmField, annSecond),
			chromedp.Click(submit),
			chromedp.WaitVisible(chromedp.CSS(`a.button[href^="/login"]`)),
			chromedp.Click(chromedp.CSS(`a.button[href^="/login"]`)),
			chromedp.WaitVisible(loginForm),
			chromedp.SendKeys(usernameField, "ann"),
			chromedp.SendKeys(passwordField, annSecond),
			chromedp.Click(submit),
		)
		if claims := p.claims(); claims["sub"] != annSub {
			t.Errorf("claims %v", claims)
		}
	})

	t.Run("admin reset", func(t *testing.T) {
		if u := st.userAction(annSub, "reset-password"); u.Status != "RESET_REQUIRED" {
			t.Fatalf("after the reset: %s", u.Status)
		}
		m := st.smtp.WaitFor("ann@example.com", "has been reset", 10*time.Second)
		code := seen.code(t, m)
		link := regexp.MustCompile(`http://\S+/reset-password\?login=ann`).FindString(m.Text)
		if link == "" {
			t.Fatalf("no reset link in:\n%s", m.Text)
		}
		p := st.person(t, browser)
		// The old password no longer signs in; it says a reset waits.
		p.signIn(st, "ann", annSecond)
		p.do("see that a reset is needed", chromedp.WaitVisible(chromedp.CSS(`a.button[href^="/forgot-password"]`)))
		if h := p.text("h1"); h != "Reset your password" {
			t.Errorf("heading %q", h)
		}
		p.do("reset through the mail's link",
			chromedp.Navigate(link),
			chromedp.WaitVisible(codeField),
			chromedp.SendKeys(codeField, code),
			chromedp.SendKeys(newPassword, annThird),
			chromedp.SendKeys(confirmField, annThird),
			chromedp.Click(submit),
			// No sign-in was waiting: the tenant's own sign-in, then its
			// welcome page.
			chromedp.WaitVisible(chromedp.CSS(`a.button[href^="/sign-in"]`)),
			chromedp.Click(chromedp.CSS(`a.button[href^="/sign-in"]`)),
			chromedp.WaitVisible(loginForm),
		)
		if v, _ := chromedp.Run(p.ctx, chromedp.Value(usernameField)); v != "ann" {
			t.Errorf("username field %q, want ann prefilled", v)
		}
		p.do("sign in with the new password",
			chromedp.SendKeys(passwordField, annThird),
			chromedp.Click(submit),
			chromedp.WaitVisible(chromedp.ID("signed-in-as")),
		)
		if got := p.text("#signed-in-as"); got != "You are signed in to Acme BV as ann." {
			t.Errorf("welcome page: %q", got)
		}
	})

	t.Run("expiry and resend", func(t *testing.T) {
		bob := st.createUser("acme", adminapi.CreateUserRequest{Username: "bob", Email: "bob@example.com"})
		st.userAction(bob, "activate")
		first := seen.temp(t, st.smtp.WaitFor("bob@example.com", "Your account", 10*time.Second))
		st.clock.Advance(8 * 24 * time.Hour) // past the default 7 days

		p := st.person(t, browser)
		p.signIn(st, "bob", first)
		if got := p.alert(); got != "Your temporary password has expired. Ask your administrator to send a new invitation." {
			t.Errorf("expired: %q", got)
		}
		st.userAction(bob, "resend-invitation")
		var second string
		for deadline := time.Now().Add(10 * time.Second); second == "" || second == first; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no second welcome mail")
			}
			if st.smtp.Count("bob@example.com", "Your account") == 2 {
				second = seen.temp(t, st.smtp.WaitFor("bob@example.com", "Your account", time.Second))
			}
		}
		p.signIn(st, "bob", first)
		if got := p.alert(); got != "Incorrect username or password." {
			t.Errorf("old temporary password after the resend: %q", got)
		}
		p.signIn(st, "bob", second)
		if claims := p.chooseNewPassword("Bob-Chosen-1!"); claims["cognito:username"] != "bob" {
			t.Errorf("claims %v", claims)
		}
	})

	t.Run("deactivation", func(t *testing.T) {
		const pw = "Carol-Chosen-1!"
		carol := st.createUser("acme", adminapi.CreateUserRequest{Username: "carol", Email: "carol@example.com", Password: pw})
		conf, refresh := st.tokensOver(t, "carol", pw)
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, rp.LoopbackClient())
		renewed, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
		if err != nil || renewed.RefreshToken == "" {
			t.Fatalf("refresh while active: %v", err)
		}

		off := false
		st.admin(http.MethodPatch, "/tenants/acme/users/"+carol, adminapi.UpdateUserRequest{Enabled: &off}, nil, http.StatusOK)
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: renewed.RefreshToken}).Token(); err == nil {
			t.Error("the refresh token still works after deactivation")
		}
		p := st.person(t, browser)
		p.signIn(st, "carol", pw)
		if got := p.alert(); got != "Incorrect username or password." {
			t.Errorf("deactivated sign-in: %q", got)
		}
	})

	t.Run("find your organization by email", func(t *testing.T) {
		for _, slug := range []string{"globex", "initech"} {
			st.admin(http.MethodPost, "/tenants", adminapi.CreateTenantRequest{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:]}, nil, http.StatusCreated)
		}
		st.createUser("globex", adminapi.CreateUserRequest{Username: "ann.g", Email: "ANN@example.com", Password: "Globex-Pass-1!"})
		st.createUser("initech", adminapi.CreateUserRequest{Username: "dora", Email: "dora@example.com", Password: "Initech-Pass-1!"})

		p := st.person(t, browser)
		screen := map[string]string{}
		for _, email := range []string{"ann@example.com", "zed@example.com"} {
			p.do("look up "+email,
				chromedp.Navigate(st.base+"/"),
				chromedp.WaitVisible(chromedp.CSS(`input#organization`)),
				chromedp.SendKeys(chromedp.CSS(`input#organization`), email),
				chromedp.Click(submit),
				chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)),
			)
			screen[email] = strings.ReplaceAll(p.text("main"), email, "EMAIL")
		}
		if screen["ann@example.com"] != screen["zed@example.com"] || !strings.Contains(screen["zed@example.com"], "Check your email") {
			t.Errorf("the screens differ:\n%s\n----\n%s", screen["ann@example.com"], screen["zed@example.com"])
		}
		port := strings.TrimPrefix(st.base, "http://localhost")
		ann := st.smtp.WaitFor("ann@example.com", "Sign in to your organization", 10*time.Second)
		links := regexp.MustCompile(`http://[a-z]+\.localhost`+port+`/`).FindAllString(ann.Text, -1)
		want := []string{"http://acme.localhost" + port + "/", "http://globex.localhost" + port + "/"}
		if strings.Join(links, " ") != strings.Join(want, " ") {
			t.Errorf("links %v, want %v:\n%s", links, want, ann.Text)
		}
		if zed := st.smtp.WaitFor("zed@example.com", "Sign in to your organization", 10*time.Second); strings.Contains(zed.Text, "http") {
			t.Errorf("an unknown address got links:\n%s", zed.Text)
		}
	})

	st.checkLogHoldsNo(t, seen)
}

// tokensOver signs a user in over plain HTTP, as a browser would, with the
// authorization code flow and PKCE, and returns the refresh token.
func (st *onboardingStack) tokensOver(t *testing.T, username, pw string) (*oauth2.Config, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := rp.LoopbackClient()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	conf := &oauth2.Config{ClientID: st.clientID, RedirectURL: st.rpURL + "/callback", Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: st.tenantURL + "/oauth2/authorize", TokenURL: st.tenantURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	next := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier))
	var form url.Values
	for range 10 {
		if strings.HasPrefix(next, st.rpURL) {
			break
		}
		var resp *http.Response
		var err error
		if form != nil {
			resp, err = client.PostForm(next, form)
			form = nil
		} else {
			resp, err = client.Get(next)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc, err := resp.Location(); err == nil {
			next = loc.String()
			continue
		}
		// The login page: post its form with the name and password.
		form = url.Values{"login": {username}, "password": {pw}}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(string(body), -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		if form.Get("authRequestID") == "" {
			t.Fatalf("%s: status %d, no login form:\n%s", next, resp.StatusCode, body)
		}
		next = st.tenantURL + "/login"
	}
	u, err := url.Parse(next)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("the sign-in ended at %s, not at the relying party with a code", next)
	}
	tok, err := conf.Exchange(context.WithValue(t.Context(), oauth2.HTTPClient, rp.LoopbackClient()), u.Query().Get("code"),
		oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}
	return conf, tok.RefreshToken
}

// checkLogHoldsNo fails when a temporary password or a code from a mail is
// anywhere in the server's log.
func (st *onboardingStack) checkLogHoldsNo(t *testing.T, s secrets) {
	t.Helper()
	logs := st.logs.String()
	if len(s.temps) == 0 || len(s.codes) == 0 {
		t.Errorf("the check saw %d passwords and %d codes; did the scenarios run?", len(s.temps), len(s.codes))
	}
	for _, temp := range s.temps {
		if strings.Contains(logs, temp) {
			t.Errorf("the log contains a temporary password")
		}
	}
	for _, code := range s.codes {
		// A code is six digits: look for it as a whole token, not inside
		// a longer number or an ID.
		if regexp.MustCompile(`(^|[^0-9A-Za-z])` + code + `([^0-9A-Za-z]|$)`).MatchString(logs) {
			t.Errorf("the log contains the code %s", code)
		}
	}
}

// SMTP down while a user is activated, a restart, then SMTP up: the welcome
// mail arrives, once, and its secret does not stay in the store.
func TestOnboardingMailSurvivesOutageAndRestart(t *testing.T) {
	st := newOnboardingStack(t)
	st.smtp.Down()
	erin := st.createUser("acme", adminapi.CreateUserRequest{Username: "erin", Email: "erin@example.com"})
	if u := st.userAction(erin, "activate"); u.Status != "FORCE_CHANGE_PASSWORD" {
		t.Fatalf("activated while SMTP is down: %s", u.Status)
	}
	// The outbox tries at once, fails, and keeps the mail.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(st.logs.String(), "mail delivery failed; will retry"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the outbox did not try to deliver")
		}
	}

	st.restart()
	if n, err := (tenant.MailQueue{Store: st.store}).Pending(t.Context()); err != nil || n != 1 {
		t.Fatalf("after the restart %d mails wait (%v), want 1", n, err)
	}
	st.smtp.Up()
	st.clock.Advance(time.Minute) // past the back-off
	m := st.smtp.WaitFor("erin@example.com", "Your account for Acme BV", 10*time.Second)
	temp := welcomeTemp.FindStringSubmatch(m.Text)
	if temp == nil {
		t.Fatalf("welcome mail without a password:\n%s", m.Text)
	}

	// More passes of the outbox send nothing again.
	st.clock.Advance(time.Hour)
	time.Sleep(300 * time.Millisecond)
	if n := st.smtp.Count("erin@example.com", "Your account"); n != 1 {
		t.Errorf("the welcome mail arrived %d times, want once", n)
	}
	err := st.store.View(t.Context(), func(tx tenant.Tx) error {
		return tx.Scan(tenant.CollOutbox, "", "", "", func(key string, v []byte) bool {
			if bytes.Contains(v, []byte(temp[1])) {
				t.Errorf("the store still holds the temporary password under %s", key)
			}
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := (tenant.MailQueue{Store: st.store}).Pending(t.Context()); n != 0 {
		t.Errorf("%d mails still wait", n)
	}
	if strings.Contains(st.logs.String(), temp[1]) {
		t.Error("the log contains the temporary password")
	}
}
