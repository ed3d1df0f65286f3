package faultproxy_test

import (
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/faultproxy"
	"modconsole/backend/connector/glimesh"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/connector/socketbase"
	"modconsole/backend/connector/velora"
	"modconsole/backend/connector/veroai"
	glimeshsim "modconsole/backend/simulator/glimesh"
	kichatsim "modconsole/backend/simulator/kichat"
	sbsim "modconsole/backend/simulator/socketbase"
	velorasim "modconsole/backend/simulator/velora"
	veroaisim "modconsole/backend/simulator/veroai"
)

// The heartbeat every rig runs with: short, so that a dead link is detected
// in a test's time, and far above the proxy's slow-link latency.
const (
	hbInterval = time.Second
	hbTimeout  = time.Second
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// viewer is the plain chatter whose messages the tests inject.
const viewer = "fault_viewer"

// rig is one platform simulator whose event link runs through a fault proxy,
// and the account configuration that reaches it.
type rig struct {
	name     string
	platform chat.Platform
	proxy    *faultproxy.Proxy
	cfg      connector.Config // the event link's URL points at the proxy
	factory  connector.Factory
	info     connector.Info // what the connector declares (its Describe)
	channels []string
	inject   func(channel, user, text string) error
	// detectBound is R2's bound for this platform: one heartbeat interval
	// plus its timeout, as the connector is configured here.
	detectBound time.Duration
}

// rigs lists every platform, each started fresh by its function.
var rigs = []struct {
	name  string
	start func(t *testing.T) *rig
}{
	{"velora", veloraRig},
	{"kichat", kichatRig},
	{"glimesh", glimeshRig},
	{"veroai", veroaiRig},
	{"socketbase", socketbaseRig},
}

func proxyFor(t *testing.T, raw string) (*faultproxy.Proxy, string) {
	t.Helper()
	p, u, err := faultproxy.ForURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, u
}

// must returns v, failing t when err is not nil: must[T](t)(f()).
func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Velora: Socket.IO; the server's Engine.IO pings are the heartbeat the
// client watches (interval + timeout).
func veloraRig(t *testing.T) *rig {
	sim := velorasim.New(velorasim.Options{Logger: quiet, ViewerInterval: -1, PingInterval: hbInterval, PingTimeout: hbTimeout})
	base := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d := must[velorasim.Demo](t)(sim.SeedDemo())
	p, purl := proxyFor(t, base)
	return &rig{
		name: "velora", platform: chat.Velora, proxy: p,
		cfg:      connector.Config{AccountID: "faults-velora", Settings: map[string]string{velora.SettingURL: purl}, Token: d.ModToken},
		factory:  func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) },
		info:     velora.Describe(),
		channels: []string{d.Channel, d.OtherChannel},
		inject: func(ch, user, text string) error {
			_, err := sim.Inject(ch, user, text)
			return err
		},
		detectBound: hbInterval + hbTimeout,
	}
}

// Kichat: Socket.IO relay through the proxy; its REST and the Kick API are
// reached directly.
func kichatRig(t *testing.T) *rig {
	sim := kichatsim.New(kichatsim.Options{Logger: quiet, PingInterval: hbInterval, PingTimeout: hbTimeout})
	base := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d := must[kichatsim.Demo](t)(sim.SeedDemo())
	p, purl := proxyFor(t, base)
	return &rig{
		name: "kichat", platform: chat.Kichat, proxy: p,
		cfg: connector.Config{AccountID: "faults-kichat",
			Settings: map[string]string{kichat.SettingURL: purl, kichat.SettingAPIBase: base, kichat.SettingKickAPI: base},
			Secrets:  map[string]string{kichat.SecretKick: d.ModToken}},
		factory:  func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) },
		info:     kichat.Describe(),
		channels: []string{d.Channel, d.OtherChannel},
		inject: func(ch, user, text string) error {
			_, err := sim.Inject(ch, user, text)
			return err
		},
		detectBound: hbInterval + hbTimeout,
	}
}

