/**
 * valibot schemas for the documents kratos-kube reads from outside: kubeconfig
 * files (client-go `tools/clientcmd/api/v1` `Config`, `NamedCluster`,
 * `NamedAuthInfo`, `NamedContext`, `ExecConfig`) and the `ExecCredential` an
 * exec plugin prints (client-go `pkg/apis/clientauthentication/v1` and
 * `v1beta1`, `ExecCredentialStatus`).
 *
 * Each parser returns typed data or throws a {@link KubeConfigError} whose
 * message names where the document came from, the entry and the field path
 * (`clusters[0].cluster.server`), and what kind of value was found there
 * (`a number`), never the value itself: the field may hold a token or a key.
 *
 * @module
 */
import * as v from "valibot";
import { KubeConfigError } from "./errors.ts";

/** A string field; absent, `null` and `""` all mean "not set" (as client-go's zero value). */
const optStr = v.pipe(
  v.nullish(v.string()),
  v.transform((s): string | undefined => (s === null || s === "" ? undefined : s)),
);
const optBool = v.nullish(v.boolean());
const nullishList = v.nullish(v.array(v.unknown()));

const documentSchema = v.looseObject({
  clusters: nullishList,
  users: nullishList,
  contexts: nullishList,
  "current-context": v.optional(v.unknown()),
});

const namedSchema = v.looseObject({ name: v.pipe(v.string(), v.minLength(1)) });

const clusterSchema = v.looseObject({
  server: optStr,
  "certificate-authority": optStr,
  "certificate-authority-data": optStr,
  "insecure-skip-tls-verify": optBool,
  "tls-server-name": optStr,
  "proxy-url": optStr,
});

const execSchema = v.looseObject({
  apiVersion: optStr,
  command: optStr,
  args: v.nullish(v.array(v.string())),
  env: v.nullish(v.array(v.looseObject({ name: v.string(), value: v.string() }))),
  installHint: optStr,
  interactiveMode: optStr,
  provideClusterInfo: optBool,
});

const userSchema = v.looseObject({
  token: optStr,
  tokenFile: optStr,
  "client-certificate": optStr,
  "client-certificate-data": optStr,
  "client-key": optStr,
  "client-key-data": optStr,
  exec: v.nullish(execSchema),
  "auth-provider": v.optional(v.unknown()),
  username: v.optional(v.unknown()),
  password: v.optional(v.unknown()),
  as: v.optional(v.unknown()),
});

const contextSchema = v.looseObject({ cluster: optStr, user: optStr, namespace: optStr });

const execCredentialKindSchema = v.looseObject({ kind: v.literal("ExecCredential"), apiVersion: v.optional(v.unknown()) });

const execCredentialSchema = v.looseObject({
  status: v.looseObject({
    token: optStr,
    expirationTimestamp: optStr,
    clientCertificateData: optStr,
    clientKeyData: optStr,
  }),
});

/** A kubeconfig file's top level: the three named lists (entries unchecked) and `current-context`. */
export interface KubeconfigDocument {
  clusters: readonly unknown[];
  users: readonly unknown[];
  contexts: readonly unknown[];
  /** Set only when it is a non-empty string (anything else is ignored, as before). */
  currentContext: string | undefined;
}

/** `clusters[].cluster`. */
export interface KubeconfigCluster {
  server?: string | undefined;
  "certificate-authority"?: string | undefined;
  "certificate-authority-data"?: string | undefined;
  "insecure-skip-tls-verify"?: boolean | null | undefined;
  "tls-server-name"?: string | undefined;
  "proxy-url"?: string | undefined;
}

/** `users[].user.exec`. */
export interface KubeconfigExec {
  apiVersion?: string | undefined;
  command?: string | undefined;
  args?: readonly string[] | null | undefined;
  env?: readonly { name: string; value: string }[] | null | undefined;
  installHint?: string | undefined;
  interactiveMode?: string | undefined;
  provideClusterInfo?: boolean | null | undefined;
}

/** `users[].user`. The unsupported methods are kept only to be refused by name. */
export interface KubeconfigUser {
  token?: string | undefined;
  tokenFile?: string | undefined;
  "client-certificate"?: string | undefined;
  "client-certificate-data"?: string | undefined;
  "client-key"?: string | undefined;
  "client-key-data"?: string | undefined;
  exec?: KubeconfigExec | null | undefined;
  "auth-provider"?: unknown;
  username?: unknown;
  password?: unknown;
  as?: unknown;
}

/** `contexts[].context`. */
export interface KubeconfigContext {
  cluster?: string | undefined;
  user?: string | undefined;
  namespace?: string | undefined;
}

/** The decoded `status` of an ExecCredential. */
export interface ExecCredentialStatus {
  token?: string | undefined;
  expirationTimestamp?: string | undefined;
  clientCertificateData?: string | undefined;
  clientKeyData?: string | undefined;
}

