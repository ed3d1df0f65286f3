// Count-only Velora client on the official Node socket.io-client, the
// baseline of P2 (docs/decisions/performance.md): it connects to namespace
// /chat as a guest over WebSocket, joins one channel, and does nothing with
// the newMessage events but count them.
//
// Usage: node count-client.js <base-url> <channel> <n>
//
// Stdout protocol (one line each):
//   READY                      the join was acknowledged; start the burst
//   DONE <n> <ms> <msgs/s>     n events counted; ms from the first to the last
// It exits after DONE, or with status 1 on a connection or join error.
"use strict";

const { io } = require("socket.io-client");

const [base, channel, nArg] = process.argv.slice(2);
const want = Number(nArg);
if (!base || !channel || !Number.isInteger(want) || want <= 0) {
  process.stderr.write("usage: node count-client.js <base-url> <channel> <n>\n");
  process.exit(2);
}

const socket = io(`${base}/chat`, { transports: ["websocket"], reconnection: false });

let count = 0;
let first = 0n;
socket.on("newMessage", () => {
  if (count === 0) first = process.hrtime.bigint();
  if (++count === want) {
    const ms = Number(process.hrtime.bigint() - first) / 1e6;
    const rate = ms > 0 ? (want / ms) * 1000 : 0;
    process.stdout.write(`DONE ${count} ${ms.toFixed(1)} ${rate.toFixed(0)}\n`, () => {
      socket.close();
      process.exit(0);
    });
  }
});

socket.on("connect", () => {
  socket.emit("joinChannel", { channelId: channel }, (ack) => {
    if (!ack || ack.ok !== true) {
      process.stderr.write(`join refused: ${JSON.stringify(ack)}\n`);
      process.exit(1);
    }
    process.stdout.write("READY\n");
  });
});

socket.on("connect_error", (err) => {
  process.stderr.write(`connect_error: ${err.message}\n`);
  process.exit(1);
});
