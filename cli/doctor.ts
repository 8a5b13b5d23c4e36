/** `kratos-kube doctor`: not written yet. */
export async function run(_argv: string[]): Promise<number> {
  console.error("kratos-kube doctor: not implemented yet");
  return 1;
}
