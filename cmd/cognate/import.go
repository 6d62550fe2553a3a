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
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/cognate-idp/cognate/tenant/adminapi"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// `cognate import cognito` sends a Cognito export to the admin API's import
// endpoint, streaming the file, and shows the report. `cognate migrate
// cognito` does the same for many organizations at once. Cognito is the only
// source so far: the verb of `cognate import` and `cognate migrate`.

func importCommands() []adminCommand {
	return []adminCommand{{
		verb: "cognito", args: []string{"FILE"}, needsTenant: true,
		summary: "Import users from a Cognito user import CSV or a JSON dump of ListUsers or AdminGetUser output " +
			"(FILE \"-\" reads standard input) into a tenant. Re-running is safe: users are updated, never duplicated. " +
			"Exits 1 if any line failed. The formats: docs/import.md.",
		setup: func(fs *flag.FlagSet, stdin io.Reader) (checkFunc, runFunc) {
			format := fs.String("format", "", "csv or json (default: from FILE's extension: .csv; .json, .jsonl or .ndjson)")
			dryRun := fs.Bool("dry-run", false, "check every line and report what would happen, writing nothing")
			// The check opens FILE, before the token is looked up, and
			// keeps it open for the run to send.
			var f string
			var body io.ReadCloser
			var size int64
			check := func(in invocation) (err error) {
				path := in.args[0]
				if f, err = importFileFormat("--format", *format, path); err != nil {
					return usageError{err.Error()}
				}
				if body, size, err = openImportFile(path, stdin); err != nil {
					return err
				}
				in.closeAtEnd(body)
				return nil
			}
			return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
				res, raw, err := c.importFile(ctx, in.tenant, f, *dryRun, body, size)
				return output{raw: raw, text: func(w io.Writer) { showImport(w, f, res) }, failed: res.Summary.Failed > 0}, err
			}
		},
	}}
}

