// Velora-like chat gateway on the official Node socket.io server, for the
// connector-level interop test backend/connector/velora/node_interop_test.go.
// It listens on 127.0.0.1:0, prints "LISTENING <port>" on stdout, and exits
// when stdin closes.
//
// Socket.IO side (namespace /chat), payload shapes as in our Go simulator
// (backend/simulator/velora):
//   auth        token from the auth payload, then "Authorization: Bearer",
//               then ?token= (the first one present wins). "good" is accepted,
//               any other token gets next(new Error("unauthorized")) with no
//               data, no token is a guest.
//   joinChannel {channelId} (username or UUID) -> ack {ok:true, channelId:<uuid>};
//               names starting with "missing" -> ack {ok:false, error}.
//   sendMessage {channelId, message} -> commandResult {success, message, channelId}
//               to the sender; plain text also goes to the room as newMessage,
//               "/ban user reason" as userBanned, "/timeout user secs reason"
//               as userTimedOut. Guests get success:false.
//   heartbeat   acked with the channel members.
//
// HTTP control routes on the same server (test only; JSON answers):
//   GET  /control/state                 sockets seen: sid, auth method, joins, connected
//   GET  /control/auth                  every auth attempt: method, accepted
//   POST /control/say?channel=&text=&user=   one newMessage to a channel's room
//   POST /control/burst?channel=&n=&tag=     n newMessage events, ids <tag>-<seq>
//   POST /control/drop                  close every engine connection (transport loss)
//
// Env: PING_INTERVAL_MS, PING_TIMEOUT_MS (engine.io heartbeat).
"use strict";

const http = require("http");
const crypto = require("crypto");
const { Server } = require("socket.io");

const channels = new Map(); // lower-case username or uuid -> {id, name}
function channelOf(key) {
  if (typeof key !== "string" || key === "") return null;
  const k = key.toLowerCase();
  let ch = channels.get(k);
  if (!ch) {
    if (k.startsWith("missing")) return null;
    ch = { id: crypto.randomUUID(), name: key };
    channels.set(k, ch);
    channels.set(ch.id, ch);
  }
  return ch;
}

const bot = { id: "b7e1c0de-0000-4000-8000-000000000001", username: "modbot", displayName: "ModBot" };
const viewers = new Map();
function viewer(name) {
  let u = viewers.get(name);
  if (!u) {
    u = { id: crypto.randomUUID(), username: name, displayName: name };
    viewers.set(name, u);
  }
  return u;
}

let msgSeq = 0;
function message(ch, user, content, id) {
  return {
    id: id || `msg_${++msgSeq}`,
    channelId: ch.id,
    sender: { ...user },
    content,
    badges: [],
    channelRole: "viewer",
    isBot: false,
    platform: "velora",
    createdAt: new Date().toISOString(),
  };
}

function tokenOf(handshake) {
  if (handshake.auth && typeof handshake.auth.token === "string" && handshake.auth.token !== "") {
    return { token: handshake.auth.token, via: "payload" };
  }
  const authz = handshake.headers.authorization || "";
  if (authz.startsWith("Bearer ") && authz.length > 7) {
    return { token: authz.slice(7), via: "header" };
  }
  if (typeof handshake.query.token === "string" && handshake.query.token !== "") {
    return { token: handshake.query.token, via: "query" };
  }
  return { token: "", via: "guest" };
}

const authLog = []; // {via, accepted}
const sockets = []; // {sid, via, joins, channels, connected}

