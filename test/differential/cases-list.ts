/**
 * LIST cases: every resourceVersion / resourceVersionMatch / limit /
 * continue combination that changes the answer, selectors, and bad options.
 * Setup `THREE_PODS`: a, b, c created, then b relabelled (steps a, b, c, b2).
 */
import { create, THREE_PODS, type Case } from "./model.ts";

const L = "{pods}";

export const LIST_CASES: Case[] = [
  { id: "list/rv-unset", setup: THREE_PODS, request: { path: L } },
  { id: "list/rv-0", setup: THREE_PODS, request: { path: `${L}?resourceVersion=0` } },
  { id: "list/rv-exact-old", title: "Exact at an older revision: the state then", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:a}&resourceVersionMatch=Exact` } },
  { id: "list/rv-exact-latest", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:b2}&resourceVersionMatch=Exact` } },
  { id: "list/rv-not-older-than", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:a}&resourceVersionMatch=NotOlderThan` } },
  { id: "list/rv-legacy-no-match", title: "resourceVersion=N without match or limit: not older than N", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:a}` } },
  { id: "list/rv-legacy-with-limit", title: "resourceVersion=N with a limit and no match: exact", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:b}&limit=1` } },
  { id: "list/rv-0-limit", title: "resourceVersion=0 ignores the limit", setup: THREE_PODS, request: { path: `${L}?resourceVersion=0&limit=1` } },
  { id: "list/rv-0-exact", setup: THREE_PODS, request: { path: `${L}?resourceVersion=0&resourceVersionMatch=Exact` } },
  { id: "list/rv-0-not-older-than", setup: THREE_PODS, request: { path: `${L}?resourceVersion=0&resourceVersionMatch=NotOlderThan` } },
  { id: "list/match-without-rv", setup: THREE_PODS, request: { path: `${L}?resourceVersionMatch=Exact` } },
  { id: "list/match-unknown", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:a}&resourceVersionMatch=Newest` } },
  { id: "list/rv-garbled", setup: THREE_PODS, request: { path: `${L}?resourceVersion=abc` } },
  { id: "list/rv-future-not-older-than", title: "a future revision: 504 after the cache's 3 s wait", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:b2+1000000}&resourceVersionMatch=NotOlderThan` } },
  { id: "list/rv-future-exact", setup: THREE_PODS, request: { path: `${L}?resourceVersion={rv:b2+1000000}&resourceVersionMatch=Exact` } },
  { id: "list/rv-exact-compacted", title: "Exact at a compacted revision: 410", setup: THREE_PODS, history: "compacted", request: { path: `${L}?resourceVersion={rv:a}&resourceVersionMatch=Exact` } },
  { id: "list/limit-1", setup: THREE_PODS, request: { path: `${L}?limit=1` } },
  { id: "list/limit-2-selector", title: "no remainingItemCount with a selector", setup: THREE_PODS, request: { path: `${L}?limit=1&labelSelector=tier%3Dback` } },
  { id: "list/limit-all", setup: THREE_PODS, request: { path: `${L}?limit=3` } },
  { id: "list/limit-negative", setup: THREE_PODS, request: { path: `${L}?limit=-1` } },
  { id: "list/limit-garbled", setup: THREE_PODS, request: { path: `${L}?limit=ten` } },
  {
    id: "list/continue",
    title: "the second page, from the first page's snapshot",
    setup: [...THREE_PODS, { name: "p1", path: `${L}?limit=1` }, create("d")],
    request: { path: `${L}?limit=1&continue={continue:p1}` },
  },
  {
    id: "list/continue-last-page",
    setup: [...THREE_PODS, { name: "p1", path: `${L}?limit=2` }],
    request: { path: `${L}?limit=2&continue={continue:p1}` },
  },
  { id: "list/continue-garbled", setup: THREE_PODS, request: { path: `${L}?limit=1&continue=bm90LWEtdG9rZW4` } },
  {
    id: "list/continue-with-rv",
    setup: [...THREE_PODS, { name: "p1", path: `${L}?limit=1` }],
    request: { path: `${L}?limit=1&continue={continue:p1}&resourceVersion={rv:a}` },
  },
  {
    id: "list/continue-with-rv-0",
    setup: [...THREE_PODS, { name: "p1", path: `${L}?limit=1` }],
    request: { path: `${L}?limit=1&continue={continue:p1}&resourceVersion=0` },
  },
  {
    id: "list/continue-with-match",
    setup: [...THREE_PODS, { name: "p1", path: `${L}?limit=1` }],
    request: { path: `${L}?limit=1&continue={continue:p1}&resourceVersion={rv:a}&resourceVersionMatch=Exact` },
  },
  {
    id: "list/continue-expired",
    title: "a continue token whose revision was compacted: 410 and an inconsistent token",
    setup: [...THREE_PODS, { name: "p1", path: `${L}?limit=1` }, create("d")],
    history: "compacted",
    request: { path: `${L}?limit=1&continue={continue:p1}` },
  },
  { id: "list/label-selector", setup: THREE_PODS, request: { path: `${L}?labelSelector=tier%20in%20(back),touched` } },
  { id: "list/label-selector-notin", setup: THREE_PODS, request: { path: `${L}?labelSelector=touched%20notin%20(yes)` } },
  { id: "list/label-selector-bad", setup: THREE_PODS, request: { path: `${L}?labelSelector=tier%3D%3D%3Dx` } },
  { id: "list/label-selector-bad-value", setup: THREE_PODS, request: { path: `${L}?labelSelector=tier%3D-bad-` } },
  { id: "list/field-selector-name", setup: THREE_PODS, request: { path: `${L}?fieldSelector=metadata.name%3Dc` } },
  { id: "list/field-selector-node", setup: THREE_PODS, request: { path: `${L}?fieldSelector=spec.nodeName!%3Dother,status.phase%3DPending` } },
  { id: "list/field-selector-unknown", setup: THREE_PODS, request: { path: `${L}?fieldSelector=spec.image%3Dx` } },
  { id: "list/field-selector-bad", setup: THREE_PODS, request: { path: `${L}?fieldSelector=metadata.name` } },
  { id: "list/send-initial-events", setup: THREE_PODS, request: { path: `${L}?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0` } },
  { id: "list/all-namespaces-limit", setup: THREE_PODS, request: { path: "/api/v1/pods?labelSelector=diff-ns%3D{ns}&limit=1" } },
  { id: "list/all-namespaces-selector", setup: THREE_PODS, request: { path: "/api/v1/pods?labelSelector=diff-ns%3D{ns}" } },
];
