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
// the person reads a general sentence, the log gets the detail once.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, q *request, err error) {
	if ui.ClientGone(r, err) {
		c.Logger.DebugContext(r.Context(), "request abandoned by the client", "host", c.Provider.Hosts().RequestHost(r), "path", r.URL.Path, "err", err)
		return
	}
	var pe *pageError
	if !errors.As(err, &pe) {
		pe = &pageError{status: http.StatusInternalServerError, msg: "error.internal", err: err}
	}
	level := slog.LevelInfo
	if pe.status >= 500 {
		level = slog.LevelError
	}
	if pe.err != nil || level == slog.LevelError {
		c.Logger.Log(r.Context(), level, "console page error", "host", c.Provider.Hosts().RequestHost(r), "path", r.URL.Path,
			"status", pe.status, "message", pe.msg, "err", pe.err) // not "msg", the line's own key
	}
	if q == nil {
		q = &request{lang: "en"}
	}
	if pe.allow != "" {
		w.Header().Set("Allow", pe.allow)
	}
	heading := pe.heading
	if heading == "" {
		heading = statusHeading(pe.status)
	}
	f := c.frame(q, "")
	page := &messagePage{frame: f, Heading: f.T(heading), Message: f.T(pe.msg)}
	if pe.link != nil {
		page.Link = &link{Href: pe.link.Href, Text: f.T(pe.link.Text)}
	}
	if err := c.render(w, pe.status, page); err != nil {
		c.Logger.ErrorContext(r.Context(), "render console error page", "err", err)
		http.Error(w, http.StatusText(pe.status), pe.status)
	}
}

func statusHeading(status int) string {
	switch {
	case status == http.StatusForbidden:
		return "error.heading.403"
	case status == http.StatusNotFound:
		return "error.heading.404"
	case status == http.StatusMethodNotAllowed:
		return "error.heading.405"
	case status >= 500:
		return "error.heading.500"
	}
	return "error.heading.400"
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
