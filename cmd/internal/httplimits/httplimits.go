// Package httplimits holds the limits cognate serve puts on its HTTP
// server, in one place, so that cognate-bench's bare net/http server, the
// baseline Cognate is measured against, pays for the same deadlines: each
// timeout costs one per request. It knows nothing of what is served.
package httplimits

import (
	"net/http"
	"time"
)

// Server is an http.Server for handler with cognate serve's limits. A slow
// client may not hold a connection open for ever: headers within 10 s, a
// body within 30 s, a response within 60 s (a login under load waits for a
// hashing slot); an idle one closes after a minute (cognate serve's
// connection limit closes it sooner past its watermark). Headers are at
// most 64 KiB.
func Server(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