// Glimesh: Phoenix channels; the client heartbeats every interval and gives
// up when a heartbeat is still unanswered at the next one (the timeout is one
// interval).
func glimeshRig(t *testing.T) *rig {
	sim := glimeshsim.New(glimeshsim.Options{Logger: quiet})
	base := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d := must[glimeshsim.Demo](t)(sim.SeedDemo())
	p, purl := proxyFor(t, base)
	return &rig{
		name: "glimesh", platform: chat.Glimesh, proxy: p,
		cfg: connector.Config{AccountID: "faults-glimesh",
			Settings: map[string]string{glimesh.SettingURL: purl, glimesh.SettingHeartbeat: hbInterval.String()}, Token: d.ModToken},
		factory:  func(cfg connector.Config) (connector.Connector, error) { return glimesh.New(cfg) },
		info:     glimesh.Describe(),
		channels: []string{d.Channel, d.OtherChannel},
		inject: func(ch, user, text string) error {
			_, err := sim.Inject(ch, user, text)
			return err
		},
		detectBound: 2 * hbInterval,
	}
}

// VeroAI: the WebSocket through the proxy (ws_url), REST directly; the
// client pings a quiet link every interval and waits timeout for the pong.
func veroaiRig(t *testing.T) *rig {
	sim := veroaisim.New(veroaisim.Options{Logger: quiet})
	base := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d := must[veroaisim.Demo](t)(sim.SeedDemo())
	u := must[*url.URL](t)(url.Parse(base))
	p, pws := proxyFor(t, "ws://"+u.Host+"/ws")
	return &rig{
		name: "veroai", platform: chat.VeroAI, proxy: p,
		cfg: connector.Config{AccountID: "faults-veroai", Token: d.RESTKey,
			Settings: map[string]string{veroai.SettingAPIURL: base + "/v1", veroai.SettingWSURL: pws,
				veroai.SettingPingInterval: hbInterval.String(), veroai.SettingPingTimeout: hbTimeout.String()}},
		factory:  func(cfg connector.Config) (connector.Connector, error) { return veroai.New(cfg) },
		info:     veroai.Describe(),
		channels: d.Conversations[:2],
		inject: func(ch, user, text string) error {
			_, err := sim.Post(ch, user, text)
			return err
		},
		detectBound: hbInterval + hbTimeout,
	}
}

// socket-base: everything (WebSocket and HTTP) through the proxy; the client
// pings every interval and waits timeout for the pong.
func socketbaseRig(t *testing.T) *rig {
	sim := sbsim.New(sbsim.Options{Logger: quiet})
	base := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d := must[sbsim.Demo](t)(sim.SeedDemo())
	p, purl := proxyFor(t, base)
	return &rig{
		name: "socketbase", platform: chat.SocketBase, proxy: p,
		cfg: connector.Config{AccountID: "faults-socketbase",
			Settings: map[string]string{socketbase.SettingURL: purl, socketbase.SettingHash: d.Hash, socketbase.SettingSub: d.Sub,
				socketbase.SettingPingInterval: hbInterval.String(), socketbase.SettingPingTimeout: hbTimeout.String()},
			Secrets: map[string]string{"jwt_secret": d.JWTSecret}},
		factory:  func(cfg connector.Config) (connector.Connector, error) { return socketbase.New(cfg) },
		info:     socketbase.Describe(),
		channels: d.Rooms,
		inject: func(ch, user, text string) error {
			return sim.Inject(d.Hash, ch, user, text)
		},
		detectBound: hbInterval + hbTimeout,
	}
}

// faultRounds is how many faults of each kind (drop, reset, outage, stall)
// every platform takes: FAULT_ROUNDS, default 1; `make reliability` raises
// it for p95 figures.
func faultRounds() int {
	if n, err := strconv.Atoi(os.Getenv("FAULT_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 1
}
