package ui

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/cognate-idp/cognate/provider"
	"github.com/cognate-idp/cognate/tenant"
)

// handlerFunc is a page handler: it writes a response, or returns an error
// that handle turns into an error page, so no branch logs and renders on
// its own.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// pageError is an error a person sees: a status and a chosen sentence. err
// is the detail for the log; it is never shown.
type pageError struct {
	status  int
	heading msgKey // empty: a heading that fits the status
	msg     msgKey
	// args fill msg's %-verbs.
	args []any
	// next is a way on from the error page; nil: none, or the start page
	// for faults of ours and unknown paths.
	next *next
	err  error
	// reported: the cause was logged where it was found, once, so the
	// page, which may be asked for many times, logs nothing.
	reported bool
}

// next names a link by its address and its sentence.
type next struct {
	href string
	text msgKey
}

// link is a rendered link.
type link struct {
	Href string
	Text string
}

func (e *pageError) Error() string {
	if e.err != nil {
		return string(e.msg) + ": " + e.err.Error()
	}
	return string(e.msg)
}

func (e *pageError) Unwrap() error { return e.err }

// errorPage is the data of the error template.
type errorPage struct {
	frame
	Heading string
	Message string
	Link    *link
}

func (errorPage) template() string { return tmplError }

// handle adapts a handlerFunc: an error becomes a rendered page and one log
// line, with its detail. The request's context names its client's address
// as a user's, so that what a person changes here (a reset password, a
// removed factor) reaches the audit trail with where it came from.
func (p *Pages) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(tenant.WithActor(r.Context(), tenant.Actor{Kind: tenant.ActorUser, IP: p.clientIP(r)}))
		if err := h(w, r); err != nil {
			p.fail(w, r, err)
		}
	})
}

// fail renders err as an error page. Anything but a pageError is a fault of
// ours: the person reads a general sentence, the log gets the detail.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	if ClientGone(r, err) { // no error line, no 500: nobody is waiting
		p.Logger.DebugContext(r.Context(), "request abandoned by the client", "host", p.Provider.Hosts().RequestHost(r), "path", r.URL.Path, "err", err)
		return
	}
	var pe *pageError
	if !errors.As(err, &pe) {
		pe = &pageError{status: http.StatusInternalServerError, msg: msgInternal, next: &next{"/", msgBackHome}, err: err}
	}
	level := slog.LevelInfo
	if pe.status >= 500 {
		level = slog.LevelError
	}
	if (pe.err != nil || level == slog.LevelError) && !pe.reported {
		// "message", not "msg": that is the key of the line's own message.
		p.Logger.Log(r.Context(), level, "page error", "host", p.Provider.Hosts().RequestHost(r), "client_ip", p.clientIP(r), "path", r.URL.Path, "status", pe.status, "message", string(pe.msg), "err", pe.err)
	}

	e := p.envBestEffort(r)
	heading := pe.heading
	if heading == "" {
		heading = statusHeading(pe.status)
	}
	page := &errorPage{
		frame:   p.frame(e, ""),
		Heading: e.lang.text(heading),
		Message: e.lang.text(pe.msg, pe.args...),
	}
	if pe.next != nil {
		page.Link = &link{Href: pe.next.href, Text: e.lang.text(pe.next.text)}
	}
	if err := p.render(w, pe.status, page); err != nil {
		// The error template itself failed: a plain answer is all that is left.
		p.Logger.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(w, http.StatusText(pe.status), pe.status)
	}
}

// StatusHeading is the catalogue key of the heading of an error page
// that chose none, by its status: the sign-in pages' and the console's
// (ui/console), whose catalogues both hold these keys.
func StatusHeading(status int) string { return string(statusHeading(status)) }

// statusHeading is StatusHeading as the sign-in pages' own key.
func statusHeading(status int) msgKey {
	switch {
	case status == http.StatusForbidden:
		return msgErrorHeading403
	case status == http.StatusNotFound:
		return msgErrorHeading404
	case status == http.StatusMethodNotAllowed:
		return msgErrorHeading405
	case status == http.StatusTooManyRequests:
		return msgErrorHeading429
	case status >= 500:
		return msgErrorHeading500
	default:
		return msgErrorHeading400
	}
}

// Reasons a form is refused for what was typed, for the log line; none
// holds a value typed.
var (
	errFieldEmpty      = errors.New("a required field is empty")
	errPasswordsDiffer = errors.New("the new password and its confirmation differ")
)

// logRefusal writes the one line of a form refused for what was typed (a
// wrong password, an empty field, an unknown organization): what was
// refused (event), at which organization (not on the apex), from where, on
// which page and why (cause), at INFO. attrs add what the page knows
// besides, such as whose account. Nothing typed reaches it: cause is a
// reason, never a value. A refusal the state machine or the service logged
// already (a wrong code, a lockout) is not logged here again.
func (p *Pages) logRefusal(r *http.Request, e env, event string, cause error, attrs ...any) {
	args := make([]any, 0, 8+len(attrs))
	if !e.site.Apex {
		args = append(args, "tenant", e.slug())
	}
	args = append(args, "client_ip", p.clientIP(r), "path", r.URL.Path)
	args = append(args, attrs...)
	args = append(args, "err", cause)
	p.Logger.InfoContext(r.Context(), event, args...)
}

// errNotFound is the page for a path that no handler serves.
func errNotFound(http.ResponseWriter, *http.Request) error {
	return &pageError{status: http.StatusNotFound, msg: msgPageNotFound, next: &next{"/", msgBackHome}}
}

// signInStepOnly answers a sign-in step's address with any method but the
// form's POST: the step answers a form of a sign-in, which is not in the
// address, so the person starts the sign-in again at the application.
func signInStepOnly(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Allow", http.MethodPost)
	return &pageError{status: http.StatusMethodNotAllowed, heading: msgStepReloadHead, msg: msgStepReload,
		next: &next{"/", msgBackHome}}
}

// accountFormOnly sends a GET of an account form's address to the account
// page, where the form is; other methods are not allowed.
func accountFormOnly(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	return methodNotAllowed(http.MethodPost)(w, r)
}

// methodNotAllowed answers a method that a page's address does not take.
func methodNotAllowed(allow string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return &pageError{status: http.StatusMethodNotAllowed, msg: msgMethodNotAllowed, next: &next{"/", msgBackHome}}
	}
}

// ProviderError renders a problem the OpenID provider met outside the OAuth
// protocol as a page of ours; set it as provider.Provider.ErrorPage.
func (p *Pages) ProviderError(w http.ResponseWriter, r *http.Request, status int, problem provider.Problem) {
	pe := &pageError{status: status, msg: msgBadForm}
	switch problem {
	case provider.ProblemLoginLinkInvalid:
		pe.heading, pe.msg, pe.next = msgLoginExpiredHead, msgLoginExpired, ownSignInLink()
	case provider.ProblemSignInLinkRefused:
		pe.heading, pe.msg = msgLinkRefusedHead, msgLinkRefused
	case provider.ProblemSignOutLinkRefused:
		pe.heading, pe.msg = msgLogoutRefusedHead, msgLogoutRefused
	case provider.ProblemSignOutFailed:
		pe.msg = msgLogoutFailed
	}
	// The provider has logged the problem, once, where it met it.
	pe.reported = true
	p.fail(w, r, pe)
}
