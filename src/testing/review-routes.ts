/**
 * The self reviews a client asks about itself: SelfSubjectAccessReview
 * (`kubectl auth can-i`; JSON decoded and validated as the apiserver does,
 * protobuf as kubectl sends it) and SelfSubjectReview (`kubectl auth whoami`).
 * Anonymous callers may create neither (RBAC's 403).
 *
 * @module
 */
import { ANONYMOUS, authorize, type TokenGrant } from "./auth.ts";
import { readObject } from "./request-body.ts";
import { readSelfSubjectAccessReview, selfSubjectAccessReviewResponse } from "./ssar.ts";
import { checkSelfSubjectReview, selfSubjectReviewResponse } from "./ssr.ts";
import { badRequest, forbiddenReview, invalid, jsonResponse, statusResponse } from "./status.ts";

const SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const SSR_PATH = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

/** The paths answered here. */
export const REVIEW_PATHS: ReadonlySet<string> = new Set([SSAR_PATH, SSR_PATH]);

async function accessReview(req: Request, grant: TokenGrant | undefined): Promise<Response> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (!type.startsWith("application/vnd.kubernetes.protobuf")) {
    const obj = await readObject(req.clone(), "SelfSubjectAccessReview");
    if ((obj as { kind?: unknown }).kind === "Status" && "code" in obj) return statusResponse(obj as never);
    const spec = (obj as { spec?: { resourceAttributes?: unknown; nonResourceAttributes?: unknown } }).spec ?? {};
    if ((spec.resourceAttributes == null) === (spec.nonResourceAttributes == null)) {
      return statusResponse(invalid("", "authorization.k8s.io", "", [
        { type: "FieldValueInvalid", field: "spec.resourceAttributes", value: spec.resourceAttributes ?? null, detail: "exactly one of nonResourceAttributes or resourceAttributes must be specified" },
      ]));
    }
  }
  let a;
  try {
    a = await readSelfSubjectAccessReview(req);
  } catch (e) {
    return statusResponse(badRequest((e as Error).message));
  }
  // The fake's grants never deny explicitly: like RBAC, a refusal has no reason and no `denied`.
  return jsonResponse(201, selfSubjectAccessReviewResponse(a, { allowed: authorize(grant, { verb: a.verb, namespace: a.namespace || undefined, resource: a.resource || undefined }) }));
}

/** Answers a POST of a self review, or returns undefined for other requests. `now` stamps SelfSubjectReview. */
export async function routeReviews(req: Request, url: URL, method: string, grant: TokenGrant | undefined, user: string, now: string): Promise<Response | undefined> {
  if (method !== "POST" || !REVIEW_PATHS.has(url.pathname)) return undefined;
  const ssar = url.pathname === SSAR_PATH;
  if (grant?.user === ANONYMOUS) {
    return statusResponse(ssar ? forbiddenReview(ANONYMOUS, "selfsubjectaccessreviews", "authorization.k8s.io") : forbiddenReview(ANONYMOUS, "selfsubjectreviews", "authentication.k8s.io"));
  }
  if (ssar) return await accessReview(req, grant);
  const problem = await checkSelfSubjectReview(req);
  if (problem !== undefined) return statusResponse(badRequest(problem));
  return jsonResponse(201, selfSubjectReviewResponse(user, grant?.uid, now));
}
