// Command cognate-bench is the load generator for Cognate's benchmarks. It
// sets up its own tenants and clients through the admin API of a running
// server, drives each scenario over keep-alive HTTP on loopback, and
// measures in the same run the raw cost of each scenario's bottleneck
// (RS256/ES256 signing, argon2id), so the report gives ratios that hold on
// any machine. Method and figures: docs/benchmarks.md.
//
//	taskset -c 0 cognate serve &
//	taskset -c 1 cognate-bench --duration 10s --passes 3 --server-cpu 0
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/oauth2"
	"golang.org/x/sys/unix"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cognate-bench:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2) // as the flag package does for a malformed command line
		}
		os.Exit(1)
	}
}

// usageError is a command line that makes no sense.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// scenarioNames are the scenarios, in the order they run (benchmark).
var scenarioNames = []string{"healthz", "discovery", "jwks", "cc-es256", "cc-rs256", "login"}

// checkFlags refuses what would measure nothing, or nothing sensible: an
// unknown scenario (a typing error would otherwise print an empty table),
// and a pass count, a duration or a concurrency below one.
func checkFlags(scenarios []string, passes, concurrency int, duration time.Duration) error {
	var problems []error
	if len(scenarios) == 0 {
		problems = append(problems, fmt.Errorf("--scenarios names none; the scenarios are %s", strings.Join(scenarioNames, ", ")))
	}
	for _, name := range scenarios {
		if !slices.Contains(scenarioNames, name) {
			problems = append(problems, fmt.Errorf("--scenarios: %q is not a scenario; the scenarios are %s", name, strings.Join(scenarioNames, ", ")))
		}
	}
	if passes < 1 {
		problems = append(problems, fmt.Errorf("--passes %d: give 1 or more (the median of the passes is reported)", passes))
	}
	if concurrency < 1 {
		problems = append(problems, fmt.Errorf("--concurrency %d: give 1 or more connections", concurrency))
	}
	if duration <= 0 {
		problems = append(problems, fmt.Errorf("--duration %s: give a length of a pass, such as 10s", duration))
	}
	if err := errors.Join(problems...); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

type options struct {
	server      *url.URL
	token       string
	duration    time.Duration
	passes      int
	concurrency int
	scenarios   []string
	serverCPU   int
	verbose     bool
}

func run() error {
	server := flag.String("server", "http://localhost:8080", "base URL of the running server")
	token := flag.String("token", os.Getenv("COGNATE_ADMIN_TOKEN"), "operator token (default $COGNATE_ADMIN_TOKEN)")
	tokenFile := flag.String("token-file", "cognate-admin.token", "file holding the operator token, when --token is empty")
	duration := flag.Duration("duration", 10*time.Second, "length of one pass of one scenario")
	passes := flag.Int("passes", 3, "passes per scenario; the median is reported")
	conc := flag.Int("concurrency", 32, "concurrent keep-alive connections")
	scen := flag.String("scenarios", strings.Join(scenarioNames, ","), "comma-separated scenarios")
	serverCPU := flag.Int("server-cpu", -1, "the core the server is pinned to: raw costs are measured there (-1: on this process's core)")
	verbose := flag.Bool("v", false, "also print every pass, every raw measurement and every ratio")
	cpuProfile := flag.String("cpuprofile", "", "write the load generator's own CPU profile here, to check it is not the bottleneck")
	bare := flag.Bool("serve-bare", false, "internal: be the bare HTTP server whose rates are raw costs of discovery, JWKS and ES256 tokens (see bare.go)")
	flag.Parse()
	var scenarios []string
	for name := range strings.SplitSeq(*scen, ",") {
		if name = strings.TrimSpace(name); name != "" {
			scenarios = append(scenarios, name)
		}
	}
	if err := checkFlags(scenarios, *passes, *conc, *duration); err != nil && !*bare {
		return err
	}
	if *bare {
		return serveBare(context.Background(), os.Stdin, os.Stdout, *serverCPU)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	base, err := url.Parse(*server)
	if err != nil || base.Host == "" {
		return fmt.Errorf("--server %q is not a URL", *server)
	}
	if *token == "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("no operator token: set --token or --token-file: %w", err)
		}
		*token = strings.TrimSpace(string(b))
	}
	o := options{server: base, token: *token, duration: *duration, passes: *passes, concurrency: *conc,
		scenarios: scenarios, serverCPU: *serverCPU, verbose: *verbose}
	return benchmark(context.Background(), o)
}

// transport dials the server for every *.localhost name, so tenant hosts
// need no DNS, and keeps connections alive between requests.
func transport(o options) *http.Transport {
	addr := o.server.Host
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		MaxIdleConns:        o.concurrency * 2,
		MaxIdleConnsPerHost: o.concurrency * 2,
	}
}

