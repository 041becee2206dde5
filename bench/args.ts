// The side benchmarks' command-line options: `--name=number` or `--name number`.

/** The number given as `--name=N` or `--name N`, or `fallback`. */
export function numberArg (name: string, fallback: number): number {
  const args = process.argv
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (at < 0) return fallback
  const value = args[at] === `--${name}` ? args[at + 1] : args[at].slice(name.length + 3)
  const n = Number(value)
  if (value === undefined || value === '' || !Number.isFinite(n)) throw new Error(`--${name}: give a number (--${name}=N or --${name} N)`)
  return n
}
