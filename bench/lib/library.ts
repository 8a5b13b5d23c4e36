/**
 * The kratos-kube entry points a benchmark client measures: the npm build
 * when `dist` (a `file:` URL of dist/) is given, as full runs do, else src/.
 *
 * @module
 */
type Root = typeof import("../../src/index.ts");
type Kube = typeof import("../../src/kube/index.ts");

/** The root (`kratos-kube`) and `kratos-kube/kube` modules, from `dist` or from src/. */
export async function loadLibrary(dist: string | undefined): Promise<{ root: Root; kube: Kube }> {
  if (dist === undefined) return { root: await import("../../src/index.ts"), kube: await import("../../src/kube/index.ts") };
  return { root: (await import(`${dist}/index.js`)) as Root, kube: (await import(`${dist}/kube/index.js`)) as Kube };
}
