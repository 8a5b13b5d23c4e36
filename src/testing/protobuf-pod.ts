/**
 * `PodSpec` and `PodStatus` in protobuf for the fake API server (field
 * numbers of `k8s.io/api/core/v1/generated.proto`): every field `makePod`
 * and the fake's kubelet set (volumes, containers with env, resources,
 * mounts and probes, tolerations, container statuses, …), so a protobuf Pod
 * is about as large as kube-apiserver's for the same object. Fields the fake
 * never sets are left out.
 *
 * @module
 */
import { arr, bool, int, map, msg, num, obj, optStr, str, time, timeValue, type J, type W } from "./protobuf-write.ts";

/** A `resource.Quantity` (`string` = 1). */
const quantity = (w: W, f: number, v: unknown): W => msg(w, f, (q) => str(q, 1, typeof v === "number" ? String(v) : v));
/** An `intstr.IntOrString` (`type` = 1, `intVal` = 2, `strVal` = 3). */
const intOrString = (w: W, f: number, v: unknown): W =>
  msg(w, f, (x) => {
    const isInt = typeof v === "number";
    num(num(x, 1, isInt ? 0 : 1), 2, isInt ? v : 0);
    str(x, 3, isInt ? "" : v);
  });
const fieldRef = (w: W, f: number, v: J): W => msg(w, f, (x) => str(str(x, 1, v["apiVersion"]), 2, v["fieldPath"]));
const resourceFieldRef = (w: W, f: number, v: J): W =>
  msg(w, f, (x) => {
    str(str(x, 1, v["containerName"]), 2, v["resource"]);
    if (v["divisor"] !== undefined) quantity(x, 3, v["divisor"]);
  });

function volume(w: W, v: J): void {
  str(w, 1, v["name"]);
  msg(w, 2, (src) => {
    const p = obj(v["projected"]);
    if (p === undefined) return;
    msg(src, 26, (x) => {
      for (const s of arr(p["sources"])) {
        const so = obj(s) ?? {};
        msg(x, 1, (y) => {
          const d = obj(so["downwardAPI"]);
          if (d) msg(y, 2, (z) => {
            for (const it of arr(d["items"])) {
              const i = obj(it) ?? {};
              msg(z, 1, (q) => {
                str(q, 1, i["path"]);
                const fr = obj(i["fieldRef"]);
                if (fr) fieldRef(q, 2, fr);
              });
            }
          });
          const c = obj(so["configMap"]);
          if (c) msg(y, 3, (z) => {
            msg(z, 1, (q) => str(q, 1, c["name"]));
            for (const it of arr(c["items"])) msg(z, 2, (q) => str(str(q, 1, obj(it)?.["key"]), 2, obj(it)?.["path"]));
          });
          const t = obj(so["serviceAccountToken"]);
          if (t) msg(y, 4, (z) => str(int(str(z, 1, t["audience"]), 2, t["expirationSeconds"]), 3, t["path"]));
        });
      }
      int(x, 2, p["defaultMode"]);
    });
  });
}

function probe(w: W, f: number, p: J): void {
  msg(w, f, (x) => {
    msg(x, 1, (h) => {
      const get = obj(p["httpGet"]);
      if (get) msg(h, 2, (y) => str(str(intOrString(str(y, 1, get["path"]), 2, get["port"]), 3, get["host"]), 4, get["scheme"]));
      const grpc = obj(p["grpc"]);
      if (grpc) msg(h, 4, (y) => optStr(num(y, 1, grpc["port"]), 2, grpc["service"]));
    });
    for (const [k, n] of [["initialDelaySeconds", 2], ["timeoutSeconds", 3], ["periodSeconds", 4], ["successThreshold", 5], ["failureThreshold", 6]] as const) num(x, n, p[k]);
  });
}

function container(w: W, c: J): void {
  str(w, 1, c["name"]);
  str(w, 2, c["image"]);
  for (const p of arr(c["ports"])) {
    const pt = obj(p) ?? {};
    msg(w, 6, (y) => str(num(num(str(y, 1, pt["name"]), 2, pt["hostPort"]), 3, pt["containerPort"]), 4, pt["protocol"]));
  }
  for (const e of arr(c["env"])) {
    const ev = obj(e) ?? {};
    msg(w, 7, (x) => {
      str(str(x, 1, ev["name"]), 2, ev["value"]);
      const from = obj(ev["valueFrom"]);
      if (from) msg(x, 3, (y) => {
        const fr = obj(from["fieldRef"]);
        if (fr) fieldRef(y, 1, fr);
        const rr = obj(from["resourceFieldRef"]);
        if (rr) resourceFieldRef(y, 2, rr);
      });
    });
  }
  const res = obj(c["resources"]) ?? {};
  msg(w, 8, (x) => map(map(x, 1, res["limits"], quantity), 2, res["requests"], quantity));
  for (const m of arr(c["volumeMounts"])) {
    const vm = obj(m) ?? {};
    msg(w, 9, (x) => str(optStr(str(str(bool(str(x, 1, vm["name"]), 2, vm["readOnly"] === true), 3, vm["mountPath"]), 4, vm["subPath"]), 5, vm["mountPropagation"]), 6, vm["subPathExpr"]));
  }
  const live = obj(c["livenessProbe"]);
  if (live) probe(w, 10, live);
  const ready = obj(c["readinessProbe"]);
  if (ready) probe(w, 11, ready);
  str(w, 13, c["terminationMessagePath"]);
  str(w, 14, c["imagePullPolicy"]);
  bool(bool(bool(w, 16, c["stdin"] === true), 17, c["stdinOnce"] === true), 18, c["tty"] === true);
  str(w, 20, c["terminationMessagePolicy"]);
}

