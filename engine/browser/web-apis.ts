// The few browser APIs the browser build uses, typed here: the project compiles against Node's types only
// (tsconfig's lib has no "dom"), and these are the shapes Chromium implements (OPFS's sync access handles
// exist only in dedicated workers). Types only; nothing here runs.

export interface FileSystemSyncAccessHandle {
  read (buffer: Uint8Array, options?: { at?: number }): number
  write (buffer: Uint8Array, options?: { at?: number }): number
  truncate (size: number): void
  getSize (): number
  flush (): void
  close (): void
}

export interface FileSystemFileHandle {
  readonly kind: 'file'
  readonly name: string
  createSyncAccessHandle (): Promise<FileSystemSyncAccessHandle>
}

export interface FileSystemDirectoryHandle {
  readonly kind: 'directory'
  readonly name: string
  getDirectoryHandle (name: string, options?: { create?: boolean }): Promise<FileSystemDirectoryHandle>
  getFileHandle (name: string, options?: { create?: boolean }): Promise<FileSystemFileHandle>
  removeEntry (name: string, options?: { recursive?: boolean }): Promise<void>
  values (): AsyncIterable<FileSystemFileHandle | FileSystemDirectoryHandle>
}

export interface LockManager {
  request (name: string, options: { ifAvailable: boolean }, callback: (lock: object | null) => Promise<void> | void): Promise<unknown>
}

/** What the browser build reads of `navigator` (a worker's WorkerNavigator). */
export interface BrowserNavigator {
  storage?: { getDirectory (): Promise<FileSystemDirectoryHandle> }
  locks?: LockManager
}

export function browserNavigator (): BrowserNavigator | undefined {
  return (globalThis as { navigator?: BrowserNavigator }).navigator
}
