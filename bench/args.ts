// The side benchmarks' command-line options: `--name=number`.

/** The number given as `--name=N`, or `fallback`. */
export function numberArg (name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit === undefined ? fallback : Number(hit.slice(name.length + 3))
}
