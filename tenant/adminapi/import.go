package adminapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// The user import takes a whole export as its body, so it is the one
// endpoint with limits of its own.
const (
	// maxImportBody is far above Cognito's own 100 MB CSV limit: a JSON
	// dump of the same users is several times larger than their CSV.
	maxImportBody = 512 << 20
	// importDeadline replaces the server's read and write timeouts, made
	// for ordinary requests, for the upload and the import together.
	importDeadline = time.Hour
	// The response lists every failed line up to maxReportedFailures and
	// the first maxReportedOthers other lines; the summary counts them all.
	maxReportedFailures = 10_000
	maxReportedOthers   = 1_000
)

// ImportResult is the body of POST /admin/v1/tenants/{slug}/import.
type ImportResult struct {
	DryRun  bool          `json:"dry_run"`
	Summary ImportSummary `json:"summary"`
	// Warnings are about the file as a whole, such as a byte order mark.
	Warnings []string `json:"warnings"`
	// Lines are per-line results in file order: every failed line (up to
	// 10,000) and the first 1,000 others.
	Lines []ImportLine `json:"lines"`
	// LinesOmitted counts the results left out of Lines.
	LinesOmitted int `json:"lines_omitted"`
}

// ImportSummary counts the outcomes of every line.
type ImportSummary struct {
	Created       int `json:"created"`
	Updated       int `json:"updated"`
	Skipped       int `json:"skipped"`
	Failed        int `json:"failed"`
	GroupsCreated int `json:"groups_created"`
}

// ImportLine is what became of one CSV line or one JSON user.
type ImportLine struct {
	Line     int    `json:"line"`
	Username string `json:"username,omitempty"`
	Sub      string `json:"sub,omitempty"`
	Outcome  string `json:"outcome"` // created, updated, skipped or failed
	Reason   string `json:"reason,omitempty"`
}

// importUsers imports a Cognito CSV or JSON export into a tenant. The body
// is the file itself, read as it arrives.
func (a *API) importUsers(w http.ResponseWriter, r *http.Request) error {
	format, err := importFormat(r)
	if err != nil {
		return err
	}
	// A dry_run given without a value never gets here (checkInput refuses
	// it): the one asking meant a dry run, and false would import for real.
	dryRun := false
	if q := r.URL.Query(); q.Has("dry_run") {
		if dryRun, err = strconv.ParseBool(q.Get("dry_run")); err != nil {
			return badRequest("query parameter dry_run must be true or false")
		}
	}
	slug := r.PathValue("slug")
	if _, err := a.Service.Tenant(r.Context(), slug); err != nil {
		return err // before reading a byte of what may be a large file
	}

	// Without a ResponseController deadline (as under httptest) the
	// server's own timeouts stay, which is the best there is.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
	body := http.MaxBytesReader(w, r.Body, maxImportBody)

	src, err := cognitoimport.NewReader(body, format)
	if err != nil {
		return importError(err, format, cognitoimport.Summary{}, dryRun)
	}
	result := ImportResult{DryRun: dryRun, Lines: []ImportLine{}}
	others := 0
	collect := func(l cognitoimport.LineResult) {
		failed := l.Outcome == cognitoimport.Failed
		if (failed && len(result.Lines)-others < maxReportedFailures) || (!failed && others < maxReportedOthers) {
			result.Lines = append(result.Lines, ImportLine{Line: l.Line, Username: l.Username, Sub: l.Sub, Outcome: string(l.Outcome), Reason: l.Reason})
			if !failed {
				others++
			}
			return
		}
		result.LinesOmitted++
	}
	sum, err := cognitoimport.Import(r.Context(), a.Service.Store, slug, src,
		cognitoimport.Options{DryRun: dryRun, Now: a.Service.Time}, collect)
	if !dryRun {
		a.Service.RecordImport(r.Context(), slug, tenant.ImportCounts{Created: sum.Created, Updated: sum.Updated,
			Skipped: sum.Skipped, Failed: sum.Failed})
	}
	if err != nil {
		// writeError logs the request's one line, which says how far
		// the import got (importError).
		return importError(err, format, sum, dryRun)
	}
	a.logger().InfoContext(r.Context(), "user import", "tenant", slug, "format", format, "dry_run", dryRun,
		"created", sum.Created, "updated", sum.Updated, "skipped", sum.Skipped, "failed", sum.Failed)
	result.Summary = ImportSummary{Created: sum.Created, Updated: sum.Updated, Skipped: sum.Skipped,
		Failed: sum.Failed, GroupsCreated: sum.GroupsCreated}
	result.Warnings = make([]string, len(sum.Warnings))
	for i, w := range sum.Warnings {
		result.Warnings[i] = w.String() // the API answers in English
	}
	return writeJSON(w, http.StatusOK, result)
}

