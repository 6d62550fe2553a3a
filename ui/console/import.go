package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/cognitoimport"
)

// Bulk import of a Cognito user export (the CSV of GetCSVHeader, or a JSON
// dump of ListUsers or AdminGetUser, told apart by their content) with the
// importer of tenant/cognitoimport, the one the admin API uses too. The
// upload is read as a stream: the form token comes first in the form, is
// checked before a byte of the file is read, and the file goes to the
// importer as it arrives, so its size costs no memory.

const (
	// maxImportUpload is above Cognito's own 100 MB limit for a CSV.
	maxImportUpload = 128 << 20
	// importDeadline replaces the server's timeouts, made for ordinary
	// requests, for the upload and the import together.
	importDeadline = 30 * time.Minute
	// The report lists every failed line up to maxReportedFailures and the
	// first maxReportedOthers other lines; the summary counts them all.
	maxReportedFailures = 5000
	maxReportedOthers   = 500
)

type importPage struct {
	frame
	DryRun bool
	Done   bool
	// JSON is set for a JSON dump, whose report counts users, not lines.
	JSON    bool
	Summary cognitoimport.Summary
	// Warnings are the Summary's, in the page's language.
	Warnings []string
	Lines    []importLine
	Omitted  int
}

type importLine struct {
	cognitoimport.LineResult
	OutcomeText string
	ReasonText  string
	// Exists is set when the line's user is in the tenant, so the report
	// links to their profile: not for a failed line, nor for one a dry run
	// would have created (its Sub is the one it would have had).
	Exists bool
}

func (importPage) template() string { return tmplImport }

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.render(w, http.StatusOK, &importPage{frame: c.frame(q, "import")})
}

// errNoFile is an upload without a file part.
var errNoFile = errors.New("import form without a file")

func (c *Console) importUsers(w http.ResponseWriter, r *http.Request, q *request) error {
	page := &importPage{frame: c.frame(q, "import")}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
	r.Body = http.MaxBytesReader(w, r.Body, maxImportUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: err}
	}
	file, err := c.importFields(mr, q, page)
	if err != nil {
		return err
	}
	br := bufio.NewReader(file)
	format := cognitoimport.FormatOf(br)
	page.JSON = format == cognitoimport.FormatJSON
	src, err := cognitoimport.NewReader(br, format)
	if err != nil {
		return c.refuseFile(w, r, q, page, err)
	}
	others, failures := 0, 0
	collect := func(l cognitoimport.LineResult) {
		failed := l.Outcome == cognitoimport.Failed
		switch {
		case failed && failures < maxReportedFailures:
			failures++
		case !failed && others < maxReportedOthers:
			others++
		default:
			page.Omitted++
			return
		}
		page.Lines = append(page.Lines, importLine{LineResult: l, OutcomeText: page.T("import.outcome." + string(l.Outcome)),
			ReasonText: reasonText(page.Lang, l), Exists: l.Sub != "" && !(page.DryRun && l.Outcome == cognitoimport.Created)})
	}
	sum, err := cognitoimport.Import(r.Context(), c.Service.Store, q.slug(), src,
		cognitoimport.Options{DryRun: page.DryRun, Now: c.Service.Time}, collect)
	page.Summary, page.Done = sum, true
	for _, w := range sum.Warnings {
		page.Warnings = append(page.Warnings, warningText(page.Lang, w))
	}
	if !page.DryRun {
		c.Service.RecordImport(r.Context(), q.slug(), tenant.ImportCounts{Created: sum.Created, Updated: sum.Updated,
			Skipped: sum.Skipped, Failed: sum.Failed})
	}
	done := []any{"tenant", q.slug(), "format", format, "dry_run", page.DryRun,
		"created", sum.Created, "updated", sum.Updated, "skipped", sum.Skipped, "failed", sum.Failed}
	var fileErr *cognitoimport.FileError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		page.Problem = page.Tf("problem.importTooLarge", maxImportUpload>>20)
	case errors.As(err, &fileErr):
		page.Problem = stoppedProblem(page, format, fileErr, sum)
	case err != nil:
		noteResponse(w, "", nil, done...) // fail adds the fault
		return err
	}
	if page.Problem == "" {
		c.Logger.InfoContext(r.Context(), "console import", done...)
		return c.render(w, http.StatusOK, page)
	}
	// The refusal's one line (logResponse) says what was done before. A
	// file's problem quotes the file: the line gets its kind, not its text.
	noteResponse(w, "", errors.New(fileProblemKind(err)), done...)
	return c.render(w, http.StatusUnprocessableEntity, page)
}

// stoppedProblem is what the page says of a file the importer refused
// part-way: where and why (fileProblemText), and what was written and what
// not (stoppedText), as the admin API says it (adminapi's importError), in
// the page's language.
func stoppedProblem(page *importPage, format cognitoimport.Format, fe *cognitoimport.FileError, sum cognitoimport.Summary) string {
	why, done := tenant.Shorten(fileProblemText(page.Lang, fe), maxShownProblem), stoppedText(page, format, sum)
	switch {
	case fe.Line == 0:
		return page.Tf("problem.importStopped", why, done)
	case format == cognitoimport.FormatCSV:
		return page.Tf("problem.importStopped.line", fe.Line, why, done)
	}
	return page.Tf("problem.importStopped.user", fe.Line, why, done)
}

