/** The `kopbot` program as a separate process, as a user or a supervisor runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KOPBOT_BIN = fileURLToPath(new URL('../../bin/kopbot.js', import.meta.url));

export interface KopbotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KopbotProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<KopbotExit>;
  /** Resolves once stderr contains text; rejects if the process exits first. */
  saysOnStderr(text: string): Promise<void>;
}

/** Start `kopbot ARGS` with the environment on top of this one; `input`, if any, is its standard input. */
export function spawnKopbot(args: readonly string[], env: Record<string, string | undefined>, input?: string): KopbotProcess {
  const child = spawn(process.execPath, [KOPBOT_BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  const exited = new Promise<KopbotExit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    saysOnStderr(text) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!stderr.includes(text)) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
        void exited.then((exit) => reject(new Error(`kopbot ${args.join(' ')} exited (${exit.code ?? exit.signal}) before saying "${text}": ${exit.stderr}`)));
      });
    },
  };
}

/** Run `kopbot ARGS` to its end. */
export function runKopbot(args: readonly string[], env: Record<string, string | undefined>, input?: string): Promise<KopbotExit> {
  return spawnKopbot(args, env, input).exited;
}

/** A TCP port nothing listens on right now (for a `kopbot start` of one's own). */
export async function unusedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
