package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// `cognate import cognito` sends a Cognito export to the admin API's import
// endpoint, streaming the file, and shows the report. `cognate migrate
// cognito` (migrate.go) does the same for many organizations at once.

// importCommandLine runs `cognate import SOURCE ...` and `cognate migrate
// SOURCE ...`; Cognito is the only source so far.
func importCommandLine(ctx context.Context, cmd string, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		w, code := stderr, exitUsage
		if len(args) > 0 {
			w, code = stdout, exitOK
		}
		writeImportUsage(w, cmd)
		return code
	}
	if args[0] != "cognito" {
		fmt.Fprintf(stderr, "cognate %s: unknown source %q; Cognito is the one there is\n\n", cmd, args[0])
		writeImportUsage(stderr, cmd)
		return exitUsage
	}
	if cmd == "migrate" {
		return migrateCognito(ctx, args[1:], env, stdout, stderr)
	}
	return importCognito(ctx, args[1:], env, stdin, stdout, stderr)
}

func writeImportUsage(w io.Writer, cmd string) {
	if cmd == "migrate" {
		fmt.Fprint(w, `Usage: cognate migrate cognito --map FILE [--dry-run] [flags]

Import the users of many Cognito user pools, or of one shared pool split by an
attribute, each organization into its own tenant; tenants are created as needed.
Run "cognate migrate cognito -h" for the flags and docs/import.md for the map.
`)
		return
	}
	fmt.Fprint(w, `Usage: cognate import cognito --tenant SLUG [--format csv|json] [--dry-run] FILE

Import users from a Cognito user import CSV or a JSON dump of ListUsers or
AdminGetUser output (FILE "-" reads standard input). Re-running is safe: users
are updated, never duplicated. Run "cognate import cognito -h" for the flags
and docs/import.md for the formats.
`)
}

func importCognito(ctx context.Context, args []string, env map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "cognate import cognito"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	slug := fs.String("tenant", "", "tenant slug (required)")
	format := fs.String("format", "", "csv or json (default: from FILE's extension: .csv; .json, .jsonl or .ndjson)")
	dryRun := fs.Bool("dry-run", false, "check every line and report what would happen, writing nothing")
	var conn connection
	conn.register(fs, env)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s --tenant SLUG [flags] FILE\n\n"+
			"Import users from a Cognito CSV or JSON export into a tenant. Exits 1 if any line failed.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "%s: %s\nRun \"%s -h\" for its flags.\n", name, msg, name)
		return exitUsage
	}
	if len(positional) != 1 {
		return usage(fmt.Sprintf("want one FILE, got %d argument(s)", len(positional)))
	}
	if *slug == "" {
		return usage("--tenant is required")
	}
	path := positional[0]
	f, err := importFileFormat(*format, path)
	if err != nil {
		return usage(err.Error())
	}
	client, err := conn.client(env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}
	body, size, err := openImportFile(path, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}
	defer body.Close()

	res, raw, err := client.importFile(ctx, *slug, f, *dryRun, body, size)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}
	if conn.json {
		printRawJSON(stdout, raw)
	} else {
		showImport(stdout, f, res)
	}
	if res.Summary.Failed > 0 {
		return exitError
	}
	return exitOK
}

// importFileFormat is --format, else what the file name says.
func importFileFormat(flagValue, path string) (string, error) {
	switch strings.ToLower(flagValue) {
	case "csv", "json":
		return strings.ToLower(flagValue), nil
	case "":
	default:
		return "", fmt.Errorf("--format %q: want csv or json", flagValue)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv", nil
	case ".json", ".jsonl", ".ndjson":
		return "json", nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its name: add --format csv or --format json", path)
}

// openImportFile opens the file to send, or standard input for "-". The
// size is -1 when unknown, and the upload is then chunked.
func openImportFile(path string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !info.Mode().IsRegular() {
		return f, -1, nil
	}
	return f, info.Size(), nil
}

// importFile streams body to the import endpoint. Unlike call, it sends the
// body as it is read and has no overall time limit: a large import takes
// minutes, and the server bounds it.
func (c *apiClient) importFile(ctx context.Context, slug, format string, dryRun bool, body io.Reader, size int64) (adminapi.ImportResult, []byte, error) {
	q := url.Values{"format": {format}}
	if dryRun {
		q.Set("dry_run", "true")
	}
	path := tenantPath(slug) + "/import?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server+path, body)
	if err != nil {
		return adminapi.ImportResult{}, nil, err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json"}[format])
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return adminapi.ImportResult{}, nil, fmt.Errorf("cannot reach the Cognate server at %s (is it running? --server names another): %w", c.server, err)
	}
	defer resp.Body.Close()
	var res adminapi.ImportResult
	raw, err := c.answer(resp, http.MethodPost, path, &res)
	if err == nil && len(raw) == 0 {
		err = fmt.Errorf("the answer of %s to POST %s is empty", c.server, path)
	}
	return res, raw, err
}

func printRawJSON(w io.Writer, raw []byte) {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		buf.Reset()
		buf.Write(raw)
	}
	fmt.Fprintln(w, strings.TrimSpace(buf.String()))
}

