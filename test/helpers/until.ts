/**
 * Wait for a condition something else brings about (another process, a socket, a database row),
 * looked at again every `everyMs`: the test goes on as soon as it holds, and fails with `what`
 * only when it never does. Not a sleep: nothing here decides how long the work may take.
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition', everyMs = 5): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
