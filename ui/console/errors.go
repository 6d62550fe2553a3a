package console

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/cognate-idp/cognate/tenant"
	"github.com/cognate-idp/cognate/tenant/password"
	"github.com/cognate-idp/cognate/ui"
)

// pageError is an error a person sees as a page: a status and a chosen
// sentence. err is the detail for the log, never shown.
type pageError struct {
	status  int
	heading string // a catalogue key; empty: one that fits the status
	msg     string // a catalogue key
	// link, when set, is a way on: an address and a catalogue key.
	link *link
	// allow is the Allow header of a 405: the methods the path takes.
	allow string
	err   error
}

type link struct {
	Href string
	Text string
}

func (e *pageError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *pageError) Unwrap() error { return e.err }

// saying is a refusal of the service with the sentence a handler chose
// for it, where the handler knows better than problemKey what it means
// (which mail an address is missing for).
type saying struct {
	key string // a catalogue key
	err error
}

func (e *saying) Error() string { return e.err.Error() }

func (e *saying) Unwrap() error { return e.err }

// messagePage is the data of the message template: errors, and the pages
// that only say something (signed out, no access).
type messagePage struct {
	frame
	Heading string
	Message string
	Link    *link
}

func (messagePage) template() string { return tmplMessage }

// fail renders err as a page. Anything but a pageError is a fault of ours:
// the person reads a general sentence, the log gets the detail once (see
// logResponse, which writes the line).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, q *request, err error) {
	if ui.ClientGone(r, err) {
		c.Logger.DebugContext(r.Context(), "request abandoned by the client", "host", c.Provider.Hosts().RequestHost(r), "path", r.URL.Path, "err", err)
		return
	}
	var pe *pageError
	if !errors.As(err, &pe) {
		pe = &pageError{status: http.StatusInternalServerError, msg: "error.internal", err: err}
	}
	detail := pe.err
	if pe.status < 500 && problemKey(detail) != "" {
		// A refusal of the service quotes what was sent (a name, an
		// address); its key says which rule it was.
		detail = nil
	}
	noteResponse(w, pe.msg, detail)
	if q == nil {
		q = &request{lang: "en"}
	}
	if pe.allow != "" {
		w.Header().Set("Allow", pe.allow)
	}
	heading := pe.heading
	if heading == "" {
		heading = ui.StatusHeading(pe.status)
	}
	f := c.frame(q, "")
	page := &messagePage{frame: f, Heading: f.T(heading), Message: f.T(pe.msg)}
	if pe.link != nil {
		page.Link = &link{Href: pe.link.Href, Text: f.T(pe.link.Text)}
	}
	if err := c.render(w, pe.status, page); err != nil {
		noteResponse(w, pe.msg, errors.Join(detail, err))
		http.Error(w, http.StatusText(pe.status), pe.status)
	}
}

// outcome is the response the console is writing, as far as its log line
// needs it: the status, and what fail or render noted of it. The line is
// written with the status (WriteHeader), before a byte of the page leaves:
// fail and render note what it says before they write.
type outcome struct {
	http.ResponseWriter
	c      *Console
	r      *http.Request
	status int
	key    string // the catalogue key of the sentence the person reads
	err    error  // the detail, never shown
	// attrs are more for the line, from the handler; never what was sent.
	attrs []any
}

func (o *outcome) WriteHeader(status int) {
	if o.status == 0 {
		o.status = status
		o.c.logResponse(o.r, o)
	}
	o.ResponseWriter.WriteHeader(status)
}