// showImport prints the failed lines with their reasons, then the summary.
func showImport(w io.Writer, format string, res adminapi.ImportResult) {
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warning)
	}
	// CSV results are numbered by line, JSON results by user.
	unit := map[string]string{"csv": "Line", "json": "User"}[format]
	notes := 0
	for _, l := range res.Lines {
		if l.Outcome != "failed" {
			if l.Reason != "" {
				notes++
			}
			continue
		}
		showFailure(w, unit, l)
	}
	s := res.Summary
	fmt.Fprintf(w, "Created %d, updated %d, unchanged %d, failed %d.", s.Created, s.Updated, s.Skipped, s.Failed)
	if s.GroupsCreated > 0 {
		fmt.Fprintf(w, " Groups created: %d.", s.GroupsCreated)
	}
	fmt.Fprintln(w)
	if notes > 0 {
		fmt.Fprintf(w, "%d imported users have notes (such as MFA to set up again); --json shows them.\n", notes)
	}
	if res.LinesOmitted > 0 {
		fmt.Fprintf(w, "The server listed every failure up to 10,000 and the first 1,000 other results; %d more are counted above only.\n", res.LinesOmitted)
	}
	if res.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was written.")
	}
}

func showFailure(w io.Writer, unit string, l adminapi.ImportLine) {
	who := ""
	if l.Username != "" {
		who = " (" + l.Username + ")"
	}
	fmt.Fprintf(w, "%s %d%s: %s\n", unit, l.Line, who, l.Reason)
}

// ---- cognate migrate cognito ----

// migrationMap is the --map file of `cognate migrate cognito`, in YAML or
// JSON (docs/import.md): pools exported one per organization, and one pool
// shared by organizations told apart by an attribute.
type migrationMap struct {
	Pools  []migrationPool `yaml:"pools"`
	Shared *sharedPool     `yaml:"shared"`
}

type migrationPool struct {
	File   string `yaml:"file"`
	Tenant string `yaml:"tenant"`
	Name   string `yaml:"name"`   // the tenant's display name, if it is created
	Format string `yaml:"format"` // default from the file's extension
}

type sharedPool struct {
	File      string            `yaml:"file"`
	Format    string            `yaml:"format"`
	Attribute string            `yaml:"attribute"` // such as custom:org
	Tenants   map[string]string `yaml:"tenants"`   // attribute value → tenant slug
	Names     map[string]string `yaml:"names"`     // tenant slug → display name, if it is created
}

// readMigrationMap reads and checks a map, and makes its file names
// relative to the map's own directory.
func readMigrationMap(path string) (migrationMap, error) {
	var m migrationMap
	raw, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a misspelt key must not silently drop a pool
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("map %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	resolve := func(f string) string {
		if f == "" || f == "-" || filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(dir, f)
	}
	var problems []string
	for i := range m.Pools {
		p := &m.Pools[i]
		if p.File == "" || p.Tenant == "" {
			problems = append(problems, fmt.Sprintf("pools[%d] needs a file and a tenant", i))
		}
		if _, err := importFileFormat(p.Format, p.File); err != nil && p.File != "" {
			problems = append(problems, fmt.Sprintf("pools[%d]: %s", i, err))
		}
		p.File = resolve(p.File)
	}
	if s := m.Shared; s != nil {
		if s.File == "" || s.Attribute == "" || len(s.Tenants) == 0 {
			problems = append(problems, "shared needs a file, an attribute and tenants (attribute value: tenant slug)")
		}
		if _, err := importFileFormat(s.Format, s.File); err != nil && s.File != "" {
			problems = append(problems, "shared: "+err.Error())
		}
		s.File = resolve(s.File)
	}
	if len(m.Pools) == 0 && m.Shared == nil {
		problems = append(problems, "the map has neither pools nor shared")
	}
	if len(problems) > 0 {
		return m, fmt.Errorf("map %s: %s", path, strings.Join(problems, "; "))
	}
	return m, nil
}

