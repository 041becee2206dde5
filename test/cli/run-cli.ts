// Runs the command-line tool as users do: a child process of `node dist/cli/main.js`, stdout and stderr
// captured (pipes: so no progress bar), and its exit status.
import { execFile } from 'node:child_process'
import fs = require('node:fs')
import os = require('node:os')
import path = require('node:path')

export const CLI = path.resolve(__dirname, '..', '..', 'cli', 'main.js')

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

export function runCli (args: string[], input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1
      resolve({ status, stdout, stderr })
    })
    if (input !== undefined) child.stdin!.end(input)
    else child.stdin!.end()
  })
}

/** The NDJSON lines of stdout, parsed. */
export function jsonLines (stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

export function tempDir (label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rough-cli-${label}-`))
}

export function removeDir (dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
}

/** Files in dir with the given extension, sorted by name. */
export function filesEnding (dir: string, ext: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f))
}

/** Bytes from an NDJSON field and its encoding, decoded here independently of the tool. */
export function fieldBytes (value: unknown, encoding: unknown): Buffer {
  if (encoding === 'utf8') return Buffer.from(value as string, 'utf8')
  if (encoding === 'base64') return Buffer.from(value as string, 'base64')
  if (encoding === 'hex') return Buffer.from(value as string, 'hex')
  throw new Error(`unexpected encoding ${String(encoding)}`)
}

/** True when the tool printed no stack trace (an error is one line). */
export function noStack (stderr: string): boolean {
  return !/\n\s+at /.test(stderr)
}
