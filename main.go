// Command modconsole is the moderation console: a desktop window (Wails), or
// the same UI in any browser (`serve`), or either over simulated platforms
// (`demo`).
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2"

	"modconsole/app"
	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/glimesh"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/connector/socketbase"
	"modconsole/backend/connector/velora"
	"modconsole/backend/connector/veroai"
	"modconsole/backend/desktop"
	"modconsole/backend/httpapi"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

//go:embed all:frontend/dist
var dist embed.FS

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// appID names the keyring service and the data directory.
const appID = "modconsole"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "modconsole:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-26s %s\n", strings.Join(strings.Fields("modconsole "+c.name+" "+c.args), " "), c.help)
	}
	fmt.Fprintln(w, "\nmodconsole COMMAND --help lists the flags of a command.")
}

// config is what the flags decide.
type config struct {
	addr        string
	allowRemote bool // a non-loopback addr is allowed
	data        string
	db          string // serve: a postgres:// URL (--db or MODCONSOLE_DB); "" = SQLite in data
	noOpen      bool
	secrets     string // keyring, memory, or team (set by --secrets-key-file)
	secretsSet  bool   // --secrets was given
	keyFile     string // serve: --secrets-key-file, the team secret store's key
	publicURL   string // serve: --public-url, the address behind a reverse proxy
	window      bool
	traffic     float64  // demo traffic multiplier
	channels    int      // demo: channels in all (--channels; 0 = the demo's own)
	simsProcess bool     // demo: the simulators run in a child process (--sims-process)
	imgSrc      []string // extra image origins for the CSP (the demo's simulators)
	testDebug   bool     // serve the window's state for the desktop e2e (--test-debug)
	team        bool     // serve --db: team mode (logins, channel leases); set by runServe
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") && (cmd == "" || cmd == "version") {
		cmd, args = "version", args[1:]
	}
	if wantsHelp(args) {
		return commandHelp(cmd, stdout)
	}
	switch cmd {
	case "", "desktop":
		cfg, err := parseFlags("desktop", args, "keyring", stderr)
		if err != nil {
			return err
		}
		return runDesktop(cfg, nil)
	case "serve":
		cfg, err := parseFlags(cmd, args, "keyring", stderr)
		if err != nil {
			return err
		}
		return runServe(cfg, stdout, nil)
	case "demo":
		cfg, err := parseFlags(cmd, args, "memory", stderr)
		if err != nil {
			return err
		}
		return runDemo(cfg, stdout)
	case "team":
		return runTeam(args, os.Stdin, stdout, stderr)
	case simsCommand: // hidden: the child of demo --sims-process
		return runDemoSims(args, os.Stdin, stdout, stderr)
	case "version":
		if len(args) > 0 {
			return fmt.Errorf("version takes no arguments, not %q", args[0])
		}
		fmt.Fprintln(stdout, "modconsole", version)
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", cmd)
}

func parseFlags(cmd string, args []string, defSecrets string, stderr io.Writer) (config, error) {
	fs, cp := flagSet(cmd, defSecrets)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "see `modconsole %s --help`\n", fs.Name()) }
	if err := fs.Parse(args); err != nil {
		return *cp, err
	}
	c := *cp
	fs.Visit(func(f *flag.Flag) { c.secretsSet = c.secretsSet || f.Name == "secrets" })
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.traffic <= 0 || c.traffic > 10000 {
		return c, fmt.Errorf("--traffic must be above 0 and at most 10000, not %v", c.traffic)
	}
	if c.channels < 0 || c.channels > demoMaxChannels {
		return c, fmt.Errorf("--channels must be from 0 to %d, not %d", demoMaxChannels, c.channels)
	}
	if err := checkAddr(c.addr, c.allowRemote); err != nil {
		return c, err
	}
	if cmd == "serve" && c.db == "" {
		c.db = os.Getenv(dbEnv)
	}
	if c.db != "" && !store.IsPostgresURL(c.db) {
		return c, fmt.Errorf("--db (or %s) takes a postgres:// URL; without it the console keeps its SQLite database in --data", dbEnv)
	}
	if c.secrets != "keyring" && c.secrets != "memory" {
		return c, fmt.Errorf("--secrets must be keyring or memory, not %q (team mode's secret store is chosen with --secrets-key-file)", c.secrets)
	}
	if err := c.teamSecrets(cmd); err != nil {
		return c, err
	}
	if c.publicURL != "" {
		if _, _, _, err := httpapi.ParsePublicURL(c.publicURL); err != nil {
			return c, fmt.Errorf("--public-url: %w", err)
		}
	}
	if c.data == "" {
		d, err := defaultDataDir()
		if err != nil {
			return c, err
		}
		if cmd == "demo" {
			d = filepath.Join(d, "demo")
			if c.channels > 0 {
				// Its own log: the extra channels stay joined in a data
				// directory, and a demo without them would fail to join them.
				d += fmt.Sprintf("-%dch", c.channels)
			}
		}
		c.data = d
	}
	return c, nil
}

