// Package transport is the one way connectors reach the network: every
// WebSocket dial and every HTTP call of every connector goes through a
// Client. It does two things there, once for all platforms:
//
//   - Errors never carry a secret. A failed dial or request quotes its URL
//     (net/http's *url.Error, the WebSocket library's wrapping), and several
//     platforms put a token in that URL's query (Glimesh, Velora with
//     auth=query, socket-base, VeroAI's socket). Errors from a Client are
//     *Error values whose text has every URL's query string and user
//     credentials replaced by "REDACTED", and the values of the request's own
//     query and user info scrubbed wherever else they appear.
//   - Plaintext to the network is refused. ws: and http: are allowed only to
//     a loopback host (localhost, 127.0.0.0/8, ::1) unless the account's
//     "allow insecure" setting is on; redirects are held to the same rule.
//
// A Client is safe for concurrent use. The zero of *Client (nil) is a
// client with the default timeout that allows no insecure link.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Redacted replaces a secret in error text.
const Redacted = "REDACTED"

// ErrInsecure marks a refused plaintext link (ws: or http: to a host that is
// not loopback while insecure links are not allowed).
var ErrInsecure = errors.New("transport: plaintext link to a non-loopback host refused")

// Options configures a Client.
type Options struct {
	// Timeout bounds one HTTP call, the body included (0: no bound but the
	// caller's context). Dials are bounded by their context only.
	Timeout time.Duration
	// AllowInsecure permits ws: and http: to hosts that are not loopback.
	AllowInsecure bool
}

// Client dials WebSockets and makes HTTP calls for one connector.
type Client struct {
	httpc         *http.Client
	dialc         *http.Client // httpc without its Timeout
	allowInsecure bool
}

// New returns a Client.
func New(opts Options) *Client {
	c := &Client{allowInsecure: opts.AllowInsecure}
	c.httpc = &http.Client{
		Timeout: opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("transport: stopped after 10 redirects")
			}
			return c.Check(req.URL)
		},
	}
	d := *c.httpc
	d.Timeout = 0
	c.dialc = &d
	return c
}

func (c *Client) orDefault() *Client {
	if c == nil {
		return New(Options{})
	}
	return c
}

// AllowsInsecure reports whether c permits plaintext to non-loopback hosts.
func (c *Client) AllowsInsecure() bool { return c != nil && c.allowInsecure }

// Check refuses u when it is a plaintext link (ws:, http:) to a host that is
// not loopback and c does not allow insecure links. Other schemes pass: the
// libraries that use the URL judge them.
func (c *Client) Check(u *url.URL) error {
	return CheckURL(u, c.AllowsInsecure())
}

// CheckURL is Check for a given setting of allowInsecure.
func CheckURL(u *url.URL, allowInsecure bool) error {
	if u == nil || allowInsecure {
		return nil
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		if !IsLoopback(u.Hostname()) {
			return fmt.Errorf("%w: %s://%s (use wss: or https:, or turn on the account's allow insecure setting)", ErrInsecure, strings.ToLower(u.Scheme), u.Host)
		}
	}
	return nil
}

// IsLoopback reports whether host (without port) names this machine:
// "localhost", an address in 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Dial opens a WebSocket to rawURL. opts may be nil; its HTTPClient, when
// set, is replaced by c's. An error is an *Error (text redacted); the
// response, when not nil, is the refused handshake's.
func (c *Client) Dial(ctx context.Context, rawURL string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	c = c.orDefault()
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, newError("dial", rawURL, err)
	}
	if err := c.Check(u); err != nil {
		return nil, nil, newError("dial", rawURL, err)
	}
	var o websocket.DialOptions
	if opts != nil {
		o = *opts
	}
	o.HTTPClient = c.dialc
	ws, resp, err := websocket.Dial(ctx, rawURL, &o)
	if err != nil {
		return nil, resp, newError("dial", rawURL, err)
	}
	return ws, resp, nil
}

// NewRequest builds an HTTP request; a malformed URL gives an *Error whose
// text does not quote the URL's secrets.
func NewRequest(ctx context.Context, method, rawURL string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, newError(method, rawURL, err)
	}
	return req, nil
}

// Do sends req. An error is an *Error (text redacted).
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	c = c.orDefault()
	raw := req.URL.String()
	if err := c.Check(req.URL); err != nil {
		return nil, newError(req.Method, raw, err)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, newError(req.Method, raw, err)
	}
	return resp, nil
}

// Error is a failed dial or HTTP call. Its text carries no query string, no
// user credentials and none of the request URL's query or user-info values.
// Unwrap gives the cause, so errors.Is sees context.DeadlineExceeded,
// ErrInsecure and the like; the cause's *url.Error has its URL redacted too.
type Error struct {
	Op  string // "dial" or the HTTP method
	URL string // the URL, redacted
	msg string
	err error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.err }

func newError(op, rawURL string, err error) *Error {
	secrets := urlSecrets(rawURL)
	// The *url.Error formats its URL when printed: redact it in place (it
	// was made for this call and is not shared).
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = scrub(RedactText(ue.URL), secrets)
		}
	}
	return &Error{Op: op, URL: RedactURL(rawURL), msg: scrub(RedactText(err.Error()), secrets), err: err}
}

// Redact returns err with its text redacted as RedactText does; nil stays
// nil and an *Error is returned as it is.
func Redact(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	s := err.Error()
	if r := RedactText(s); r != s {
		return &Error{msg: r, err: err}
	}
	return err
}

// urlPattern finds URLs in text: a scheme, "://", then everything up to a
// space, a quote or an angle bracket.
var urlPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://[^\s"'<>` + "`" + `]+`)

// RedactText replaces, in every URL inside s, the query string and the user
// credentials by REDACTED; the rest of the text is kept.
func RedactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, RedactURL)
}

// RedactURL returns raw with its query and user info replaced by REDACTED
// and its fragment dropped. Text that does not parse as a URL keeps only
// what comes before the first '?', '#' or '@'.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		cut := len(raw)
		for _, sep := range []string{"?", "#", "@"} {
			if i := strings.Index(raw, sep); i >= 0 && i < cut {
				cut = i
			}
		}
		if cut < len(raw) {
			return raw[:cut] + "?" + Redacted
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery = Redacted
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// urlSecrets lists the values in raw's query and user info, raw and
// escaped, so that they can be scrubbed where they appear without their URL.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		// Still take what looks like a query.
		if i := strings.IndexByte(raw, '?'); i >= 0 {
			q, _ := url.ParseQuery(raw[i+1:])
			return valuesOf(q, nil)
		}
		return nil
	}
	var out []string
	if u.User != nil {
		out = append(out, u.User.Username())
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	return valuesOf(u.Query(), out)
}

func valuesOf(q url.Values, out []string) []string {
	for _, vs := range q {
		out = append(out, vs...)
	}
	var all []string
	for _, v := range out {
		// Short values (EIO=4, vsn=2.0.0) are not secrets and would
		// scrub unrelated text.
		if len(v) < 8 {
			continue
		}
		all = append(all, v, url.QueryEscape(v), url.PathEscape(v))
	}
	return all
}

// scrub replaces every secret in s.
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}
