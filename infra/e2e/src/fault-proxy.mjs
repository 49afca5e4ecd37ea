// A tiny controllable TCP proxy (node:net) put between the services and one real dependency
// (Postgres, Redis, NATS), so that an end-to-end test can break the network path on purpose:
//   cut()       every current connection is destroyed and new ones are refused (the listener is
//               closed, so connecting fails with ECONNREFUSED): the server died.
//   blackhole() connections stay open and new ones are accepted, but not one byte is forwarded in
//               either direction: a network partition, where every call hangs until a timeout.
//               Bytes already read are held (as TCP would retransmit them), not dropped, so a
//               connection that survives the partition is not corrupted mid-protocol.
//   restore()   back to forwarding (re-listening on the same port after a cut; held bytes and
//               connections accepted during a blackhole flow again).
import net from "node:net";

/**
 * @param {{ host?: string, port: number, name?: string }} target
 */
export async function startFaultProxy(target) {
  const host = target.host ?? "127.0.0.1";
  /** @type {"forward" | "cut" | "blackhole"} */
  let mode = "forward";
  /** @type {Set<Pair>} */
  const pairs = new Set();
  let port = 0;
  let server = null;

  /**
   * One client connection and its upstream connection. Data is moved by hand (no pipe()) so
   * that a blackhole can hold it.
   */
  class Pair {
    constructor(client) {
      this.client = client;
      this.upstream = null;
      /** @type {Buffer[]} */
      this.toUpstream = [];
      /** @type {Buffer[]} */
      this.toClient = [];
      this.closed = false;
      client.on("data", (d) => {
        this.toUpstream.push(d);
        this.flush();
      });
      client.on("error", () => this.destroy());
      client.on("close", () => this.destroy());
      if (mode === "forward") this.connect();
    }
    connect() {
      if (this.upstream || this.closed) return;
      const up = net.connect({ host, port: target.port });
      this.upstream = up;
      up.setNoDelay(true);
      up.on("connect", () => this.flush());
      up.on("data", (d) => {
        this.toClient.push(d);
        this.flush();
      });
      up.on("error", () => this.destroy());
      up.on("close", () => this.destroy());
    }
    flush() {
      if (mode !== "forward" || this.closed) return;
      if (!this.upstream) this.connect();
      const up = this.upstream;
      if (!up || up.connecting) return;
      while (this.toUpstream.length) up.write(this.toUpstream.shift());
      while (this.toClient.length) this.client.write(this.toClient.shift());
    }
    destroy() {
      if (this.closed) return;
      this.closed = true;
      pairs.delete(this);
      this.client.destroy();
      this.upstream?.destroy();
    }
  }

  function listen(onPort) {
    server = net.createServer((socket) => {
      socket.setNoDelay(true);
      if (mode === "cut") {
        socket.destroy();
        return;
      }
      pairs.add(new Pair(socket));
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(onPort, "127.0.0.1", () => {
        server.off("error", reject);
        resolve(server.address().port);
      });
    });
  }

  /** Stops accepting at once (close() only calls back once every connection is gone). */
  function closeListener() {
    const s = server;
    server = null;
    s?.close();
  }

  port = await listen(0);

  const proxy = {
    name: target.name ?? `${host}:${target.port}`,
    port,
    get mode() {
      return mode;
    },
    /** Open connections through the proxy right now. */
    get connections() {
      return pairs.size;
    },
    /** A URL of the dependency's scheme pointing at the proxy (e.g. `postgresql://postgres@127.0.0.1:<port>/postgres`). */
    url(realUrl) {
      const u = new URL(realUrl);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    async cut() {
      mode = "cut";
      closeListener();
      for (const p of [...pairs]) p.destroy();
    },
    blackhole() {
      mode = "blackhole";
    },
    async restore() {
      const wasCut = mode === "cut";
      mode = "forward";
      if (wasCut || !server) {
        // Re-listen on the same port (the services keep their configured URL). Retried briefly in
        // case the kernel has not released it yet.
        for (let i = 0; ; i++) {
          try {
            await listen(port);
            break;
          } catch (err) {
            if (i >= 20) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
      for (const p of [...pairs]) p.flush();
    },
    async close() {
      mode = "cut";
      closeListener();
      for (const p of [...pairs]) p.destroy();
    },
  };
  return proxy;
}
