import type http from "node:http";
export declare function createExampleApi(opts?: { onRequest?: (req: http.IncomingMessage) => void }): http.Server;