// teamSecrets decides where team mode keeps the tokens: --secrets-key-file
// picks the team secret store (and needs --db); serve --db without it
// refuses to start unless --secrets names a per-machine store explicitly,
// because the other instances need the tokens too.
func (c *config) teamSecrets(cmd string) error {
	if c.keyFile != "" {
		if c.db == "" {
			return fmt.Errorf("--secrets-key-file needs --db (or %s): the team secret store lives in the team's PostgreSQL database", dbEnv)
		}
		if c.secretsSet {
			return errors.New("--secrets-key-file and --secrets exclude each other: with the key file the team secret store holds the tokens")
		}
		c.secrets = "team"
		return nil
	}
	if cmd == "serve" && c.db != "" && !c.secretsSet {
		return errors.New("team mode (serve --db) keeps the platform tokens in the team secret store: pass --secrets-key-file PATH " +
			"(make the key once with `modconsole team new-key PATH` and give every instance a copy); " +
			"or pass --secrets keyring to keep them in this machine's OS keyring, where the other instances cannot read them")
	}
	return nil
}

// dbEnv names the environment variable that gives serve its PostgreSQL
// database when --db is not set (a URL with a password is better kept out
// of the process list this way, or in ~/.pgpass).
const dbEnv = "MODCONSOLE_DB"

// checkAddr refuses a listen address that is not loopback unless remote
// access was asked for: browser mode is plain HTTP.
func checkAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if loopbackHost(host) || allowRemote {
		return nil
	}
	return fmt.Errorf("--addr %s is reachable from other machines, and browser mode is plain HTTP; "+
		"pass --allow-remote to do it anyway, or reach a loopback address through an SSH tunnel", addr)
}

// loopbackHost reports whether host names this machine's loopback
// interface only. An empty host (":8080") means every interface.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// remoteWarning is printed when browser mode listens beyond loopback.
const remoteWarning = "modconsole: WARNING: listening on %s, beyond this machine's loopback, over plain HTTP: " +
	"anyone on the network path can read the session token and the chat, and take over the console. " +
	"Prefer an SSH tunnel to a loopback address.\n"

// defaultDataDir is $XDG_DATA_HOME/modconsole, or ~/.local/share/modconsole.
func defaultDataDir() (string, error) {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, appID), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: %w (use --data)", err)
	}
	return filepath.Join(home, ".local", "share", appID), nil
}

// prepareDataDir creates the data directory readable by its owner only
// (0700), and tightens an existing one to that: the chat log and the account
// list are nobody else's business. A shared directory (sticky bit, like
// /tmp) is refused rather than closed to everyone else.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if st.Mode()&os.ModeSticky != 0 {
		return fmt.Errorf("data directory %s is a shared directory (sticky bit); use a directory of its own with --data", dir)
	}
	if st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("data directory: restrict %s to its owner: %w", dir, err)
		}
	}
	return nil
}

// registry is the one explicit map of platform connectors.
func registry() connector.Registry {
	return connector.Registry{
		chat.Velora:     func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) },
		chat.Kichat:     func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) },
		chat.Glimesh:    func(cfg connector.Config) (connector.Connector, error) { return glimesh.New(cfg) },
		chat.VeroAI:     func(cfg connector.Config) (connector.Connector, error) { return veroai.New(cfg) },
		chat.SocketBase: func(cfg connector.Config) (connector.Connector, error) { return socketbase.New(cfg) },
	}
}

// platforms is what each connector declares (sign-in, secrets, settings),
// in the order the accounts screen lists them.
func platforms() []connector.Info {
	return []connector.Info{velora.Describe(), kichat.Describe(), glimesh.Describe(), veroai.Describe(), socketbase.Describe()}
}

