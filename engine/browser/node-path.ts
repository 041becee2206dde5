// node:path in the browser build (package.json `browser` maps 'path' here): the POSIX functions the
// engine uses on its file names. Paths are those of engine/fs/opfs-file-system.ts, rooted at '/', where
// there is no working directory: a relative path resolves from the root.

function normalize (p: string): string {
  const absolute = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!absolute) out.push('..')
    } else {
      out.push(part)
    }
  }
  const joined = out.join('/')
  return absolute ? '/' + joined : joined === '' ? '.' : joined
}

export function join (...parts: string[]): string {
  return normalize(parts.filter((p) => p !== '').join('/'))
}

export function resolve (...parts: string[]): string {
  let p = ''
  for (const part of parts) p = part.startsWith('/') ? part : p + '/' + part
  return normalize('/' + p)
}

export function basename (p: string): string {
  const trimmed = p.replace(/\/+$/, '')
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}

export function dirname (p: string): string {
  const trimmed = p.replace(/\/+$/, '')
  const at = trimmed.lastIndexOf('/')
  if (at < 0) return '.'
  return at === 0 ? '/' : trimmed.slice(0, at)
}

export const sep = '/'