/** Where a value sits, for messages: the document (`kubeconfig /home/me/.kube/config`), entry and path. */
export interface SchemaLocation {
  /** The document, e.g. `kubeconfig /home/me/.kube/config` or `exec credential plugin "aws"`. */
  where: string;
  /** The entry, e.g. `cluster "prod"`; omitted at the top level. */
  entry?: string | undefined;
  /** Path of the value inside the document, e.g. `clusters[0].cluster`. */
  path: string;
}

/** What kind of value `x` is, never its content. */
function kindOf(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "a list";
  switch (typeof x) {
    case "object":
      return "a mapping";
    case "string":
      return x === "" ? "an empty string" : "a string";
    case "number":
    case "bigint":
      return "a number";
    case "boolean":
      return "a boolean";
    default:
      return `a ${typeof x}`;
  }
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  boolean: "a boolean",
  array: "a list",
  loose_object: "a mapping",
  object: "a mapping",
  min_length: "a non-empty string",
};

/** `clusters` + [0, "cluster", "server"] → `clusters[0].cluster.server`. */
function joinPath(base: string, keys: readonly unknown[]): string {
  let out = base;
  for (const k of keys) {
    if (typeof k === "number") out += `[${k}]`;
    else if (typeof k === "string" && /^[A-Za-z_][\w-]*$/.test(k)) out += out === "" ? k : `.${k}`;
    else out += `[${JSON.stringify(String(k))}]`;
  }
  return out;
}

/** @internal Turns a valibot issue into a readable sentence. Never reads `issue.input` except for its kind. */
function describeIssue(issue: v.BaseIssue<unknown>, at: SchemaLocation): string {
  const path = joinPath(at.path, (issue.path ?? []).map((p) => p.key));
  const head = `${at.where}: ${at.entry !== undefined ? `${at.entry}: ` : ""}${path || "the document"}`;
  if (issue.input === undefined) return `${head} is missing`;
  // Literal expectations come from our own schema (e.g. "ExecCredential"), never from the input.
  const expected = issue.type === "literal" ? issue.expected ?? "another value" : EXPECTED[issue.type] ?? issue.type;
  return `${head} must be ${expected} (got ${kindOf(issue.input)})`;
}

function check<S extends v.GenericSchema>(schema: S, input: unknown, at: SchemaLocation): v.InferOutput<S> {
  const r = v.safeParse(schema, input, { abortEarly: true });
  if (r.success) return r.output;
  // No `cause`: a valibot issue carries the offending input, which may be a secret.
  throw new KubeConfigError(describeIssue(r.issues[0], at));
}

/** Checks a kubeconfig file's top level. `undefined`/`null` (an empty file) give empty lists. */
export function parseKubeconfigDocument(doc: unknown, where: string): KubeconfigDocument {
  if (doc === null || doc === undefined) return { clusters: [], users: [], contexts: [], currentContext: undefined };
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new KubeConfigError(`${where}: not a kubeconfig (expected a YAML mapping, got ${kindOf(doc)})`);
  }
  const d = check(documentSchema, doc, { where, path: "" });
  const cc = d["current-context"];
  return {
    clusters: d.clusters ?? [],
    users: d.users ?? [],
    contexts: d.contexts ?? [],
    currentContext: typeof cc === "string" && cc !== "" ? cc : undefined,
  };
}

/** The name of a list entry, or undefined when the entry is malformed (callers skip it). */
export function entryName(entry: unknown): string | undefined {
  const r = v.safeParse(namedSchema, entry);
  return r.success ? r.output.name : undefined;
}

/** Checks `clusters[i].cluster` (`value` may be absent: an empty cluster). */
export function parseCluster(value: unknown, at: SchemaLocation): KubeconfigCluster {
  return check(v.nullish(clusterSchema), value, at) ?? {};
}

/** Checks `users[i].user`, its `exec` included. */
export function parseUser(value: unknown, at: SchemaLocation): KubeconfigUser {
  return check(v.nullish(userSchema), value, at) ?? {};
}

/** Checks `contexts[i].context`. */
export function parseContext(value: unknown, at: SchemaLocation): KubeconfigContext {
  return check(v.nullish(contextSchema), value, at) ?? {};
}

/**
 * Checks an exec plugin's output: an object of `kind: ExecCredential`, of the
 * `apiVersion` that was asked for, with a `status` mapping. `name` names the
 * plugin in messages.
 */
export function parseExecCredential(value: unknown, name: string, apiVersion: string): ExecCredentialStatus {
  const head = v.safeParse(execCredentialKindSchema, value);
  if (!head.success) throw new KubeConfigError(`${name} printed JSON that is not an ExecCredential`);
  if (head.output.apiVersion !== apiVersion) {
    throw new KubeConfigError(
      `${name} answered with apiVersion ${JSON.stringify(head.output.apiVersion)}, but ${apiVersion} was asked for`,
    );
  }
  return check(execCredentialSchema, value, { where: name, path: "" }).status;
}