// stoppedText says what an import that stopped wrote and what it did not
// (cognitoimport.Summary.Stopped), and what to do now.
func stoppedText(page *importPage, format cognitoimport.Format, sum cognitoimport.Summary) string {
	if page.DryRun {
		return page.T("import.stopped.dryRun") // the report says nothing was written
	}
	written, unwritten := sum.Stopped(format)
	csv := format == cognitoimport.FormatCSV
	var said []string
	switch {
	case written.None():
		said = append(said, page.T("import.stopped.nothing"))
	case csv:
		said = append(said, page.Tf("import.stopped.written.line", written.First, written.Last))
	default:
		said = append(said, page.Tf("import.stopped.written.user", written.First, written.Last))
	}
	switch {
	case unwritten.None():
	case csv:
		said = append(said, page.Tf("import.stopped.unwritten.line", unwritten.First, unwritten.Last, cognitoimport.DefaultBatchSize))
	default:
		said = append(said, page.Tf("import.stopped.unwritten.user", unwritten.First, unwritten.Last, cognitoimport.DefaultBatchSize))
	}
	return strings.Join(append(said, page.T("import.stopped.again")), " ")
}

// maxShownProblem bounds the reader's reason on the page: it quotes the
// header, which may hold thousands of columns.
const maxShownProblem = 2000

// refuseFile answers a file the reader refused before its first user: the
// page says why, with the reader's reasons in the page's language (they
// quote the file, which the person who sent it may read); the log says
// only that a file was refused, how large the upload was and what kind of
// problem it had, never the reasons, which may quote the file.
func (c *Console) refuseFile(w http.ResponseWriter, r *http.Request, q *request, page *importPage, err error) error {
	var fileErr *cognitoimport.FileError
	var tooLarge *http.MaxBytesError
	kind := fileProblemKind(err)
	switch {
	case errors.As(err, &tooLarge):
		page.Problem = page.Tf("problem.importTooLarge", maxImportUpload>>20)
	case errors.As(err, &fileErr):
		page.Problem = page.Tf("problem.importFile", tenant.Shorten(fileProblemText(page.Lang, fileErr), maxShownProblem))
	default:
		// The upload broke off or is no well-formed form: a fault of the
		// transfer, not of the file, and its error quotes nothing of it.
		return &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: fmt.Errorf("read the upload: %w", err)}
	}
	// The refusal's one line (logResponse) says so.
	noteResponse(w, "", errors.New(kind), "tenant", q.slug(), "dry_run", page.DryRun, "upload_bytes", r.ContentLength)
	return c.render(w, http.StatusUnprocessableEntity, page)
}

// fileProblemKind names, for the log, what kind of problem err is with a
// file, without a word of the file; "" when it is none.
func fileProblemKind(err error) string {
	var fileErr *cognitoimport.FileError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return "too large"
	case errors.As(err, &fileErr) && fileErr.Line == 0:
		return "malformed at the start"
	case errors.As(err, &fileErr):
		return fmt.Sprintf("malformed at line %d", fileErr.Line)
	case errors.Is(err, cognitoimport.ErrMalformed):
		return "malformed"
	}
	return ""
}

// reasonText is what the report says of a line: each of its reasons in
// lang (see reasonsIn), or the importer's English, all of it.
func reasonText(lang string, l cognitoimport.LineResult) string {
	if text, ok := reasonsIn(lang, l.Reasons); ok {
		return text
	}
	return l.Reason
}

// fileProblemText is what the page says of a file the importer refused:
// its reason in lang and, after a colon, the details, as the importer's
// English puts them; or that English, all of it (see reasonsIn).
func fileProblemText(lang string, fe *cognitoimport.FileError) string {
	text, ok := reasonsIn(lang, []cognitoimport.Reason{fe.Reason})
	details, detailsOK := reasonsIn(lang, fe.Details)
	switch {
	case !ok || !detailsOK:
		return fe.Problem()
	case len(fe.Details) > 0:
		return text + ": " + details
	}
	return text
}

// warningText is what the report says of a warning about the whole file:
// the warning in lang (see reasonsIn), or the importer's English.
func warningText(lang string, w cognitoimport.Reason) string {
	if text, ok := reasonsIn(lang, []cognitoimport.Reason{w}); ok {
		return text
	}
	return w.String()
}

// reasonsIn is reasons in lang, from the catalogue by code, joined as the
// importer joins them. ok is false when the catalogue lacks a code (a test
// makes sure it lacks none): the caller then shows the importer's English,
// all of it, rather than half in one language and half in another.
func reasonsIn(lang string, reasons []cognitoimport.Reason) (text string, ok bool) {
	texts := make([]string, len(reasons))
	for i, r := range reasons {
		format, found := lookup(lang, "import.reason."+r.Code)
		if !found {
			return "", false
		}
		texts[i] = r.Format(format)
	}
	return strings.Join(texts, "; "), true
}

// importFields reads the form's fields up to the file: the token first,
// then the dry-run switch, and returns the file part.
func (c *Console) importFields(mr *multipart.Reader, q *request, page *importPage) (io.Reader, error) {
	tokenChecked := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, &pageError{status: http.StatusBadRequest, msg: "problem.importNoFile", err: errNoFile}
		}
		if err != nil {
			return nil, &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: err}
		}
		switch part.FormName() {
		case csrfField:
			token, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return nil, &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: err}
			}
			if err := c.checkToken(q, string(token)); err != nil {
				return nil, err
			}
			tokenChecked = true
		case "dry_run":
			page.DryRun = true
		case "file":
			if !tokenChecked {
				return nil, &pageError{status: http.StatusForbidden, msg: "error.csrf",
					err: fmt.Errorf("import file before the form token")}
			}
			return part, nil
		}
	}
}