// importFormat is the format query parameter, else what the Content-Type
// says.
func importFormat(r *http.Request) (cognitoimport.Format, error) {
	if raw := r.URL.Query().Get("format"); raw != "" {
		f, err := cognitoimport.ParseFormat(raw)
		if err != nil {
			return "", badRequest("query parameter format must be csv or json")
		}
		return f, nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "text/csv":
		return cognitoimport.FormatCSV, nil
	case "application/json", "application/x-ndjson", "application/jsonl":
		return cognitoimport.FormatJSON, nil
	}
	return "", badRequest("say which format the file is in: format=csv or format=json (or Content-Type text/csv or application/json)")
}

// importError explains an import that stopped, including what it had
// already written (see progress): to the client when the file is at
// fault, else to the log, with the counts.
func importError(err error, format cognitoimport.Format, sum cognitoimport.Summary, dryRun bool) error {
	done := progress(format, sum, dryRun)
	var fileErr *cognitoimport.FileError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &fileErr):
		where := ""
		switch {
		case fileErr.Line > 0 && format == cognitoimport.FormatCSV:
			where = fmt.Sprintf("line %d: ", fileErr.Line)
		case fileErr.Line > 0:
			where = fmt.Sprintf("after user %d: ", fileErr.Line)
		}
		return badRequest("the file cannot be imported: %s%s.%s", where, fileErr.Problem(), done)
	case errors.As(err, &tooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "request_too_large",
			message: fmt.Sprintf("the file is larger than the import limit of %d MiB; split it.%s", tooLarge.Limit>>20, done)}
	}
	return fmt.Errorf("the user import stopped: %ss up to %d imported (%d created, %d updated, %d skipped, %d failed), up to %d read, dry run %t: %w",
		unitOf(format), sum.LastCounted, sum.Created, sum.Updated, sum.Skipped, sum.Failed, sum.LastRead, dryRun, err)
}

// progress says what an import that stopped wrote and what it did not
// (cognitoimport.Summary.Stopped). Lines are as the import reports them,
// CSV lines or JSON users. A dry run wrote nothing and says nothing.
func progress(format cognitoimport.Format, sum cognitoimport.Summary, dryRun bool) string {
	if dryRun {
		return ""
	}
	written, unwritten := sum.Stopped(format)
	if written.None() && unwritten.None() {
		return " Nothing was written."
	}
	unit := unitOf(format)
	var b strings.Builder
	if written.None() {
		b.WriteString(" Nothing was written.")
	} else {
		fmt.Fprintf(&b, " %ss %d to %d were imported (%d created, %d updated, %d skipped, %d failed) and stay.",
			upperFirst(unit), written.First, written.Last, sum.Created, sum.Updated, sum.Skipped, sum.Failed)
	}
	if !unwritten.None() {
		fmt.Fprintf(&b, " %ss %d to %d were read but not written: %ss are written %d at a time, and the import stopped in that batch.",
			upperFirst(unit), unwritten.First, unwritten.Last, unit, cognitoimport.DefaultBatchSize)
	}
	b.WriteString(" Importing the corrected file again is safe.")
	return b.String()
}

// unitOf is what an import of format counts: CSV lines or JSON users.
func unitOf(format cognitoimport.Format) string {
	if format == cognitoimport.FormatCSV {
		return "line"
	}
	return "user"
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
