/** `kratos-kube watch`: not written yet. */
export async function run(_argv: string[]): Promise<number> {
  console.error("kratos-kube watch: not implemented yet");
  return 1;
}
