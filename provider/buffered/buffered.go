// Package buffered keeps an HTTP response in memory instead of sending it,
// for code that runs a handler and then corrects or forwards its answer:
// the provider's endpoints that the OpenID library answers and Cognate
// corrects (provider.libraryToken, serveIntrospect, serveUserinfo,
// serveLogout), and the console's loopback transport to the provider
// (ui/console's loopback).
package buffered

import (
	"bytes"
	"maps"
	"net/http"
)

// Response is an http.ResponseWriter that keeps the status and the body a
// handler writes. The zero Response has headers of its own; NewResponse
// gives it others' (the real response's, say).
type Response struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// NewResponse returns a Response whose headers are header: what the
// handler sets there is set on whatever else header belongs to.
func NewResponse(header http.Header) *Response { return &Response{header: header} }

func (r *Response) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

// WriteHeader keeps the first status written, as net/http sends only the
// first.
func (r *Response) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Write keeps b; before any WriteHeader it means 200, as in net/http.
func (r *Response) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// Status is the status the handler wrote; 0 when it wrote nothing, which
// net/http would have sent as 200.
func (r *Response) Status() int { return r.status }

// Body is what the handler wrote, held by the Response: to be read, not
// changed.
func (r *Response) Body() []byte { return r.body.Bytes() }

// Send writes what the handler wrote to w: its headers (which a Response
// made with NewResponse(w.Header()) has set on w already), the status, 200
// when it wrote none, and the body.
func (r *Response) Send(w http.ResponseWriter) {
	maps.Copy(w.Header(), r.header)
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(r.body.Bytes())
}