// core is the assembled backend.
type core struct {
	st  *store.Store
	svc *service.Service
	log *slog.Logger
}

func newCore(cfg config, mode string, em service.Emitter) (*core, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := prepareDataDir(cfg.data); err != nil {
		return nil, err
	}
	var key []byte
	if cfg.keyFile != "" {
		// Before the database: a bad key file fails at once.
		k, err := secrets.ReadKeyFile(cfg.keyFile)
		if err != nil {
			return nil, err
		}
		key = k
	}
	st, err := openStore(cfg, log)
	if err != nil {
		return nil, err
	}
	var sec secrets.Store
	switch {
	case cfg.secrets == "team":
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		sealed, err := secrets.OpenSealed(ctx, st, key)
		cancel()
		if err != nil {
			st.Close()
			return nil, err
		}
		log.Info("tokens in the team secret store", "key_id", secrets.KeyID(key))
		sec = sealed
	case cfg.secrets == "memory":
		sec = secrets.NewMemory()
	default:
		if cfg.db != "" {
			log.Warn("team mode with the tokens in this machine's OS keyring: other instances cannot read them (use --secrets-key-file for the team secret store)")
		}
		sec = secrets.NewKeyring(appID)
		if err := sec.Check(); err != nil {
			// Keep going: the UI shows the problem and refuses to store
			// tokens; nothing is written in plain text.
			log.Warn("no keyring", "err", err)
		}
	}
	svc := service.New(service.Options{
		Store: st, Secrets: sec, Registry: registry(), Platforms: platforms(), Emitter: em, Logger: log,
		Mode: mode, Version: version,
		// The P3 benchmark (frontend/e2e/latency.bench.mjs) asks for
		// per-stage timestamps on each message.
		TraceLatency: os.Getenv("MODCONSOLE_TRACE_LATENCY") == "1",
		// Team mode shares the channels out among the instances on the
		// database (demo --db stays one instance holding everything).
		Leases: cfg.team,
	})
	return &core{st: st, svc: svc, log: log}, nil
}

