package conformance

import (
	"testing"

	"modconsole/backend/connector"
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

// TestConformance runs the suite against every platform's connector and
// simulator, configured as demo.go configures them.
func TestConformance(t *testing.T) {
	for _, p := range []struct {
		name string
		h    Harness
	}{
		{"velora", veloraHarness},
		{"kichat", kichatHarness},
		{"glimesh", glimeshHarness},
		{"veroai", veroaiHarness},
		{"socketbase", socketbaseHarness},
	} {
		t.Run(p.name, func(t *testing.T) { Run(t, p.h) })
	}
}

// must returns v, failing t when err is not nil: must(t)(f()).
func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Velora: the moderator mod_alice (token) in "streamer"; "friend" as the
// second channel; a token-less guest is read-only.
var veloraHarness = Harness{New: func(t *testing.T) (connector.Connector, Fixture) {
	sim := velorasim.New(velorasim.Options{Logger: quiet, ViewerInterval: -1})
	url := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	c := must[*velora.Connector](t)(velora.New(connector.Config{AccountID: "conformance", Settings: map[string]string{"url": url}, Token: d.ModToken}))
	return c, Fixture{
		Channels: []string{d.Channel, d.OtherChannel},
		Inject: func(t *testing.T, ch, user, text string) {
			t.Helper()
			must[string](t)(sim.Inject(ch, user, text))
		},
		Drop: func(*testing.T) { sim.DropAll() },
		ReadOnly: func(t *testing.T) connector.Connector {
			return must[*velora.Connector](t)(velora.New(connector.Config{AccountID: "conformance-guest", Settings: map[string]string{"url": url}}))
		},
	}
}}

// Kichat: relay, channel info and Kick API all on the simulator; the Kick
// token as the "kick" secret; without it the connection is read-only.
var kichatHarness = Harness{New: func(t *testing.T) (connector.Connector, Fixture) {
	sim := kichatsim.New(kichatsim.Options{Logger: quiet})
	url := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{"url": url, "api_base": url, "kick_api": url}
	c := must[*kichat.Connector](t)(kichat.New(connector.Config{AccountID: "conformance", Settings: settings,
		Secrets: map[string]string{kichat.SecretKick: d.ModToken}}))
	return c, Fixture{
		Channels: []string{d.Channel, d.OtherChannel},
		Inject: func(t *testing.T, ch, user, text string) {
			t.Helper()
			must[string](t)(sim.Inject(ch, user, text))
		},
		Drop: func(*testing.T) { sim.DropAll() },
		ReadOnly: func(t *testing.T) connector.Connector {
			return must[*kichat.Connector](t)(kichat.New(connector.Config{AccountID: "conformance-guest", Settings: settings}))
		},
	}
}}

// Glimesh: nightmod's access token; a client_id alone is read-only.
var glimeshHarness = Harness{New: func(t *testing.T) (connector.Connector, Fixture) {
	sim := glimeshsim.New(glimeshsim.Options{Logger: quiet})
	url := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	c := must[*glimesh.Connector](t)(glimesh.New(connector.Config{AccountID: "conformance", Settings: map[string]string{"url": url}, Token: d.ModToken}))
	return c, Fixture{
		Channels: []string{d.Channel, d.OtherChannel},
		Inject: func(t *testing.T, ch, user, text string) {
			t.Helper()
			must[string](t)(sim.Inject(ch, user, text))
		},
		Drop: func(*testing.T) { sim.DropAll() },
		ReadOnly: func(t *testing.T) connector.Connector {
			return must[*glimesh.Connector](t)(glimesh.New(connector.Config{AccountID: "conformance-guest",
				Settings: map[string]string{"url": url, "client_id": d.ClientID}}))
		},
	}
}}

// VeroAI: the REST key of nightmod; conversations are the channels. There is
// no read-only mode (without a key the connector cannot connect at all).
var veroaiHarness = Harness{New: func(t *testing.T) (connector.Connector, Fixture) {
	sim := veroaisim.New(veroaisim.Options{Logger: quiet})
	base := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	c := must[*veroai.Connector](t)(veroai.New(connector.Config{AccountID: "conformance", Settings: map[string]string{"api_url": base + "/v1"}, Token: d.RESTKey}))
	return c, Fixture{
		Channels: d.Conversations[:2],
		Inject: func(t *testing.T, ch, user, text string) {
			t.Helper()
			must[string](t)(sim.Post(ch, user, text))
		},
		Drop: func(*testing.T) { sim.DropAll() },
	}
}}

// socket-base: JWTs minted from the project's jwt_secret; rooms are the
// channels. There is no read-only mode (without credentials Run fails
// permanently).
var socketbaseHarness = Harness{New: func(t *testing.T) (connector.Connector, Fixture) {
	sim := sbsim.New(sbsim.Options{Logger: quiet})
	url := must[string](t)(sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	d, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	c := must[*socketbase.Connector](t)(socketbase.New(connector.Config{AccountID: "conformance",
		Settings: map[string]string{"url": url, "hash": d.Hash, "sub": d.Sub},
		Secrets:  map[string]string{"jwt_secret": d.JWTSecret}}))
	return c, Fixture{
		Channels: d.Rooms,
		Inject: func(t *testing.T, ch, user, text string) {
			t.Helper()
			if err := sim.Inject(d.Hash, ch, user, text); err != nil {
				t.Fatal(err)
			}
		},
		Drop: func(*testing.T) { sim.DropAll() },
	}
}}
