/** `kratos-kube demo`: not written yet. */
export async function run(_argv: string[]): Promise<number> {
  console.error("kratos-kube demo: not implemented yet");
  return 1;
}