// migrationJob is one import into one tenant.
type migrationJob struct {
	tenant, name string
	label        string // where the users come from, for people
	format       string
	path         string
	// lines maps the user index in a part of a shared file to the line
	// (or user index) in the original file; nil for a whole file.
	lines []int
}

// migrationReport is what --json prints.
type migrationReport struct {
	TenantsCreated []string              `json:"tenants_created"`
	Imports        []migrationImport     `json:"imports"`
	Unassigned     []adminapi.ImportLine `json:"unassigned"`
}

type migrationImport struct {
	Tenant string                 `json:"tenant"`
	From   string                 `json:"from"`
	Result *adminapi.ImportResult `json:"result,omitempty"`
	Error  string                 `json:"error,omitempty"`
}

func migrateCognito(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) int {
	const name = "cognate migrate cognito"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	mapFile := fs.String("map", "", "the map of pools and organizations to tenants, YAML or JSON (required; see docs/import.md)")
	dryRun := fs.Bool("dry-run", false, "check every user of tenants that exist and report, writing nothing and creating no tenant")
	var conn connection
	conn.register(fs, env)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s --map FILE [flags]\n\n"+
			"Import many Cognito pools, or one pool shared by organizations, a tenant each; tenants are\n"+
			"created as needed. Exits 1 if any user failed.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(positional) != 0 || *mapFile == "" {
		fmt.Fprintf(stderr, "%s: --map FILE is required, and nothing else\nRun \"%s -h\" for its flags.\n", name, name)
		return exitUsage
	}
	m, err := readMigrationMap(*mapFile)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}
	client, err := conn.client(env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, err)
		return exitError
	}

	var jobs []migrationJob
	for _, p := range m.Pools {
		f, _ := importFileFormat(p.Format, p.File) // checked by readMigrationMap
		jobs = append(jobs, migrationJob{tenant: p.Tenant, name: p.Name, label: p.File, format: f, path: p.File})
	}
	report := migrationReport{TenantsCreated: []string{}, Imports: []migrationImport{}, Unassigned: []adminapi.ImportLine{}}
	if s := m.Shared; s != nil {
		dir, err := os.MkdirTemp("", "cognate-migrate-")
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", name, err)
			return exitError
		}
		defer os.RemoveAll(dir)
		parts, unassigned, err := splitShared(*s, dir)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s: %s\n", name, s.File, err)
			return exitError
		}
		jobs = append(jobs, parts...)
		report.Unassigned = append(report.Unassigned, unassigned...)
	}

	failed := len(report.Unassigned) > 0
	out := stdout
	if conn.json {
		out = io.Discard
	}
	if len(report.Unassigned) > 0 {
		f, _ := importFileFormat(m.Shared.Format, m.Shared.File)
		fmt.Fprintf(out, "== %s: users in no tenant ==\n", m.Shared.File)
		for _, l := range report.Unassigned {
			showFailure(out, map[string]string{"csv": "Line", "json": "User"}[f], l)
		}
	}
	exists := map[string]bool{}
	for _, job := range jobs {
		fmt.Fprintf(out, "== tenant %s, from %s ==\n", job.tenant, job.label)
		entry := migrationImport{Tenant: job.tenant, From: job.label}
		res, err := runMigrationJob(ctx, client, job, *dryRun, exists, &report)
		switch {
		case errors.Is(err, errTenantMissing):
			entry.Error = fmt.Sprintf("tenant %s does not exist yet; it would be created, and its users can be checked once it exists", job.tenant)
			fmt.Fprintln(out, entry.Error+".")
		case err != nil:
			failed = true
			entry.Error = err.Error()
			fmt.Fprintf(out, "Failed: %s\n", err)
		default:
			entry.Result = &res
			failed = failed || res.Summary.Failed > 0
			showImport(out, job.format, res)
		}
		report.Imports = append(report.Imports, entry)
	}
	if len(report.TenantsCreated) > 0 {
		fmt.Fprintf(out, "Tenants created: %s.\n", strings.Join(report.TenantsCreated, ", "))
	}
	if conn.json {
		raw, err := json.Marshal(report)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", name, err)
			return exitError
		}
		printRawJSON(stdout, raw)
	}
	if failed {
		return exitError
	}
	return exitOK
}

// errTenantMissing is a dry run's answer for a tenant it would create.
var errTenantMissing = errors.New("tenant does not exist yet")

