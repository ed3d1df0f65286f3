package phoenix

import (
	"encoding/json"
	"errors"
	"testing"

	"modconsole/backend/golden"
)

// goldenResult is what a golden file's expected part holds: the decoded frame,
// and for replies the decoded reply and, on the control topic, the Absinthe
// interpretation (DecodeDocReply).
type goldenResult struct {
	Error   string     `json:"error,omitempty"`
	Frame   *Frame     `json:"frame,omitempty"`
	Reply   *Reply     `json:"reply,omitempty"`
	Doc     *DocResult `json:"doc,omitempty"`
	DocErr  string     `json:"docError,omitempty"`
	Sub     string     `json:"subscriptionData,omitempty"`
	Encoded string     `json:"reencoded,omitempty"`
}

func decodeGolden(in []byte) []byte {
	var g goldenResult
	f, err := DecodeFrame(in)
	if err != nil {
		g.Error = err.Error()
	} else {
		g.Frame = &f
		b, _ := f.Encode()
		g.Encoded = string(b)
		switch f.Event {
		case EventReply:
			r, err := DecodeReply(f.Payload)
			if err != nil {
				g.Error = err.Error()
				break
			}
			g.Reply = &r
			if f.Topic == ControlTopic {
				d, err := DecodeDocReply(r)
				if err != nil {
					g.DocErr = err.Error()
				} else {
					g.Doc = &d
				}
			}
		case EventSubscriptionData:
			d, err := DecodeSubscriptionData(f.Payload)
			if err != nil {
				g.Error = err.Error()
			} else {
				g.Sub = d.SubscriptionID + " " + string(d.Result.Data)
			}
		}
	}
	out, _ := json.MarshalIndent(g, "", "  ")
	return out
}

func TestFrameGolden(t *testing.T) {
	golden.Run(t, "testdata/frames", func(t *testing.T, in []byte) []byte { return decodeGolden(in) })
}

func TestEncodeFrame(t *testing.T) {
	cases := []struct {
		f    Frame
		want string
	}{
		{Frame{JoinRef: "1", Ref: "1", Topic: ControlTopic, Event: EventJoin}, `["1","1","__absinthe__:control","phx_join",{}]`},
		{Frame{Ref: "5", Topic: TopicPhoenix, Event: EventHeartbeat}, `[null,"5","phoenix","heartbeat",{}]`},
		{Frame{JoinRef: "1", Ref: "7", Topic: ControlTopic, Event: EventDoc, Payload: json.RawMessage(`{"query":"q","variables":{}}`)},
			`["1","7","__absinthe__:control","doc",{"query":"q","variables":{}}]`},
	}
	for _, c := range cases {
		b, err := c.f.Encode()
		if err != nil || string(b) != c.want {
			t.Errorf("Encode(%+v) = %s, %v; want %s", c.f, b, err, c.want)
		}
	}
}

func TestReplyErrorIsUnmatchedTopic(t *testing.T) {
	if !errors.Is(&ReplyError{Reason: "unmatched topic"}, ErrUnmatchedTopic) {
		t.Fatal("unmatched topic reply does not match ErrUnmatchedTopic")
	}
	if errors.Is(&ReplyError{Reason: "join crashed"}, ErrUnmatchedTopic) {
		t.Fatal("other reasons must not match")
	}
}

// FuzzDecodeFrame: the frame and reply decoders never panic, and a decoded
// frame re-encodes to a frame that decodes to the same thing.
func FuzzDecodeFrame(f *testing.F) {
	files := golden.Files(f, "testdata/frames")
	for _, file := range files {
		in, _ := golden.Read(f, file)
		f.Add(in)
	}
	f.Add([]byte(`[null,null,"t","e",{"result":null,"subscriptionId":1}]`))
	f.Add([]byte(`[1e400,"x","t","e",{}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if fr.Topic == "" || fr.Event == "" {
			t.Fatalf("accepted frame without topic or event: %+v", fr)
		}
		enc, err := fr.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := DecodeFrame(enc)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if again.JoinRef != fr.JoinRef || again.Ref != fr.Ref || again.Topic != fr.Topic || again.Event != fr.Event {
			t.Fatalf("round trip changed %+v to %+v", fr, again)
		}
		if r, err := DecodeReply(fr.Payload); err == nil {
			_, _ = DecodeDocReply(r)
		}
		_, _ = DecodeSubscriptionData(fr.Payload)
	})
}