function send(res, code, body) {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function control(req, res) {
  const u = new URL(req.url, "http://127.0.0.1");
  const q = (k) => u.searchParams.get(k) || "";
  switch (`${req.method} ${u.pathname}`) {
    case "GET /control/state":
      return send(res, 200, { sockets });
    case "GET /control/auth":
      return send(res, 200, { attempts: authLog });
    case "POST /control/say": {
      const ch = channelOf(q("channel"));
      if (!ch) return send(res, 404, { error: "no channel" });
      const m = message(ch, viewer(q("user") || "viewer"), q("text"));
      chat.to(ch.id).emit("newMessage", m);
      return send(res, 200, { id: m.id });
    }
    case "POST /control/burst": {
      const ch = channelOf(q("channel"));
      const n = Number(q("n"));
      if (!ch || !Number.isInteger(n) || n < 0) return send(res, 400, { error: "bad channel or n" });
      const tag = q("tag") || "burst";
      const from = viewer("burster");
      for (let seq = 0; seq < n; seq++) {
        chat.to(ch.id).emit("newMessage", message(ch, from, `seq ${seq}`, `${tag}-${seq}`));
      }
      return send(res, 200, { sent: n });
    }
    case "POST /control/drop": {
      let n = 0;
      for (const s of chat.sockets.values()) {
        s.conn.close(); // engine-level close: the client sees a transport loss, not a kick
        n++;
      }
      return send(res, 200, { dropped: n });
    }
  }
  return send(res, 404, { error: "unknown control route" });
}

const httpServer = http.createServer(control); // socket.io takes /socket.io/ first
const io = new Server(httpServer, {
  pingInterval: Number(process.env.PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS || 20000),
});

// Nothing listens on the root namespace: accepted, then dropped.
io.of("/").on("connection", (socket) => setTimeout(() => socket.disconnect(), 1000));

const chat = io.of("/chat");

chat.use((socket, next) => {
  const { token, via } = tokenOf(socket.handshake);
  const accepted = token === "" || token === "good";
  authLog.push({ via, accepted });
  if (!accepted) return next(new Error("unauthorized")); // no err.data on purpose
  next();
});

chat.on("connection", (socket) => {
  const { token, via } = tokenOf(socket.handshake);
  const user = token === "" ? null : bot;
  const rec = { sid: socket.id, via, joins: 0, channels: [], connected: true };
  sockets.push(rec);
  socket.on("disconnect", () => {
    rec.connected = false;
  });

  socket.on("joinChannel", (payload, ack) => {
    rec.joins++;
    const ch = channelOf(payload && payload.channelId);
    if (!ch) {
      if (typeof ack === "function") ack({ ok: false, error: "channel not found" });
      return;
    }
    socket.join(ch.id);
    if (!rec.channels.includes(ch.name)) rec.channels.push(ch.name);
    if (typeof ack === "function") ack({ ok: true, channelId: ch.id });
  });

  socket.on("leaveChannel", (payload, ack) => {
    const ch = channelOf(payload && payload.channelId);
    if (ch) {
      socket.leave(ch.id);
      rec.channels = rec.channels.filter((n) => n !== ch.name);
    }
    if (typeof ack === "function") ack({ ok: !!ch, channelId: payload && payload.channelId });
  });

  socket.on("heartbeat", (...args) => {
    const ack = args[args.length - 1];
    const list = [...socket.rooms].filter((r) => r !== socket.id).map((id) => ({ channelId: id, members: [] }));
    if (typeof ack === "function") ack({ channels: list });
  });

  socket.on("sendMessage", (payload) => {
    const p = payload || {};
    const ch = channelOf(p.channelId);
    const result = (success, message) =>
      socket.emit("commandResult", { success, message, channelId: ch ? ch.id : p.channelId });
    if (!ch) return result(false, "Channel not found");
    if (!user) return result(false, "You must be logged in to chat (guest connections are read-only)");
    const text = typeof p.message === "string" ? p.message.trim() : "";
    if (text === "") return result(false, "Message cannot be empty");
    if (!text.startsWith("/")) {
      chat.to(ch.id).emit("newMessage", message(ch, user, text));
      return result(true, "Message sent");
    }
    const [cmd, target, ...rest] = text.slice(1).split(/\s+/);
    switch (cmd) {
      case "ban": {
        if (!target) return result(false, "Usage: /ban <username> [reason]");
        const reason = rest.join(" ");
        chat.to(ch.id).emit("userBanned", { channelId: ch.id, user: viewer(target), bannedBy: { ...user }, reason });
        return result(true, `${target} has been banned`);
      }
      case "timeout": {
        const secs = Number(rest[0]);
        if (!target || !Number.isInteger(secs) || secs <= 0) return result(false, "Usage: /timeout <username> <seconds> [reason]");
        const reason = rest.slice(1).join(" ");
        const expiresAt = new Date(Date.now() + secs * 1000).toISOString();
        chat.to(ch.id).emit("userTimedOut", {
          channelId: ch.id, user: viewer(target), moderator: { ...user }, reason, durationSeconds: secs, expiresAt,
        });
        return result(true, `${target} has been timed out for ${secs} seconds`);
      }
    }
    return result(false, `Unknown command: /${cmd}`);
  });
});

httpServer.listen(0, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

process.stdin.resume();
process.stdin.on("end", () => {
  io.close();
  process.exit(0);
});
