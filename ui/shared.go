package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
)

// The little the admin console (ui/console) shares with the pages, so that
// both render and refuse the same way: one choice of language, one
// Content-Security-Policy, one accent stylesheet per colour, one way to
// serve static files, one bounded reading and one same-origin check of a
// posted form and one test for a request its client abandoned.
// The page set the console's templates are parsed into and rendered with
// (PageSet, ParsePages, PageBlocks) is in pageset.go, WritePage in
// render.go; the rest ui exports is for cmd/… to build and mount the pages.

// ClientGone reports whether err is the request's own context ending: the
// client gave up (a closed tab, a timeout while a sign-in waited for a
// hashing slot). That is no fault of the server's, and nobody is left to
// read an error page.
func ClientGone(r *http.Request, err error) bool {
	ctxErr := r.Context().Err()
	return ctxErr != nil && errors.Is(err, ctxErr)
}

// ChooseLanguage is the language of a page for r at a tenant whose
// Settings.Locale is tenantLocale: "en" or "nl" (see chooseLang).
func ChooseLanguage(r *http.Request, tenantLocale string) string {
	l, _ := chooseLang(r, tenantLocale)
	return string(l)
}

// ContentSecurityPolicy is the policy every page is served with; formAction
// lists origins besides 'self' that forms may lead to.
func ContentSecurityPolicy(formAction ...string) string { return csp(formAction) }

// AccentStylesheet is the path, on a tenant's host, of the stylesheet that
// sets the tenant's primary colour (Branding.PrimaryColor).
func AccentStylesheet(color string) string { return accentURL(color) }

// ReadForm reads the form r posts, at most limit bytes of its body, into
// r.PostForm. When it cannot, it returns the status to answer with beside
// the error: 413 for a body over limit, 400 for a form that does not
// parse.
func ReadForm(w http.ResponseWriter, r *http.Request, limit int64) (status int, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, err
		}
		return http.StatusBadRequest, err
	}
	return http.StatusOK, nil
}

// CheckSameOrigin refuses a form post a browser marks as coming from
// another site, or, without Sec-Fetch-Site, from another origin than
// origin (see checkSameOrigin).
func CheckSameOrigin(r *http.Request, origin string) error { return checkSameOrigin(r, origin) }

// StaticFiles are the CSS, scripts and images under a static/ directory of
// an embedded file system, served with their content hash in the URL so a
// year of caching is safe.
type StaticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	body        []byte
	contentType string
	version     string // content hash, appended to URLs for cache busting
}

// staticContentType is the type of a file we ship, by its extension. Not
// mime.TypeByExtension: on a desktop Linux that loads the whole system's
// MIME database (0.4 MB of heap, held for good, for four files), and its
// answer would depend on the host.
func staticContentType(ext string) (string, bool) {
	switch ext {
	case ".css":
		return "text/css; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".svg":
		return "image/svg+xml", true
	case ".png":
		return "image/png", true
	case ".ico":
		return "image/x-icon", true
	case ".woff2":
		return "font/woff2", true
	}
	return "", false
}

// LoadStaticFiles reads fsys's static/ directory; each name in required
// must be there, so a missing file fails start-up, as does a file of a type
// staticContentType does not know.
func LoadStaticFiles(fsys fs.FS, required ...string) (StaticFiles, error) {
	entries, err := fs.ReadDir(fsys, "static")
	if err != nil {
		return StaticFiles{}, fmt.Errorf("static files: %w", err)
	}
	out := StaticFiles{files: make(map[string]staticFile, len(entries))}
	for _, e := range entries {
		body, err := fs.ReadFile(fsys, "static/"+e.Name())
		if err != nil {
			return StaticFiles{}, fmt.Errorf("static file %s: %w", e.Name(), err)
		}
		ct, ok := staticContentType(path.Ext(e.Name()))
		if !ok {
			return StaticFiles{}, fmt.Errorf("static file %s: no content type for its extension", e.Name())
		}
		sum := sha256.Sum256(body)
		out.files[e.Name()] = staticFile{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	for _, name := range required {
		if _, ok := out.files[name]; !ok {
			return StaticFiles{}, fmt.Errorf("static file %s is missing", name)
		}
	}
	return out, nil
}

// Version is the content hash of a file, for its URL's ?v=.
func (s StaticFiles) Version(name string) string { return s.files[name].version }

// Serve writes the named file and reports whether there is one.
func (s StaticFiles) Serve(w http.ResponseWriter, name string) bool {
	f, ok := s.files[name]
	if ok {
		writeStatic(w, f.contentType, f.body)
	}
	return ok
}

func writeStatic(w http.ResponseWriter, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
