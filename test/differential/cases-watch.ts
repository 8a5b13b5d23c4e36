/**
 * WATCH cases: from each kind of resourceVersion, streaming lists
 * (`sendInitialEvents`) with their end bookmark, periodic bookmarks before
 * the deadline, `timeoutSeconds`, selectors with their ADDED/DELETED
 * transitions, graceful deletion, in-stream 410 and bad options. Writes made
 * while the watch is open end with a sentinel pod `z`; the case stops
 * reading at its event (every earlier event has arrived by then).
 */
import { create, relabel, remove, running, THREE_PODS, type Case, type Step } from "./model.ts";

const W = "{pods}?watch=1";
const Z: Step = create("z", { labels: { tier: "back" } });
const sentinel = { pod: "z" } as const;
/** A write to each of a, b, c, then the sentinel. */
const CHANGES: Step[] = [relabel("a2", "a", { tier: "back" }), relabel("b3", "b", { tier: "front" }), remove("c2", "c", 30), Z];

export const WATCH_CASES: Case[] = [
  { id: "watch/rv-unset", title: "legacy watch without a resourceVersion: the current state first", setup: THREE_PODS, request: { path: W }, watch: { during: [Z], until: sentinel } },
  { id: "watch/rv-0", setup: THREE_PODS, request: { path: `${W}&resourceVersion=0` }, watch: { during: [Z], until: sentinel } },
  { id: "watch/rv-exact", title: "from an older revision: the events since", setup: THREE_PODS, request: { path: `${W}&resourceVersion={rv:a}` }, watch: { during: [Z], until: sentinel } },
  { id: "watch/rv-latest", setup: THREE_PODS, request: { path: `${W}&resourceVersion={rv:b2}` }, watch: { during: CHANGES, until: sentinel } },
  { id: "watch/rv-too-old", title: "a revision older than the watch cache: ERROR 410 in a 200 stream", setup: THREE_PODS, request: { path: `${W}&resourceVersion=1` }, history: "restarted", watch: { until: "end" } },
  { id: "watch/rv-future", title: "a future revision simply waits", setup: THREE_PODS, request: { path: `${W}&resourceVersion={rv:b2+1000000}&timeoutSeconds=1` }, watch: { during: [Z], until: "end" } },
  { id: "watch/rv-garbled", setup: THREE_PODS, request: { path: `${W}&resourceVersion=abc` }, watch: { until: "end" } },
  {
    id: "watch/initial-events-bookmark",
    title: "sendInitialEvents with bookmarks: the state, then the initial-events-end bookmark",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true` },
    watch: { until: "initial-events-end" },
  },
  {
    id: "watch/initial-events-rv-0",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0&allowWatchBookmarks=true` },
    watch: { until: "initial-events-end" },
  },
  {
    id: "watch/initial-events-rv-old",
    title: "sendInitialEvents from an older revision: the current state (not older than it)",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion={rv:a}&allowWatchBookmarks=true` },
    watch: { until: "initial-events-end" },
  },
  {
    id: "watch/initial-events-then-changes",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true` },
    watch: { during: CHANGES, until: sentinel },
  },
  {
    id: "watch/initial-events-no-bookmarks",
    title: "sendInitialEvents without allowWatchBookmarks: no end marker",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan` },
    watch: { during: [Z], until: sentinel },
  },
  {
    id: "watch/initial-events-false",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&resourceVersion={rv:a}` },
    watch: { during: [Z], until: sentinel },
  },
  {
    id: "watch/initial-events-future",
    title: "sendInitialEvents at a future revision: ERROR 504 after the cache's 3 s wait",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion={rv:b2+1000000}` },
    watch: { until: "end" },
  },
  { id: "watch/initial-events-without-match", setup: THREE_PODS, request: { path: `${W}&sendInitialEvents=true` }, watch: { until: "end" } },
  { id: "watch/match-without-initial-events", setup: THREE_PODS, request: { path: `${W}&resourceVersionMatch=NotOlderThan&resourceVersion=0` }, watch: { until: "end" } },
  { id: "watch/match-exact", setup: THREE_PODS, request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=Exact&resourceVersion=0` }, watch: { until: "end" } },
  { id: "watch/timeout", title: "timeoutSeconds ends the stream", setup: THREE_PODS, request: { path: `${W}&resourceVersion={rv:b2}&timeoutSeconds=1` }, watch: { until: "end" } },
  {
    id: "watch/bookmark-before-deadline",
    title: "with bookmarks, one goes out about 2 s before the deadline once the pods' resourceVersion moved",
    alone: true,
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:b2}&timeoutSeconds=4&allowWatchBookmarks=true&labelSelector=tier%3Dnone` },
    watch: { during: [relabel("a2", "a", { seen: "yes" })], until: "end", bookmarks: "compare" },
  },
  {
    id: "watch/no-bookmark-without-progress",
    title: "nothing changed since the watch started: no bookmark",
    alone: true,
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:b2}&timeoutSeconds=4&allowWatchBookmarks=true` },
    watch: { until: "end", bookmarks: "compare" },
  },
  {
    id: "watch/table",
    title: "a Table watch (kubectl get -w): column definitions in the first event only",
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:b2}`, accept: "application/json;as=Table;g=meta.k8s.io;v=v1" },
    watch: { during: [relabel("a2", "a", { seen: "yes" }), Z], until: sentinel },
  },
  {
    id: "watch/label-selector",
    title: "a selector turns label changes into ADDED and DELETED",
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:b2}&labelSelector=tier%3Dback` },
    watch: { during: CHANGES, until: sentinel },
  },
  {
    id: "watch/label-selector-initial",
    setup: THREE_PODS,
    request: { path: `${W}&labelSelector=tier%3Dback,touched` },
    watch: { during: [relabel("b3", "b", { touched: null }), Z, relabel("z2", "z", { touched: "yes" })], until: sentinel },
  },
  {
    id: "watch/field-selector",
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:b2}&fieldSelector=status.phase%3DRunning` },
    watch: { during: [running("a2", "a", "10.0.0.1"), Z, running("z2", "z", "10.0.0.2")], until: sentinel },
  },
  {
    id: "watch/field-selector-name",
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:a}&fieldSelector=metadata.name%3Db&timeoutSeconds=2` },
    watch: { during: [remove("b3", "b", 0)], until: "end" },
  },
  {
    id: "watch/graceful-delete",
    title: "graceful deletion is a MODIFIED, the final delete a DELETED",
    setup: THREE_PODS,
    request: { path: `${W}&resourceVersion={rv:b2}` },
    watch: { during: [remove("c2", "c", 30), remove("c3", "c", 0), Z], until: sentinel },
  },
  { id: "watch/legacy-path", setup: THREE_PODS, request: { path: "/api/v1/watch/namespaces/{ns}/pods?resourceVersion={rv:b2}" }, watch: { during: [Z], until: sentinel } },
  {
    id: "watch/legacy-path-name",
    title: "the legacy /watch/ path of one pod",
    setup: THREE_PODS,
    request: { path: "/api/v1/watch/namespaces/{ns}/pods/a?resourceVersion={rv:a}&timeoutSeconds=1" },
    watch: { during: [relabel("a2", "a", { seen: "yes" })], until: "end" },
  },
  { id: "watch/bad-label-selector", setup: THREE_PODS, request: { path: `${W}&labelSelector=a%20in%20b` }, watch: { until: "end" } },
  { id: "watch/bad-timeout", setup: THREE_PODS, request: { path: `${W}&timeoutSeconds=soon` }, watch: { until: "end" } },
  {
    id: "watch/odd-bookmarks-flag",
    title: "allowWatchBookmarks=maybe is true: the initial-events-end bookmark comes",
    setup: THREE_PODS,
    request: { path: `${W}&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=maybe` },
    watch: { until: "initial-events-end" },
  },
  { id: "watch/odd-watch-flag", title: "watch=maybe is a watch", setup: THREE_PODS, request: { path: "{pods}?watch=maybe&resourceVersion={rv:b2}&timeoutSeconds=1" }, watch: { until: "end" } },
  { id: "watch/empty-watch-flag", title: "watch= (empty) is a watch too", setup: THREE_PODS, request: { path: "{pods}?watch=&resourceVersion={rv:b2}&timeoutSeconds=1" }, watch: { until: "end" } },
  { id: "watch/false-watch-flag", setup: THREE_PODS, request: { path: "{pods}?watch=FALSE&limit=1" }, watch: { until: "end" } },
  { id: "watch/forbidden", setup: THREE_PODS, request: { path: W, who: "alice" }, watch: { until: "end" } },
];
