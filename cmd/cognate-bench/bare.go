package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cognate-idp/cognate/cmd/internal/httplimits"
)

// Discovery and JWKS are answered from bytes serialised once per tenant, so
// their bottleneck is the HTTP stack itself: its raw cost is what Go's
// net/http manages when it does nothing else. The bench measures that with a
// bare server, a child process of its own pinned to the server's core, that
// answers the same bytes with the same headers as Cognate did, and loads it
// exactly as it loads Cognate, between Cognate's passes.
//
// The same bare server also answers an ES256 token request the way the
// least any token endpoint can: it parses the form and makes one ES256
// signature, then sends the token response Cognate sent. That is the floor
// of an ES256 token on this core, HTTP included, which the signature alone
// is not: it says how much of a token's cost is Cognate's own.

const (
	pathDiscovery = "/.well-known/openid-configuration"
	pathJWKS      = "/.well-known/jwks.json"
	pathToken     = "/oauth2/token"
)

// bareDocument is one response the bare server repeats.
type bareDocument struct {
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
	// Sign: parse the request's form and make one ES256 signature before
	// answering, as a token endpoint must.
	Sign bool `json:"sign"`
}

// bareRequest is a request of the bench whose response the bare server is to
// repeat: sent to Cognate once to copy the answer, then to the bare server
// for its rate.
type bareRequest struct {
	path  string
	build func(host string) string
	sign  bool
}

type bareServer struct {
	addr string
	cmd  *exec.Cmd
}

// startBare copies Cognate's responses to the requests from the server and
// starts the bare server with them.
func startBare(ctx context.Context, o options, requests []bareRequest) (*bareServer, error) {
	var docs []bareDocument
	for _, req := range requests {
		resp, body, err := capture(o, req.build(o.server.Host))
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", req.path, err)
		}
		// net/http writes these itself.
		resp.Header.Del("Date")
		resp.Header.Del("Content-Length")
		docs = append(docs, bareDocument{Path: req.path, Header: resp.Header, Body: body, Sign: req.sign})
	}
	input, _ := json.Marshal(docs)

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-serve-bare", "-server-cpu", strconv.Itoa(o.serverCPU))
	cmd.Stdin = bytes.NewReader(input)
	cmd.Stderr = os.Stderr
	// Should the bench die, the bare server goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("no address from the bare server: %w", err)
	}
	return &bareServer{addr: strings.TrimSpace(line), cmd: cmd}, nil
}

func (b *bareServer) stop() {
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
}

// capture sends one raw request to the server and returns its answer, which
// must be a 200.
func capture(o options, request string) (*http.Response, []byte, error) {
	c, err := net.Dial("tcp", o.server.Host)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, request); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	return resp, body, nil
}

// rate returns a raw measurement: the bare server's rate for req, loaded
// like a pass of Cognate but for a quarter of its length.
func (b *bareServer) rate(o options, tr *http.Transport, req bareRequest) func() (float64, error) {
	bo := o
	bo.server = &url.URL{Scheme: "http", Host: b.addr}
	bo.duration = o.duration / 4
	once := rawRequest(bo, req.build)
	return func() (float64, error) { return load(context.Background(), bo, tr, once) }
}

// serveBare is the bare server's whole life: read the documents from in,
// move to cpu, listen on loopback, tell the address on out, serve until ctx
// ends.
func serveBare(ctx context.Context, in io.Reader, out io.Writer, cpu int) error {
	var docs []bareDocument
	if err := json.NewDecoder(in).Decode(&docs); err != nil {
		return fmt.Errorf("read the documents: %w", err)
	}
	if cpu >= 0 {
		var there unix.CPUSet
		there.Set(cpu)
		if err := setProcessAffinity(&there); err != nil {
			return fmt.Errorf("move to cpu %d: %w", cpu, err)
		}
	}
	byPath := map[string]bareDocument{}
	for _, d := range docs {
		byPath[d.Path] = d
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if d.Sign {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			digest := sha256.Sum256([]byte(r.PostForm.Encode()))
			if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		h := w.Header()
		for k, v := range d.Header {
			h[k] = v
		}
		_, _ = w.Write(d.Body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, ln.Addr())
	// The limits cognate serve sets: each timeout costs a deadline per
	// request.
	srv := httplimits.Server(handler)
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