// openStore opens the PostgreSQL database of cfg.db (team mode's shared
// store), or else the SQLite file in the data directory.
func openStore(cfg config, log *slog.Logger) (*store.Store, error) {
	if cfg.db == "" {
		return store.Open(filepath.Join(cfg.data, "console.db"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.OpenPostgres(ctx, cfg.db)
	if err != nil {
		return nil, err
	}
	log.Info("store on PostgreSQL", "db", st.Path())
	return st, nil
}

func (c *core) close() {
	c.svc.Close()
	c.st.Close()
}

func assets() fs.FS {
	sub, err := fs.Sub(dist, "frontend/dist")
	if err != nil {
		return nil
	}
	return sub
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runServe runs browser mode until interrupted. ready, if set, runs after
// the service started (the demo seeds its accounts there).
func runServe(cfg config, stdout io.Writer, ready func(ctx context.Context, svc *service.Service) error) error {
	if err := checkAddr(cfg.addr, cfg.allowRemote); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	addr := ln.Addr().String()
	host, port, _ := net.SplitHostPort(addr)
	if !loopbackHost(host) {
		fmt.Fprintf(stdout, remoteWarning, addr)
	}
	urlHost := addr
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		urlHost = net.JoinHostPort("127.0.0.1", port) // every interface: print the local one
	}
	token := newToken()
	var srv *httpapi.Server
	em := service.EmitterFunc(func(name string, data any) {
		if srv != nil {
			srv.Emit(name, data)
		}
	})
	// serve --db is team mode: logins by name and password instead of the
	// printed token, and the channels shared out among the instances (demo
	// --db keeps the token and holds every channel: its simulators are one
	// person's).
	cfg.team = cfg.db != "" && ready == nil
	c, err := newCore(cfg, "browser", em)
	if err != nil {
		ln.Close()
		return err
	}
	defer c.close()
	opts := httpapi.Options{API: c.svc, Assets: assets(), Token: token, Logger: c.log, Addr: addr, ImgSrc: cfg.imgSrc, PublicURL: cfg.publicURL}
	team := cfg.team
	if team {
		fmt.Fprintf(stdout, "modconsole: instance %s\n", c.svc.Instance())
		opts.Token, opts.Users = "", c.st
		if n, err := c.st.CountUsers(context.Background()); err != nil {
			return err
		} else if n == 0 {
			fmt.Fprintln(stdout, "modconsole: team mode has no users yet: add the first lead with `modconsole team add-user --db URL --name NAME --role lead` (the password on stdin)")
		}
	}
	srv = httpapi.New(opts)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.svc.Start(ctx); err != nil {
		return err
	}
	if ready != nil {
		if err := ready(ctx, c.svc); err != nil {
			return err
		}
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	url := fmt.Sprintf("http://%s/?token=%s", urlHost, token)
	if team {
		url = fmt.Sprintf("http://%s%s", urlHost, httpapi.LoginPath)
		fmt.Fprintf(stdout, "modconsole: team mode: log in at %s\n", url)
		if cfg.publicURL != "" {
			fmt.Fprintf(stdout, "modconsole: behind the reverse proxy at %s%s\n", strings.TrimSuffix(cfg.publicURL, "/"), httpapi.LoginPath)
		}
	} else {
		fmt.Fprintf(stdout, "modconsole: browser mode at %s\n", url)
	}
	if !cfg.noOpen {
		openBrowser(url)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	return nil
}

func openBrowser(url string) {
	for _, b := range []string{"xdg-open", "open"} {
		if p, err := exec.LookPath(b); err == nil {
			cmd := exec.Command(p, url)
			if cmd.Start() == nil {
				go cmd.Wait()
				return
			}
		}
	}
}

// runDesktop opens the Wails window. Binaries built without Wails' build
// tags cannot open one; wails.Run then fails and we say what to do instead.
func runDesktop(cfg config, ready func(ctx context.Context, svc *service.Service) error) error {
	// One window per data directory: a second start focuses the first
	// one's window and exits before it opens anything.
	var shell *app.Shell
	var shellMu sync.Mutex
	instance := instanceName(cfg.data)
	inst, err := desktop.Claim(instance, func() {
		shellMu.Lock()
		defer shellMu.Unlock()
		if shell != nil {
			shell.Focus()
		}
	})
	if errors.Is(err, desktop.ErrRunning) {
		fmt.Fprintln(os.Stderr, "modconsole: already running with this data directory; its window was brought to the front")
		return nil
	}
	defer inst.Release()
	a := (*app.App)(nil)
	em := service.EmitterFunc(func(name string, data any) {
		if a != nil {
			app.NewEmitter(a).Emit(name, data)
		}
		shellMu.Lock()
		sh := shell
		shellMu.Unlock()
		if sh != nil {
			sh.Observe(name, data)
		}
	})
	c, err2 := newCore(cfg, "desktop", em)
	if err2 != nil {
		return err2
	}
	defer c.close()
	if err != nil {
		c.log.Warn("no single-instance check (no session bus)", "err", err)
	}
	var notifier app.Notifier
	if n, err := desktop.NewNotifier("Moderation console", "modconsole"); err == nil {
		defer n.Close()
		notifier = n
	}
	a = app.New(c.svc)
	sh := app.NewShell(c.svc, cfg.data, notifier, c.log)
	shellMu.Lock()
	shell = sh
	shellMu.Unlock()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.testDebug {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		token := newToken()
		sh.ServeDebug(ctx, ln, token)
		fmt.Printf("modconsole: test endpoint at http://%s token %s\n", ln.Addr(), token)
	}
	if err := c.svc.Start(ctx); err != nil {
		return err
	}
	if ready != nil {
		if err := ready(ctx, c.svc); err != nil {
			return err
		}
	}
	o := app.Options(a, assets())
	sh.Apply(o, instance)
	o.Bind = append(o.Bind, app.NewDesktop(sh))
	if len(cfg.imgSrc) > 0 {
		app.SetCSP(o, httpapi.CSPWith(cfg.imgSrc))
	}
	err = wails.Run(o)
	if err != nil {
		return fmt.Errorf("cannot open the desktop window (%v); build it with `make desktop`, or use `modconsole serve` for browser mode", err)
	}
	return nil
}

// instanceName is the session-bus name of the desktop app over dataDir:
// one running window per data directory.
func instanceName(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return app.InstanceName + ".d" + hex.EncodeToString(sum[:6])
}
