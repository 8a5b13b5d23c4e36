/**
 * A minimal HTTPS client for the real apiserver in tests: one request with a
 * bearer token and the apiserver's own CA, and kubeconfig files for other
 * clients (the library, kubectl, Go peers).
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";

/** An answer of {@link ApiClient.request}. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: any;
}

/** A request of {@link ApiClient.request}. */
export interface ApiRequest {
  method?: string;
  path: string;
  body?: unknown;
  /** Default `application/json` for a body, `application/merge-patch+json` for PATCH. */
  contentType?: string;
  accept?: string;
  /** Bearer token; default the admin's. `null` sends none. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** Where the apiserver is and who the admin is. */
export interface ApiTarget {
  readonly url: string;
  /** The serving certificate bundle to trust (read lazily: it appears when the apiserver starts). */
  readonly caPem: string;
  readonly adminToken: string;
  /** Folder for kubeconfig files. */
  readonly dir: string;
}

/** Requests and kubeconfigs for one apiserver. */
export interface ApiClient {
  /** One HTTPS request (admin by default). */
  request(req: ApiRequest): Promise<ApiAnswer>;
  /** Writes a kubeconfig for `token` (default the admin's) and returns its path. */
  kubeconfig(token?: string, namespace?: string): string;
}

/** A kubeconfig document for the apiserver. */
export function kubeconfigText(url: string, caPem: string, token: string, namespace: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: real",
    "  cluster:",
    `    server: ${url}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`,
    "users:",
    "- name: real",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: real",
    "  context:",
    "    cluster: real",
    "    user: real",
    `    namespace: ${namespace}`,
    "current-context: real",
    "",
  ].join("\n");
}

/** The client for `target`. */
export function createApiClient(target: ApiTarget): ApiClient {
  return {
    async request(req) {
      const method = req.method ?? (req.body === undefined ? "GET" : "POST");
      const headers: Record<string, string> = { ...req.headers };
      const tok = req.token === undefined ? target.adminToken : req.token;
      if (tok !== null) headers.authorization = `Bearer ${tok}`;
      headers.accept = req.accept ?? "application/json";
      let payload: Buffer | undefined;
      if (req.body !== undefined) {
        payload = Buffer.from(typeof req.body === "string" || req.body instanceof Uint8Array ? req.body : JSON.stringify(req.body));
        headers["content-type"] = req.contentType ?? (method === "PATCH" ? "application/merge-patch+json" : "application/json");
      }
      return await new Promise((resolve, reject) => {
        const r = httpsRequest(target.url + req.path, { method, headers, ca: target.caPem, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        });
        r.on("error", reject);
        r.end(payload);
      });
    },
    kubeconfig(token = target.adminToken, namespace = "default") {
      const path = join(target.dir, `kubeconfig-${process.pid}-${randomBytes(4).toString("hex")}.yaml`);
      writeFileSync(path, kubeconfigText(target.url, target.caPem, token, namespace), { mode: 0o600 });
      return path;
    },
  };
}