func (o *outcome) Write(b []byte) (int, error) {
	if o.status == 0 {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (the import
// sets its own deadlines).
func (o *outcome) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// noteResponse records, for the log line, the sentence (a catalogue key)
// and the detail of the page being written to w. attrs add to the line
// what the handler knows of the refusal, never a value that was sent.
func noteResponse(w http.ResponseWriter, key string, err error, attrs ...any) {
	if o, ok := w.(*outcome); ok {
		o.key, o.err = key, err
		o.attrs = append(o.attrs, attrs...)
	}
}

// logResponse is the one place a console response is logged: every
// response with a status of 400 or more gets exactly one line, with the
// host the browser used, the browser's address, the path, the status and
// the key of the sentence the person read; the detail when there is one
// that quotes nothing sent; nothing a form or a file held. Faults are
// errors, refusals information.
func (c *Console) logResponse(r *http.Request, o *outcome) {
	if o.status < http.StatusBadRequest {
		return
	}
	level, msg := slog.LevelInfo, "console request refused"
	if o.status >= http.StatusInternalServerError {
		level, msg = slog.LevelError, "console page error"
	}
	attrs := []any{"host", c.Provider.Hosts().RequestHost(r), "client_ip", c.Provider.Hosts().ClientIP(r), "method", r.Method, "path", r.URL.Path,
		"status", o.status, "message", o.key} // not "msg", the line's own key
	if o.err != nil {
		attrs = append(attrs, "err", o.err)
	}
	c.Logger.Log(r.Context(), level, msg, append(attrs, o.attrs...)...)
}

// problemKey chooses the sentence for a refusal of the service that the
// person can act on; "" means the error is not one (a fault, or not found,
// which the caller turns into a page). The service's own messages are
// English and for the log; people read the catalogue.
func problemKey(err error) string {
	var policy *password.PolicyError
	var chosen *saying
	switch {
	case errors.As(err, &chosen):
		return chosen.key
	case errors.Is(err, tenant.ErrAdminGroupWithoutActor):
		return "problem.adminGroupMember"
	case errors.Is(err, tenant.ErrTenantNameTaken):
		return "problem.orgNameTaken"
	case errors.Is(err, tenant.ErrSelfLockout):
		return "problem.selfLockout"
	case errors.Is(err, tenant.ErrAdminGroup):
		return "problem.adminGroup"
	case errors.Is(err, tenant.ErrBuiltinClient):
		return "problem.builtinClient"
	case errors.Is(err, tenant.ErrNoEmail):
		return "problem.noEmail"
	case errors.Is(err, tenant.ErrUserState):
		return "problem.userState"
	case errors.Is(err, tenant.ErrStale):
		return "problem.stale"
	case errors.Is(err, tenant.ErrConflict):
		return "problem.conflict"
	case errors.As(err, &policy), errors.Is(err, password.ErrPolicy):
		return "problem.passwordPolicy"
	case errors.Is(err, tenant.ErrInvalid):
		return "problem.invalid"
	}
	return ""
}

// formProblemOf is the problem a form shows for a refusal of the service:
// the rule an *tenant.InvalidError names, in the page's language (the
// import report words the same rules, by their codes), or else the
// sentence problemKey chooses; nil when the error is no refusal.
func formProblemOf(err error) *formProblem {
	var inv *tenant.InvalidError
	if errors.As(err, &inv) {
		if key := "import.reason." + inv.Code; hasKey(key) {
			args := make([]any, len(inv.Args))
			for i, a := range inv.Args {
				args[i] = a
			}
			return &formProblem{key: key, args: args}
		}
	}
	if key := problemKey(err); key != "" {
		return &formProblem{key: key}
	}
	return nil
}

// section is a kind of thing the console lists: where its list is, and
// what the list and a missing one are called.
type section struct {
	list, name, gone string // a path and two catalogue keys
}

var (
	usersSection   = section{"/admin/users", "nav.users", "error.gone.user"}
	groupsSection  = section{"/admin/groups", "nav.groups", "error.gone.group"}
	clientsSection = section{"/admin/clients", "nav.clients", "error.gone.client"}
)

// notFoundPage is the page for a user, group or client this tenant does
// not have, whoever asks and whatever tenant may have one by that name:
// it says which kind is missing and leads back to its list.
func notFoundPage(in section, err error) error {
	return &pageError{status: http.StatusNotFound, msg: in.gone, link: &link{in.list, in.name}, err: err}
}

// serviceError turns an error of a service call about a thing of the
// section into what the handler returns when it has no form to show it on.
func serviceError(in section, err error) error {
	if errors.Is(err, tenant.ErrNotFound) {
		return notFoundPage(in, err)
	}
	if key := problemKey(err); key != "" {
		return &pageError{status: http.StatusConflict, msg: key, err: err}
	}
	return err
}
