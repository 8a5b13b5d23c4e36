/** `kratos-kube fake-apiserver`: not written yet. */
export async function run(_argv: string[]): Promise<number> {
  console.error("kratos-kube fake-apiserver: not implemented yet");
  return 1;
}