// runMigrationJob makes sure the job's tenant exists (creating it unless
// this is a dry run) and imports the job's file into it.
func runMigrationJob(ctx context.Context, c *apiClient, job migrationJob, dryRun bool, exists map[string]bool, report *migrationReport) (adminapi.ImportResult, error) {
	if !exists[job.tenant] {
		_, err := c.call(ctx, http.MethodGet, tenantPath(job.tenant), nil, &adminapi.Tenant{})
		var apiErr *apiError
		switch {
		case errors.As(err, &apiErr) && apiErr.status == http.StatusNotFound:
			if dryRun {
				return adminapi.ImportResult{}, errTenantMissing
			}
			req := adminapi.CreateTenantRequest{Slug: job.tenant, Name: job.name}
			if _, err := c.call(ctx, http.MethodPost, "/admin/v1/tenants", req, &adminapi.Tenant{}); err != nil {
				return adminapi.ImportResult{}, fmt.Errorf("creating tenant %s: %w", job.tenant, err)
			}
			report.TenantsCreated = append(report.TenantsCreated, job.tenant)
		case err != nil:
			return adminapi.ImportResult{}, err
		}
		exists[job.tenant] = true
	}
	body, size, err := openImportFile(job.path, nil)
	if err != nil {
		return adminapi.ImportResult{}, err
	}
	defer body.Close()
	res, _, err := c.importFile(ctx, job.tenant, job.format, dryRun, body, size)
	if err != nil {
		return res, err
	}
	if job.lines != nil {
		// Back to the numbers of the file the person has.
		for i := range res.Lines {
			if n := res.Lines[i].Line; n >= 1 && n <= len(job.lines) {
				res.Lines[i].Line = job.lines[n-1]
			}
		}
	}
	return res, nil
}

// splitShared reads a shared pool's export once and writes each
// organization's users to a file of its own in dir, as JSON lines that lose
// nothing (cognitoimport.WriteJSON). Users whose attribute names no tenant,
// and lines that cannot be read, are returned as failures.
func splitShared(s sharedPool, dir string) ([]migrationJob, []adminapi.ImportLine, error) {
	format, _ := importFileFormat(s.Format, s.File)
	in, err := os.Open(s.File)
	if err != nil {
		return nil, nil, err
	}
	defer in.Close()
	src, err := cognitoimport.NewReader(bufio.NewReader(in), cognitoimport.Format(format))
	if err != nil {
		return nil, nil, err
	}
	type part struct {
		job  migrationJob
		file *os.File
		w    *bufio.Writer
	}
	parts := map[string]*part{}
	var order []string
	var unassigned []adminapi.ImportLine
	closeAll := func() {
		for _, p := range parts {
			p.file.Close()
		}
	}
	defer closeAll()
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		value := rec.Attributes[s.Attribute]
		slug, mapped := s.Tenants[value]
		switch {
		case rec.Problem() != "":
			unassigned = append(unassigned, adminapi.ImportLine{Line: rec.Line, Username: rec.Username, Outcome: "failed", Reason: rec.Problem()})
			continue
		case value == "":
			unassigned = append(unassigned, adminapi.ImportLine{Line: rec.Line, Username: rec.Username, Outcome: "failed",
				Reason: fmt.Sprintf("the user has no %s, so it belongs to no tenant", s.Attribute)})
			continue
		case !mapped:
			unassigned = append(unassigned, adminapi.ImportLine{Line: rec.Line, Username: rec.Username, Outcome: "failed",
				Reason: fmt.Sprintf("%s %q is not in the map's tenants", s.Attribute, value)})
			continue
		}
		p := parts[slug]
		if p == nil {
			f, err := os.CreateTemp(dir, slug+"-*.jsonl")
			if err != nil {
				return nil, nil, err
			}
			p = &part{file: f, w: bufio.NewWriter(f), job: migrationJob{
				tenant: slug, name: s.Names[slug], format: "json", path: f.Name(), lines: []int{},
				label: fmt.Sprintf("%s (%s)", s.File, s.Attribute),
			}}
			parts[slug] = p
			order = append(order, slug)
		}
		if err := cognitoimport.WriteJSON(p.w, rec); err != nil {
			return nil, nil, err
		}
		p.job.lines = append(p.job.lines, rec.Line)
	}
	jobs := make([]migrationJob, 0, len(order))
	for _, slug := range order {
		if err := parts[slug].w.Flush(); err != nil {
			return nil, nil, err
		}
		jobs = append(jobs, parts[slug].job)
	}
	return jobs, unassigned, nil
}