// importFileFormat is the format given, else what the file name says.
// setting is where the format is given, as the person writes it: "--format"
// on the command line, "format:" in a migration map.
func importFileFormat(setting, given, path string) (string, error) {
	switch strings.ToLower(given) {
	case "csv", "json":
		return strings.ToLower(given), nil
	case "":
	default:
		return "", fmt.Errorf("%s %q: want csv or json", setting, given)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv", nil
	case ".json", ".jsonl", ".ndjson":
		return "json", nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its name: add %[2]s csv or %[2]s json", path, setting)
}

// openImportFile opens the file to send, or standard input for "-". The
// size is -1 when unknown (standard input, a pipe), and the upload is then
// chunked. Its errors name the file, as those of the other files the
// command line names do (--out, --settings @FILE, the migration map).
func openImportFile(path string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("import file %s: %w", path, pathProblem(err))
	}
	info, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		return nil, 0, fmt.Errorf("import file %s: %w", path, pathProblem(err))
	case info.IsDir():
		f.Close()
		return nil, 0, fmt.Errorf("import file %s is a directory; name the export file in it", path)
	case !info.Mode().IsRegular():
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
	tenant, err := tenantPath(slug)
	if err != nil {
		return adminapi.ImportResult{}, nil, err
	}
	path := tenant + "/import?" + q.Encode()
	req, err := c.newRequest(ctx, http.MethodPost, path, body, "application/json")
	if err != nil {
		return adminapi.ImportResult{}, nil, err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	req.Header.Set("Content-Type", map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json"}[format])
	resp, err := c.streamingClient().Do(req)
	if err != nil {
		return adminapi.ImportResult{}, nil, c.unreachable(err)
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
	unit := lineUnit(format)
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

// lineUnit is what the results of a file of format are numbered by: CSV
// results by line, JSON results by user.
func lineUnit(format string) string {
	return map[string]string{"csv": "Line", "json": "User"}[format]
}

// showFailure prints one failed line. The username is quoted and the
// reason's control characters escaped: both come from the file, and an
// escape sequence in a name must not reach the terminal.
func showFailure(w io.Writer, unit string, l adminapi.ImportLine) {
	who := ""
	if l.Username != "" {
		who = " (" + strconv.Quote(l.Username) + ")"
	}
	fmt.Fprintf(w, "%s %d%s: %s\n", unit, l.Line, who, escapeControls(l.Reason))
}

// escapeControls writes each control character of s as Go would in a
// quoted string, leaving the rest, quotes and all, as it is. (s came
// through JSON, so it is UTF-8.)
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r) // '\x1b', with its quotes
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ---- cognate migrate cognito ----

// migrationMap is the --map file of `cognate migrate cognito`, in YAML or
// JSON (docs/import.md): pools exported one per organization, and one pool
// shared by organizations told apart by an attribute.
type migrationMap struct {
	Pools  []migrationPool
	Shared *sharedPool
}

type migrationPool struct {
	File   string
	Tenant string
	Name   string // the tenant's display name, if it is created
	Format string // csv or json; in the map, by default from the file's extension
	line   int    // of the pool in the map
}

type sharedPool struct {
	File      string
	Format    string
	Attribute string            // such as custom:org
	Tenants   map[string]string // attribute value → tenant slug
	Names     map[string]string // tenant slug → display name, if it is created
	line      int               // of shared in the map
}

// The keys of a map, of one of its pools and of shared, in the order
// messages list them.
var (
	mapKeys    = []string{"pools", "shared"}
	poolKeys   = []string{"file", "tenant", "name", "format"}
	sharedKeys = []string{"file", "format", "attribute", "tenants", "names"}
)

// readMigrationMap reads and checks a map, and makes its file names
// relative to the map's own directory. Every file of the map must open and
// begin as its format does before anything is made: a pool whose file
// fails after tenants were created would leave them behind, empty.
func readMigrationMap(path string) (migrationMap, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return migrationMap{}, fmt.Errorf("map %s: %w", path, pathProblem(err))
	}
	doc, err := oneYAMLDocument(raw)
	if err != nil {
		return migrationMap{}, inFile("map", path, err)
	}
	if doc == nil || len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		return migrationMap{}, fmt.Errorf("map %s is empty: it needs pools:, shared: or both (see docs/import.md)", path)
	}
	var r mapReader
	m := r.read(doc.Content[0])

	dir := filepath.Dir(path)
	resolve := func(f string) string {
		if f == "" || f == "-" || filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(dir, f)
	}
	for i := range m.Pools {
		p := &m.Pools[i]
		if p.File == "" || p.Tenant == "" {
			r.problem(p.line, "a pool needs a file and a tenant")
			continue
		}
		p.File = resolve(p.File)
		p.Format = r.checkFile(p.line, p.Format, p.File)
	}
	if s := m.Shared; s != nil {
		if s.File == "" || s.Attribute == "" || len(s.Tenants) == 0 {
			r.problem(s.line, "shared needs a file, an attribute and tenants (attribute value: tenant slug)")
		} else {
			s.File = resolve(s.File)
			s.Format = r.checkFile(s.line, s.Format, s.File)
		}
	}
	if len(m.Pools) == 0 && m.Shared == nil && len(r.problems) == 0 {
		r.problem(doc.Content[0].Line, "the map has neither pools: nor shared:, so there is nothing to import")
	}
	if len(r.problems) > 0 {
		slices.SortStableFunc(r.problems, func(a, b *yamlError) int { return a.Line - b.Line })
		var errs []error
		for _, p := range r.problems {
			errs = append(errs, inFile("map", path, p))
		}
		return m, errors.Join(errs...)
	}
	return m, nil
}

// mapReader reads the YAML of a map into a migrationMap, noting every
// problem with its line. Unknown keys are problems: a misspelt key must not
// silently drop a pool.
type mapReader struct{ problems []*yamlError }

func (r *mapReader) problem(line int, format string, args ...any) {
	r.problems = append(r.problems, &yamlError{Line: line, Problem: fmt.Sprintf(format, args...)})
}

func (r *mapReader) read(root *yaml.Node) migrationMap {
	var m migrationMap
	r.fields(root, "the map", mapKeys, func(key string, val *yaml.Node) {
		switch {
		case val.Tag == "!!null":
		case key == "pools" && val.Kind != yaml.SequenceNode:
			r.problem(val.Line, "pools must be a list of pools, each with a file and a tenant")
		case key == "pools":
			for _, item := range val.Content {
				p := migrationPool{line: item.Line}
				ok := r.fields(item, "a pool", poolKeys, func(key string, val *yaml.Node) {
					v := r.scalar(key, val)
					switch key {
					case "file":
						p.File = v
					case "tenant":
						p.Tenant = v
					case "name":
						p.Name = v
					case "format":
						p.Format = v
					}
				})
				if ok {
					m.Pools = append(m.Pools, p)
				}
			}
		case key == "shared":
			s := sharedPool{line: val.Line}
			ok := r.fields(val, "shared", sharedKeys, func(key string, val *yaml.Node) {
				switch key {
				case "file":
					s.File = r.scalar(key, val)
				case "format":
					s.Format = r.scalar(key, val)
				case "attribute":
					s.Attribute = r.scalar(key, val)
				case "tenants":
					s.Tenants = r.table(key, val)
				case "names":
					s.Names = r.table(key, val)
				}
			})
			if ok {
				m.Shared = &s
			}
		}
	})
	return m
}

// fields calls set with each key of the mapping n and its value; what
// names n in messages. It reports whether n is a mapping.
func (r *mapReader) fields(n *yaml.Node, what string, keys []string, set func(key string, val *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		r.problem(n.Line, "%s must be a mapping with the keys %s", what, andList(keys))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		switch first, dup := seen[key.Value]; {
		case !slices.Contains(keys, key.Value):
			r.problem(key.Line, "unknown key %q in %s: its keys are %s", key.Value, what, andList(keys))
		case dup:
			r.problem(key.Line, "%s is given twice in %s (first at line %d)", key.Value, what, first)
		default:
			seen[key.Value] = key.Line
			set(key.Value, val)
		}
	}
	return true
}

// scalar is the single value of key.
func (r *mapReader) scalar(key string, val *yaml.Node) string {
	switch {
	case val.Kind != yaml.ScalarNode:
		r.problem(val.Line, "%s must be a single value", key)
	case val.Tag != "!!null":
		return val.Value
	}
	return ""
}

// table is the mapping of single values of key, such as tenants.
func (r *mapReader) table(key string, val *yaml.Node) map[string]string {
	if val.Tag == "!!null" {
		return nil
	}
	if val.Kind != yaml.MappingNode {
		r.problem(val.Line, "%s must be a mapping of single values, one a line, such as \"acme-id: acme\"", key)
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(val.Content); i += 2 {
		k, v := val.Content[i], val.Content[i+1]
		if _, dup := out[k.Value]; dup {
			r.problem(k.Line, "%q is given twice in %s", k.Value, key)
		}
		out[k.Value] = r.scalar(key+" "+k.Value, v)
	}
	return out
}

// checkFile returns the format of a file of the map, after checking that
// the file opens and begins as a file of that format does (a CSV's header,
// JSON's first value); line is where the map names it.
func (r *mapReader) checkFile(line int, given, file string) string {
	if file == "-" {
		r.problem(line, "a map cannot read standard input (file: -): name a file")
		return ""
	}
	format, err := importFileFormat("format:", given, file)
	if err != nil {
		r.problem(line, "%s", err)
		return ""
	}
	f, err := os.Open(file)
	if err != nil {
		r.problem(line, "cannot open %s: %s", file, pathProblem(err))
		return format
	}
	defer f.Close()
	if _, err := cognitoimport.NewReader(bufio.NewReader(f), cognitoimport.Format(format)); err != nil {
		var fe *cognitoimport.FileError
		if errors.As(err, &fe) {
			r.problem(line, "%s cannot be imported as %s: %s", file, strings.ToUpper(format), fe.Problem())
		} else {
			r.problem(line, "cannot read %s: %s", file, pathProblem(err))
		}
	}
	return format
}

// andList joins words as a sentence does: "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// migrationJob is one import into one tenant.
type migrationJob struct {
	tenant, name string
	label        string // where the users come from, for people
	format       string // of the file sent
	path         string
	// source is the format of the file the person has, which the
	// report's line numbers are of: a part of a shared file is sent as
	// JSON, its users carrying their lines in the original
	// (cognitoimport.WriteJSON), which may be a CSV's.
	source string
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

func migrateCommands() []adminCommand {
	return []adminCommand{{
		verb: "cognito", required: []string{"map"}, noArgsHint: "the files are named in the map",
		summary: "Import the users of many Cognito user pools, or of one shared pool split by an attribute, " +
			"each organization into its own tenant; tenants are created as needed. Exits 1 if any user failed. The map: docs/import.md.",
		setup: func(fs *flag.FlagSet, _ io.Reader) (checkFunc, runFunc) {
			mapFile := fs.String("map", "", "the map of pools and organizations to tenants, a YAML or JSON `FILE` (required; see docs/import.md)")
			dryRun := fs.Bool("dry-run", false, "check every user of tenants that exist and report, writing nothing and creating no tenant")
			var m migrationMap
			check := func(invocation) (err error) {
				m, err = readMigrationMap(*mapFile)
				return err // one problem a line
			}
			return check, func(ctx context.Context, c *apiClient, in invocation) (output, error) {
				return migrate(ctx, c, m, *dryRun, in.progress)
			}
		},
	}}
}

// migrate runs the imports of the map m (readMigrationMap), saying how
// each goes on progress, and answers the report.
func migrate(ctx context.Context, client *apiClient, m migrationMap, dryRun bool, progress io.Writer) (output, error) {
	var jobs []migrationJob
	for _, p := range m.Pools {
		jobs = append(jobs, migrationJob{tenant: p.Tenant, name: p.Name, label: p.File, format: p.Format, source: p.Format, path: p.File})
	}
	report := migrationReport{TenantsCreated: []string{}, Imports: []migrationImport{}, Unassigned: []adminapi.ImportLine{}}
	if s := m.Shared; s != nil {
		dir, err := os.MkdirTemp("", "cognate-migrate-")
		if err != nil {
			return output{}, err
		}
		defer os.RemoveAll(dir)
		parts, unassigned, err := splitShared(*s, dir)
		if err != nil {
			return output{}, fmt.Errorf("%s: %w", s.File, err)
		}
		jobs = append(jobs, parts...)
		report.Unassigned = append(report.Unassigned, unassigned...)
	}

	failed := len(report.Unassigned) > 0
	if len(report.Unassigned) > 0 {
		fmt.Fprintf(progress, "== %s: users in no tenant ==\n", m.Shared.File)
		for _, l := range report.Unassigned {
			showFailure(progress, lineUnit(m.Shared.Format), l)
		}
	}
	exists := map[string]bool{}
	for _, job := range jobs {
		fmt.Fprintf(progress, "== tenant %s, from %s ==\n", job.tenant, job.label)
		entry := migrationImport{Tenant: job.tenant, From: job.label}
		res, err := runMigrationJob(ctx, client, job, dryRun, exists, &report)
		switch {
		case errors.Is(err, errTenantMissing):
			entry.Error = fmt.Sprintf("tenant %s does not exist yet; it would be created, and its users can be checked once it exists", job.tenant)
			fmt.Fprintln(progress, entry.Error+".")
		case err != nil:
			failed = true
			entry.Error = err.Error()
			fmt.Fprintf(progress, "Failed: %s\n", err)
		default:
			entry.Result = &res
			failed = failed || res.Summary.Failed > 0
			showImport(progress, job.source, res)
		}
		report.Imports = append(report.Imports, entry)
	}
	raw, err := json.Marshal(report)
	return output{raw: raw, failed: failed, text: func(w io.Writer) {
		if len(report.TenantsCreated) > 0 {
			fmt.Fprintf(w, "Tenants created: %s.\n", strings.Join(report.TenantsCreated, ", "))
		}
	}}, err
}

// errTenantMissing is a dry run's answer for a tenant it would create.
var errTenantMissing = errors.New("tenant does not exist yet")

// runMigrationJob makes sure the job's tenant exists (creating it unless
// this is a dry run) and imports the job's file into it.
func runMigrationJob(ctx context.Context, c *apiClient, job migrationJob, dryRun bool, exists map[string]bool, report *migrationReport) (adminapi.ImportResult, error) {
	if !exists[job.tenant] {
		path, err := tenantPath(job.tenant)
		if err != nil {
			return adminapi.ImportResult{}, err
		}
		_, err = c.call(ctx, http.MethodGet, path, nil, &adminapi.Tenant{})
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
	return res, err
}

// splitShared reads a shared pool's export once and writes each
// organization's users to a file of its own in dir, as JSON lines that lose
// nothing (cognitoimport.WriteJSON), their line in the shared file
// included: the server reports that line, and names it in reasons that
// point at an earlier line. Users whose attribute names no tenant, and
// lines that cannot be read, are returned as failures.
func splitShared(s sharedPool, dir string) ([]migrationJob, []adminapi.ImportLine, error) {
	format := s.Format // as readMigrationMap found it
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
				tenant: slug, name: s.Names[slug], format: "json", source: format, path: f.Name(),
				label: fmt.Sprintf("%s (%s)", s.File, s.Attribute),
			}}
			parts[slug] = p
			order = append(order, slug)
		}
		if err := cognitoimport.WriteJSON(p.w, rec); err != nil {
			return nil, nil, err
		}
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
