// Velora-like Socket.IO server for the Go interop tests of
// backend/connector/socketio. It listens on 127.0.0.1:0, prints
// "LISTENING <port>" on stdout, and exits when stdin closes.
//
// Env: PING_INTERVAL_MS, PING_TIMEOUT_MS (engine.io heartbeat).
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: Number(process.env.PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS || 20000),
});

// Velora's rule: auth payload, then Authorization: Bearer, then ?token=;
// the first one present wins.
function tokenOf(handshake) {
  if (handshake.auth && typeof handshake.auth.token === "string" && handshake.auth.token !== "") {
    return { token: handshake.auth.token, via: "auth" };
  }
  const authz = handshake.headers.authorization || "";
  if (authz.startsWith("Bearer ") && authz.length > 7) {
    return { token: authz.slice(7), via: "header" };
  }
  if (typeof handshake.query.token === "string" && handshake.query.token !== "") {
    return { token: handshake.query.token, via: "query" };
  }
  return { token: "", via: "none" };
}

// Root namespace: accepted, then dropped after 1 s ("nothing is listening").
io.of("/").on("connection", (socket) => {
  setTimeout(() => socket.disconnect(), 1000);
});

const chat = io.of("/chat");

chat.use((socket, next) => {
  const { token } = tokenOf(socket.handshake);
  if (token === "" || token === "good") {
    return next();
  }
  if (token === "expired") {
    const err = new Error("invalid_token");
    err.data = { code: 401, hint: "token expired" };
    return next(err);
  }
  return next(new Error("unauthorized"));
});

chat.on("connection", (socket) => {
  const { token, via } = tokenOf(socket.handshake);
  const guest = token === "";
  socket.emit("hello", { guest, via });

  socket.on("joinChannel", (payload, ack) => {
    const channelId = payload && payload.channelId;
    socket.join(String(channelId));
    if (typeof ack === "function") ack({ ok: true, channelId });
  });

  socket.on("burst", (payload) => {
    const n = (payload && payload.n) || 0;
    for (let seq = 0; seq < n; seq++) {
      socket.emit("newMessage", { seq, content: "message body for the ordering test" });
    }
  });

  // Server -> client ack: ask the client, then report its answer (the ack
  // arguments as an array) in an "answer" event.
  socket.on("ask", () => {
    socket.timeout(5000).emit("serverQuestion", { q: "ping?" }, (err, ...args) => {
      socket.emit("answer", err ? { error: err.message } : args);
    });
  });

  socket.on("never", () => {}); // requests an ack that never comes

  socket.on("dropTransport", () => socket.conn.close());
  socket.on("kick", () => socket.disconnect());
});

httpServer.listen(0, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

process.stdin.resume();
process.stdin.on("end", () => {
  io.close();
  process.exit(0);
});
