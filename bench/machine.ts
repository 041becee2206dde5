// The machine a benchmark ran on, as its records print it.
import * as os from 'node:os'
import type { Machine } from './report'

export function loadAverage (): number[] {
  return os.loadavg().map((l) => Math.round(l * 100) / 100)
}

export function machine (): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    loadAverage: loadAverage()
  }
}