func tenantURL(o options, slug string) string {
	return o.server.Scheme + "://" + slug + "." + o.server.Host
}

// fixture is what the scenarios need of one tenant.
type fixture struct {
	slug         string
	machineID    string
	machineKey   string
	publicID     string
	username     string
	userPassword string
}

const benchRedirect = "http://localhost:1/callback"

func setup(ctx context.Context, o options, hc *http.Client, slug, alg string) (fixture, error) {
	f := fixture{slug: slug, username: "bench-user", userPassword: "Bench-Passw0rd!"}
	admin := func(method, path string, in, out any) error {
		body, _ := json.Marshal(in)
		req, _ := http.NewRequestWithContext(ctx, method, o.server.String()+"/admin/v1"+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+o.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return &statusError{method: method, path: path, status: resp.StatusCode, body: raw}
		}
		if out != nil {
			return json.Unmarshal(raw, out)
		}
		return nil
	}
	err := admin("POST", "/tenants", adminapi.CreateTenantRequest{Slug: slug, Name: "Benchmark " + alg,
		Settings: &adminapi.SettingsChange{SigningAlg: &alg}}, nil)
	if err != nil && !isStatus(err, http.StatusConflict) { // made by an earlier run
		return f, err
	}
	var machine adminapi.ClientWithSecret
	if err := admin("POST", "/tenants/"+slug+"/clients", adminapi.CreateClientRequest{Name: "bench machine",
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"bench/read"}}, &machine); err != nil {
		return f, err
	}
	f.machineID, f.machineKey = machine.ClientID, machine.ClientSecret
	var public adminapi.ClientWithSecret
	if err := admin("POST", "/tenants/"+slug+"/clients", adminapi.CreateClientRequest{Name: "bench app", Public: true,
		RedirectURIs: []string{benchRedirect}}, &public); err != nil {
		return f, err
	}
	f.publicID = public.ClientID
	err = admin("POST", "/tenants/"+slug+"/users", map[string]any{"username": f.username, "email": "bench@example.com",
		"email_verified": true, "password": f.userPassword}, nil)
	if err != nil && !isStatus(err, http.StatusConflict) {
		return f, err
	}
	return f, nil
}

// statusError is an answer of the admin API that is no success: its
// status, for the caller to branch on, and its body, to read.
type statusError struct {
	method, path string
	status       int
	body         []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.body)
}

// isStatus reports whether err is an answer of the admin API with status.
func isStatus(err error, status int) bool {
	var se *statusError
	return errors.As(err, &se) && se.status == status
}

type scenario struct {
	name string
	// raws name the raw costs measured beside it, if any: the first is its
	// bottleneck, which its target is set against.
	raws []string
	// once performs one operation with its own client.
	once func(ctx context.Context, hc *http.Client) error
}

