/** `kratos-kube instances`: not written yet. */
export async function run(_argv: string[]): Promise<number> {
  console.error("kratos-kube instances: not implemented yet");
  return 1;
}
