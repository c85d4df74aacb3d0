// Worker thread for the loopback TCP limit: accepts one connection on 127.0.0.1, counts
// and discards what arrives, and reports the total when the sender closes. Running in
// its own thread, it measures the loopback path rather than one event loop's turns.
import { createServer } from 'node:net';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('tcp-sink must run as a worker thread');
const server = createServer((socket) => {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  socket.on('end', () => {
    port.postMessage({ kind: 'done', bytes });
    socket.end();
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  port.postMessage({ kind: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
});