func benchmark(ctx context.Context, o options) error {
	tr := transport(o)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	rs, err := setup(ctx, o, hc, "bench-rs", "RS256")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	es, err := setup(ctx, o, hc, "bench-es", "ES256")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	all := []scenario{ // one for each of scenarioNames
		// For scale: the server's smallest answer (a health probe, before
		// any routing).
		{"healthz", nil, rawRequest(o, get("bench-rs", "/healthz"))},
		{"discovery", []string{"bare-discovery"}, rawRequest(o, get("bench-rs", pathDiscovery))},
		{"jwks", []string{"bare-jwks"}, rawRequest(o, get("bench-rs", pathJWKS))},
		{"cc-es256", []string{"sign-es256", "bare-es256"}, rawRequest(o, clientCredentials(es))},
		{"cc-rs256", []string{"sign-rs256"}, rawRequest(o, clientCredentials(rs))},
		{"login", []string{"argon2id"}, login(o, rs)},
	}
	onServerCPU := func(op func() error) func() (float64, error) {
		return func() (float64, error) { return rateOnCPU(op, o.duration/4, o.serverCPU) }
	}
	raws := map[string]func() (float64, error){
		"sign-es256": onServerCPU(rawSigner(must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)))),
		"sign-rs256": onServerCPU(rawSigner(must(rsa.GenerateKey(rand.Reader, 2048)))),
		"argon2id": onServerCPU(func() error {
			argon2.IDKey([]byte("Bench-Passw0rd!"), []byte("0123456789abcdef"), 2, 19456, 1, 32)
			return nil
		}),
	}
	if slices.ContainsFunc(o.scenarios, func(s string) bool { return s == "discovery" || s == "jwks" || s == "cc-es256" }) {
		requests := map[string]bareRequest{
			"bare-discovery": {path: pathDiscovery, build: get("bench-rs", pathDiscovery)},
			"bare-jwks":      {path: pathJWKS, build: get("bench-rs", pathJWKS)},
			"bare-es256":     {path: pathToken, build: clientCredentials(es), sign: true},
		}
		bare, err := startBare(ctx, o, slices.Collect(maps.Values(requests)))
		if err != nil {
			return fmt.Errorf("bare server: %w", err)
		}
		defer bare.stop()
		for name, req := range requests {
			raws[name] = bare.rate(o, tr, req)
		}
	}

	fmt.Printf("server %s, %d connections, %d passes of %s, medians\n", o.server, o.concurrency, o.passes, o.duration)
	fmt.Printf("%-10s %12s %12s %14s %8s\n", "scenario", "req/s", "raw op/s", "raw scenario", "ratio")
	for _, sc := range all {
		if !slices.Contains(o.scenarios, sc.name) {
			continue
		}
		// The raw rate is measured on the server's core before the first
		// pass and after each one (the server is idle then), and each pass
		// is compared with the mean of the raw rates on either side of it:
		// this machine's speed drifts by tens of percent within minutes, so
		// a ratio is only fair between measurements taken close together.
		var rates []float64
		rawRates := make([][]float64, len(sc.raws)) // per raw cost, before the first pass and after each
		ratios := make([][]float64, len(sc.raws))
		measureRaws := func() error {
			for i, name := range sc.raws {
				r, err := raws[name]()
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				rawRates[i] = append(rawRates[i], r)
			}
			return nil
		}
		if err := measureRaws(); err != nil {
			return err
		}
		for range o.passes {
			r, err := load(ctx, o, tr, sc.once)
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			rates = append(rates, r)
			if err := measureRaws(); err != nil {
				return err
			}
			for i, rr := range rawRates {
				n := len(rr)
				ratios[i] = append(ratios[i], r/((rr[n-2]+rr[n-1])/2))
			}
		}
		line := fmt.Sprintf("%-10s %12.0f", sc.name, median(rates))
		for i, name := range sc.raws {
			if i > 0 {
				line += fmt.Sprintf("\n%-10s %12s", "", "")
			}
			line += fmt.Sprintf(" %12.1f %14s %7.0f%%", median(rawRates[i]), name, 100*median(ratios[i]))
		}
		fmt.Println(line)
		if o.verbose {
			fmt.Printf("%-10s passes %s\n", "", formatRates(rates))
			for i, name := range sc.raws {
				fmt.Printf("%-10s raw    %s (%s)\n", "", formatRates(rawRates[i]), name)
				fmt.Printf("%-10s ratios %s\n", "", formatPercents(ratios[i]))
			}
		}
	}
	return nil
}

func formatRates(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(parts, " ")
}

func formatPercents(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(100*x, 'f', 0, 64) + "%"
	}
	return strings.Join(parts, " ")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// load runs once from o.concurrency workers for o.duration and returns the