/** `PodSpec`. */
export function podSpec(w: W, s: J): void {
  for (const v of arr(s["volumes"])) msg(w, 1, (x) => volume(x, obj(v) ?? {}));
  for (const c of arr(s["containers"])) msg(w, 2, (x) => container(x, obj(c) ?? {}));
  str(w, 3, s["restartPolicy"]);
  int(w, 4, s["terminationGracePeriodSeconds"]);
  str(w, 6, s["dnsPolicy"]);
  map(w, 7, s["nodeSelector"]);
  str(w, 8, s["serviceAccountName"]);
  str(w, 9, s["serviceAccount"]);
  str(w, 10, s["nodeName"]);
  bool(bool(bool(w, 11, s["hostNetwork"] === true), 12, s["hostPID"] === true), 13, s["hostIPC"] === true);
  if (s["securityContext"] !== undefined) msg(w, 14, () => {});
  str(str(w, 16, s["hostname"]), 17, s["subdomain"]);
  str(w, 19, s["schedulerName"]);
  for (const t of arr(s["tolerations"])) {
    const to = obj(t) ?? {};
    msg(w, 22, (x) => int(str(str(str(str(x, 1, to["key"]), 2, to["operator"]), 3, to["value"]), 4, to["effect"]), 5, to["tolerationSeconds"]));
  }
  str(w, 24, s["priorityClassName"]);
  int(w, 25, s["priority"]);
  bool(w, 30, s["enableServiceLinks"]);
  optStr(w, 31, s["preemptionPolicy"]);
}

function containerState(w: W, f: number, s: J): void {
  msg(w, f, (x) => {
    const waiting = obj(s["waiting"]);
    if (waiting) msg(x, 1, (y) => str(str(y, 1, waiting["reason"]), 2, waiting["message"]));
    const running = obj(s["running"]);
    if (running) msg(x, 2, (y) => timeValue(y, 1, running["startedAt"]));
    const done = obj(s["terminated"]);
    if (done) msg(x, 3, (y) => str(timeValue(timeValue(str(str(num(num(y, 1, done["exitCode"]), 2, done["signal"]), 3, done["reason"]), 4, done["message"]), 5, done["startedAt"]), 6, done["finishedAt"]), 7, done["containerID"]));
  });
}

/** `PodStatus`. */
export function podStatus(w: W, s: J): void {
  str(w, 1, s["phase"]);
  for (const c of arr(s["conditions"])) {
    const ct = obj(c) ?? {};
    msg(w, 2, (x) => {
      str(str(x, 1, ct["type"]), 2, ct["status"]);
      timeValue(x, 3, ct["lastProbeTime"]);
      timeValue(x, 4, ct["lastTransitionTime"]);
      str(str(x, 5, ct["reason"]), 6, ct["message"]);
    });
  }
  str(str(w, 3, s["message"]), 4, s["reason"]);
  str(w, 5, s["hostIP"]);
  str(w, 6, s["podIP"]);
  time(w, 7, s["startTime"]);
  for (const cs of arr(s["containerStatuses"])) {
    const c = obj(cs) ?? {};
    msg(w, 8, (x) => {
      str(x, 1, c["name"]);
      containerState(x, 2, obj(c["state"]) ?? {});
      containerState(x, 3, obj(c["lastState"]) ?? {});
      bool(x, 4, c["ready"] === true);
      num(x, 5, c["restartCount"]);
      str(str(str(x, 6, c["image"]), 7, c["imageID"]), 8, c["containerID"]);
      bool(x, 9, c["started"]);
    });
  }
  str(w, 9, s["qosClass"]);
  str(w, 11, s["nominatedNodeName"]);
  for (const ip of arr(s["podIPs"])) msg(w, 12, (x) => str(x, 1, obj(ip)?.["ip"]));
  for (const ip of arr(s["hostIPs"])) msg(w, 16, (x) => str(x, 1, obj(ip)?.["ip"]));
}
