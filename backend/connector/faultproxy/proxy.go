// Package faultproxy is a TCP proxy for fault-injection tests: it sits between
// a connector and a platform simulator on 127.0.0.1 and, on command, drops the
// link (closes both sides), resets it (RST both sides), stalls it (a dead link:
// the connections stay open and nothing is forwarded either way), takes the
// service down (new connections are reset as they arrive, like a restarting
// server) and slows it (latency per chunk, a byte rate).
//
// It is test support, not part of the console; it lives beside the connectors
// because their fault tests are its only users. A Proxy is safe for
// concurrent use.
package faultproxy

import (
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"
)

// Proxy forwards every connection accepted on its own loopback address to a
// target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	links   map[*link]struct{}
	down    bool          // new connections are reset at once
	stalled bool          // links forward nothing
	latency time.Duration // added to every chunk, each direction
	rate    int           // bytes per second each direction; 0 = unlimited
	wake    chan struct{} // closed and replaced when stalled changes
	closed  bool
	wg      sync.WaitGroup

	accepted int
}

// link is one proxied connection: the client side and the server side.
type link struct {
	client, server net.Conn
	once           sync.Once
}

func (l *link) close(reset bool) {
	l.once.Do(func() {
		if reset {
			lingerZero(l.client)
			lingerZero(l.server)
		}
		l.client.Close()
		l.server.Close()
	})
}

// lingerZero makes Close send RST instead of FIN.
func lingerZero(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

// New starts a proxy on 127.0.0.1:0 that forwards to target (host:port).
func New(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}, wake: make(chan struct{})}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// ForURL starts a proxy for the host:port of rawURL and returns it with
// rawURL rewritten to go through it (scheme, path and query kept).
func ForURL(rawURL string) (*Proxy, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, "", fmt.Errorf("faultproxy: url %q has no host", rawURL)
	}
	p, err := New(u.Host)
	if err != nil {
		return nil, "", err
	}
	u.Host = p.Addr()
	return p, u.String(), nil
}

// Addr is the proxy's own host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted is how many connections the proxy has accepted (refused ones
// included).
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Links is how many proxied connections are open.
func (p *Proxy) Links() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		down, closed := p.down, p.closed
		p.mu.Unlock()
		if down || closed {
			lingerZero(c)
			c.Close()
			continue
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			lingerZero(c)
			c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close(true)
			continue
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(l, c, s)
		go p.pipe(l, s, c)
	}
}

// pipe copies src to dst until either side fails, honouring stall, latency
// and rate. A stalled pipe neither reads nor writes: what the peers send
// stays in the kernel's buffers, and nothing arrives on the other side.
func (p *Proxy) pipe(l *link, src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		l.close(false)
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		if !p.waitFlowing(l) {
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitFlowing(l) {
				return
			}
			p.mu.Lock()
			lat, rate := p.latency, p.rate
			p.mu.Unlock()
			d := lat
			if rate > 0 {
				d += time.Duration(float64(n) / float64(rate) * float64(time.Second))
			}
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// EOF or an error: half-close is not modelled, the first side
			// to finish ends the link, as websocket peers do.
			return
		}
	}
}

// waitFlowing blocks while the proxy is stalled; it reports false when the
// link was closed meanwhile.
func (p *Proxy) waitFlowing(l *link) bool {
	for {
		p.mu.Lock()
		stalled, wake, closed := p.stalled, p.wake, p.closed
		_, open := p.links[l]
		p.mu.Unlock()
		if closed || !open {
			return false
		}
		if !stalled {
			return true
		}
		<-wake
	}
}

// snapshot returns the open links.
func (p *Proxy) snapshot() []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*link, 0, len(p.links))
	for l := range p.links {
		out = append(out, l)
	}
	return out
}

// closeAll ends every open link, with RST when reset, and returns how many.
func (p *Proxy) closeAll(reset bool) int {
	ls := p.snapshot()
	for _, l := range ls {
		l.close(reset)
	}
	p.mu.Lock()
	for _, l := range ls {
		delete(p.links, l)
	}
	p.mu.Unlock()
	p.signal()
	return len(ls)
}

// signal wakes every stalled pipe to look at the state again.
func (p *Proxy) signal() {
	p.mu.Lock()
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
}

// Drop closes both sides of every open link (a FIN each way), as a server
// that closes its sockets; new connections are served. It returns how many
// links it closed.
func (p *Proxy) Drop() int { return p.closeAll(false) }

// Reset aborts every open link with a TCP RST to both sides; new connections
// are served. It returns how many links it reset.
func (p *Proxy) Reset() int { return p.closeAll(true) }

// Down resets every open link and resets each new connection as it arrives,
// until Up: the platform is unreachable.
func (p *Proxy) Down() int {
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	return p.closeAll(true)
}

// Stall turns every link, open and new, into a dead one: the TCP connections
// stay open but nothing is forwarded in either direction, until Up.
func (p *Proxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
	p.signal()
}

// Up ends Down and Stall: new connections are forwarded again. Links that
// were stalled are dead and are closed (as a dead path finally times out), so
// that nothing stale flows once the link is back.
func (p *Proxy) Up() {
	p.mu.Lock()
	var dead []*link
	if p.stalled {
		for l := range p.links {
			dead = append(dead, l)
		}
	}
	p.down = false
	p.stalled = false
	p.mu.Unlock()
	for _, l := range dead {
		l.close(true)
	}
	p.mu.Lock()
	for _, l := range dead {
		delete(p.links, l)
	}
	p.mu.Unlock()
	p.signal()
}

// Slow adds latency to every chunk in each direction and limits each
// direction to rate bytes per second (0 = no limit). Slow(0, 0) restores
// full speed.
func (p *Proxy) Slow(latency time.Duration, rate int) {
	p.mu.Lock()
	p.latency, p.rate = latency, rate
	p.mu.Unlock()
}

// Close stops the proxy and ends every link.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.closeAll(true)
	p.wg.Wait()
}
