// Whether a database reads synchronously. Its own module, free of Node's built-ins, so that the browser
// benchmark's worker bundle can use it too.
/** LevelDB's getSync and the abstract-level 3 manifest flag, which level-supports' IManifest does not declare. */
export function supportsGetSync (db: { readonly supports: object }): boolean {
  return (db.supports as { getSync?: unknown }).getSync === true
}