// rate of successes; any failure stops the pass.
func load(ctx context.Context, o options, tr *http.Transport, once func(context.Context, *http.Client) error) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range o.concurrency {
		wg.Go(func() {
			hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for ctx.Err() == nil {
				err := once(ctx, hc)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

// rateOnCPU is rate with this whole process moved to cpu (when cpu ≥ 0):
// cores of a shared machine differ in speed, so the bottleneck's raw cost
// is measured where the server runs, while it is idle between passes.
// Every thread moves, not only the caller's, because an operation may run
// on other goroutines: x/crypto's argon2 hashes each lane in a goroutine of
// its own, which pinning one thread would leave on the load generator's core.
func rateOnCPU(op func() error, d time.Duration, cpu int) (float64, error) {
	// The pass just ended left garbage; collected now, on the load
	// generator's own core, it does not compete with the measurement.
	runtime.GC()
	if cpu < 0 {
		return rate(op, d), nil
	}
	var home unix.CPUSet
	if err := unix.SchedGetaffinity(0, &home); err != nil {
		return 0, fmt.Errorf("read cpu affinity: %w", err)
	}
	var there unix.CPUSet
	there.Set(cpu)
	if err := setProcessAffinity(&there); err != nil {
		return 0, fmt.Errorf("move to cpu %d: %w", cpu, err)
	}
	r := rate(op, d)
	if err := setProcessAffinity(&home); err != nil {
		return 0, fmt.Errorf("move back from cpu %d: %w", cpu, err)
	}
	return r, nil
}

// setProcessAffinity sets the CPU affinity of every thread of this process.
// Threads started meanwhile inherit it from the thread that starts them,
// which has it already.
func setProcessAffinity(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		// A thread that ended since the listing is no error.
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	return nil
}

// rate runs op on this goroutine (one core) for d and returns ops/s.
func rate(op func() error, d time.Duration) float64 {
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if err := op(); err != nil {
			panic(err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

func rawSigner(k crypto.Signer) func() error {
	digest := sha256.Sum256([]byte("header.payload"))
	return func() error {
		_, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
		return err
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// The simple scenarios send fixed requests over raw keep-alive connections:
// Go's http.Client costs about as much per request as the server does, and
// on a 2-core machine the load generator must not be what is measured.

func get(slug, path string) func(host string) string {
	return func(host string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: " + slug + "." + host + "\r\n\r\n"
	}
}

func clientCredentials(f fixture) func(host string) string {
	body := "grant_type=client_credentials&scope=bench%2Fread"
	basic := base64.StdEncoding.EncodeToString([]byte(f.machineID + ":" + f.machineKey))
	return func(host string) string {
		return "POST " + pathToken + " HTTP/1.1\r\nHost: " + f.slug + "." + host +
			"\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: Basic " + basic +
			"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
}

// rawRequest returns an operation that sends the request on the worker's
// own connection (opened on first use, reopened after an error) and checks
// for a 200 with a body.
func rawRequest(o options, build func(host string) string) func(context.Context, *http.Client) error {
	req := []byte(build(o.server.Host))
	type conn struct {
		c net.Conn
		r *bufio.Reader
	}
	var pool sync.Pool // one connection per worker goroutine at a time
	return func(ctx context.Context, _ *http.Client) error {
		cn, _ := pool.Get().(*conn)
		if cn == nil {
			c, err := net.Dial("tcp", o.server.Host)
			if err != nil {
				return err
			}
			cn = &conn{c: c, r: bufio.NewReaderSize(c, 16<<10)}
		}
		if err := roundTrip(cn.c, cn.r, req); err != nil {
			cn.c.Close()
			return err
		}
		pool.Put(cn)
		return nil
	}
}

func roundTrip(c net.Conn, r *bufio.Reader, req []byte) error {
	if _, err := c.Write(req); err != nil {
		return err
	}
	status, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length < 0 {
		return fmt.Errorf("response without Content-Length: %s", strings.TrimSpace(status))
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200") {
		return fmt.Errorf("%s: %.200s", strings.TrimSpace(status), body)
	}
	return nil
}

var hiddenInput = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
var attr = regexp.MustCompile(`(name|value)="([^"]*)"`)

// login is a full password sign-in as a browser makes it: authorize → login
// page → form post → callback → code exchange, with a fresh cookie jar so
// no SSO session shortens it.
func login(o options, f fixture) func(context.Context, *http.Client) error {
	iss := tenantURL(o, f.slug)
	cfg := oauth2.Config{ClientID: f.publicID, RedirectURL: benchRedirect, Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: iss + "/oauth2/authorize", TokenURL: iss + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	return func(ctx context.Context, shared *http.Client) error {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Transport: shared.Transport, Jar: jar, CheckRedirect: shared.CheckRedirect}
		verifier := oauth2.GenerateVerifier()
		next, err := redirect(hc.Get(cfg.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier))))
		if err != nil {
			return fmt.Errorf("authorize: %w", err)
		}
		page, err := hc.Get(iss + next)
		if err != nil {
			return err
		}
		html, _ := io.ReadAll(page.Body)
		page.Body.Close()
		form := url.Values{"login": {f.username}, "password": {f.userPassword}}
		for _, in := range hiddenInput.FindAll(html, -1) {
			var name, value string
			for _, m := range attr.FindAllSubmatch(in, -1) {
				if string(m[1]) == "name" {
					name = string(m[2])
				} else {
					value = string(m[2])
				}
			}
			form.Set(name, value)
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", iss+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", iss)
		cb, err := redirect(hc.Do(req))
		if err != nil {
			return fmt.Errorf("login form: %w", err)
		}
		back, err := redirect(hc.Get(absolute(iss, cb)))
		if err != nil {
			return fmt.Errorf("callback: %w", err)
		}
		bu, _ := url.Parse(back)
		code := bu.Query().Get("code")
		if code == "" {
			return fmt.Errorf("callback gave no code: %s", back)
		}
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
			return fmt.Errorf("exchange: %w", err)
		}
		return nil
	}
}

func absolute(base, ref string) string {
	if strings.HasPrefix(ref, "http") {
		return ref
	}
	return base + ref
}

func redirect(resp *http.Response, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return "", fmt.Errorf("%s: status %d: %.300s", resp.Request.URL, resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("redirect without Location")
	}
	return loc, nil
}
