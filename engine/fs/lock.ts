// The database LOCK: one rough-level handle per database directory on a host.
//
// LevelDB creates <db>/LOCK (empty, never deleted) and holds fcntl(F_SETLK, F_WRLCK) on it until close
// (LevelDB util/env_posix.cc; docs/format.md, "LOCK"). Node has no fcntl, so rough-level keeps LevelDB's file
// and excludes its own handles another way: while a database is open, its handle listens on a Unix-domain
// socket whose name is a hash of the directory's real path. Only one listener can own a name, so a second
// handle (same thread, another worker thread, a cluster worker, another process) fails with EADDRINUSE and
// the open fails with LEVEL_LOCKED, "IO error: lock <db>/LOCK: already held by process". The kernel closes the
// socket when its process dies, so a crash never leaves a database locked.
//
// Where the name lives:
// - Linux: the abstract namespace ('\0rough-level-<hash>'): no file, nothing to clean up.
// - Windows: a named pipe (\\.\pipe\rough-level-<hash>); it too disappears with its process (not tested here).
// - Elsewhere (macOS, BSD): a socket file in os.tmpdir(). A file outlives a crashed process, so EADDRINUSE
//   is followed by a connect: refused means stale, and the file is unlinked and the listen retried once.
// The name is a protocol between rough-level versions: changing it lets two versions open one database.
//
// What it cannot do:
// - Stop a native LevelDB (classic-level, leveldown) that opens the database after us: it only looks at its
//   fcntl lock, which we cannot take. On Linux we do see a native holder that is already there, through its
//   lock on LOCK's inode in /proc/locks, and refuse to open. /proc/locks hides processes outside our pid
//   namespace (another container sharing the volume), and it is not read on other systems.
// - Exclude across hosts or containers: the abstract namespace belongs to a network namespace, and the real
//   path is the one this mount namespace sees (a bind mount of the same directory at another path is a
//   different name). Not for network file systems, where LevelDB's own fcntl lock is unreliable too.
// - On the socket-file path: two processes that find the same stale file at the same instant may both
//   unlink and listen, and both open. os.tmpdir() is per user on macOS, and a tmp cleaner that deletes the
//   file of a live holder lets a second handle in.
//
// Why not a PID file (LOCK holding the owner's pid): PIDs are reused, so a crashed owner's pid can name a live
// unrelated process; checking liveness is racy; and LOCK always exists, since LevelDB never deletes it.
//
// No process-wide registry is kept: the socket name already excludes a second handle in this process.
//
// A read-only open (engine/db/read-only.ts) takes none of this: no socket, no /proc/locks check, no LOCK
// created or opened. It neither waits for nor blocks a writer, rough-level or native.
import crypto = require('node:crypto')
import net = require('node:net')
import os = require('node:os')
import path = require('node:path')
import nodeFs = require('node:fs')
import type { FileSystem } from './file-system'
// Loaded with this module rather than by the first open: net's first listen() requires node:cluster (and with
// it child_process), 8-14 ms of compiling on the main thread measured here, inside the open's first stretch.
import 'node:cluster'
import { fromFsError, locked } from '../errors'

/** Held from acquireLock until release(). */
export interface DbLock {
  /** Gives the lock up; later calls return the same promise. The LOCK file stays, as LevelDB leaves it. */
  release (): Promise<void>
}

export interface LockOptions {
  /**
   * Put the socket as a file in this directory instead of the platform's default place. For tests: on Linux
   * it exercises the socket-file path (stale-file recovery) that macOS and BSD use.
   */
  socketDir?: string
}

/**
 * Creates `${dir}/LOCK` if missing (empty) and takes the database's exclusion. `dir` must exist.
 * Rejects with LEVEL_LOCKED when another rough-level handle holds the database, or (Linux) when a native
 * LevelDB holds its fcntl lock on LOCK; with LEVEL_IO_ERROR when LOCK or the socket cannot be made.
 */
export async function acquireLock (dir: string, fs: FileSystem, options: LockOptions = {}): Promise<DbLock> {
  const lockFile = `${dir}/LOCK`
  let realDir: string
  try {
    // Never reopen an existing LOCK: closing any descriptor of a file drops every fcntl lock this process
    // holds on it, which would silently unlock a native LevelDB open in this same process.
    if (!fs.exists(lockFile)) fs.openWritable(lockFile).close()
    realDir = fs.realpath(dir)
  } catch (err) {
    throw fromFsError(lockFile, err)
  }

  const address = socketAddress(realDir, options.socketDir)
  const server = await listenExclusively(address, lockFile)
  const lock = new SocketLock(server)
  try {
    if (await heldByNativeLevelDB(dir, lockFile)) {
      throw locked(`${lockFile}: held by another process (a native LevelDB?)`)
    }
  } catch (err) {
    await lock.release()
    throw fromFsError(`${lockFile}: checking /proc/locks`, err)
  }
  return lock
}

class SocketLock implements DbLock {
  readonly #server: net.Server
  #released: Promise<void> | undefined

  constructor (server: net.Server) {
    this.#server = server
  }

  release (): Promise<void> {
    // On the socket-file path libuv unlinks the file when the server closes.
    this.#released ??= new Promise((resolve) => { this.#server.close(() => resolve()) })
    return this.#released
  }
}

interface SocketAddress {
  path: string
  /** A socket file, which can outlive its process (as opposed to an abstract name or a named pipe). */
  isFile: boolean
  /** For messages: abstract names start with NUL, shown as '@' as ss(8) does. */
  display: string
}

function socketAddress (realDir: string, socketDir: string | undefined): SocketAddress {
  // Windows paths compare without case; elsewhere the real path is taken as spelled.
  const key = process.platform === 'win32' ? realDir.toLowerCase() : realDir
  // 128 bits of sha256 keep the socket file's path well under macOS's 104-byte sun_path.
  const name = 'rough-level-' + crypto.createHash('sha256').update(key).digest('hex').slice(0, 32)
  if (socketDir !== undefined) {
    const p = path.join(socketDir, name)
    return { path: p, isFile: true, display: p }
  }
  if (process.platform === 'linux') return { path: '\0' + name, isFile: false, display: '@' + name }
  if (process.platform === 'win32') {
    const p = '\\\\.\\pipe\\' + name
    return { path: p, isFile: false, display: p }
  }
  const p = path.join(os.tmpdir(), name)
  return { path: p, isFile: true, display: p }
}

async function listenExclusively (address: SocketAddress, lockFile: string): Promise<net.Server> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listen(address.path)
    } catch (err) {
      if (errorCode(err) !== 'EADDRINUSE') {
        throw fromFsError(`${lockFile}: cannot listen on ${address.display}`, err)
      }
      if (!address.isFile || attempt > 0 || await isLive(address, lockFile)) {
        throw locked(`${lockFile}: already held by process`)
      }
      // A stale socket file from a process that died. It is not database I/O, so node:fs is used directly.
      try {
        nodeFs.unlinkSync(address.path)
      } catch (unlinkErr) {
        if (errorCode(unlinkErr) !== 'ENOENT') {
          throw fromFsError(`${lockFile}: removing stale ${address.display}`, unlinkErr)
        }
      }
    }
  }
}

function listen (socketPath: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    // Anyone who connects is a stale-file probe: it only needs to see that we are alive.
    const server = net.createServer({ pauseOnConnect: true }, (socket) => { socket.destroy() })
    // A held lock must never keep the process alive (classic-level's env-cleanup test: exit without close).
    server.unref()
    server.once('error', reject)
    // exclusive: in a cluster worker, listen() otherwise asks the primary for the handle, and every worker
    // that asks for the same name shares it (checked on Node 20): the second worker would not be refused.
    server.listen({ path: socketPath, exclusive: true }, () => {
      server.removeListener('error', reject)
      // Later errors (accept failing under EMFILE) must not crash the process; the lock is still held.
      server.on('error', () => {})
      resolve(server)
    })
  })
}

/** Whether a process is listening on a socket file: connected means live; refused (or gone) means stale. */
function isLive (address: SocketAddress, lockFile: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: address.path })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', (err) => {
      socket.destroy()
      const code = errorCode(err)
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve(false)
      else reject(fromFsError(`${lockFile}: probing ${address.display}`, err))
    })
  })
}

// --- Native LevelDB detection (Linux) ---------------------------------------------------------------------
// /proc/locks, /proc/self and stat are read with node:fs directly: they are not database I/O, and a fault-
// injecting FileSystem has nothing to say about them.

/** One line of /proc/locks, e.g. `1: POSIX  ADVISORY  WRITE 12345 fd:01:1234567 0 EOF`. */
export interface ProcLock {
  /** POSIX (fcntl, what LevelDB takes), OFDLCK, FLOCK, LEASE, DELEG... */
  type: string
  /** A `->` line: a process blocked waiting for the lock above it, not a holder. */
  waiting: boolean
  /** -1 for open-file-description locks. */
  pid: number
  /** The file system's device (the superblock's, not always stat's st_dev) and the inode number. */
  major: number
  minor: number
  ino: bigint
}

/** Parses /proc/locks (device as hex MAJOR:MINOR, inode decimal); lines it cannot read are skipped. */
export function parseProcLocks (text: string): ProcLock[] {
  const locks: ProcLock[] = []
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/)
    let i = 1
    const waiting = fields[i] === '->'
    if (waiting) i++
    const type = fields[i]
    const pid = Number(fields[i + 3])
    const id = /^([0-9a-f]+):([0-9a-f]+):(\d+)$/i.exec(fields[i + 4] ?? '')
    if (type === undefined || id === null || !Number.isInteger(pid)) continue
    locks.push({
      type, waiting, pid, major: parseInt(id[1], 16), minor: parseInt(id[2], 16), ino: BigInt(id[3])
    })
  }
  return locks
}

export interface Device {
  major: number
  minor: number
}

/** Splits a Linux st_dev as glibc's makedev packs it (Node's stat on Linux builds it with makedev). */
export function splitDevice (dev: bigint): Device {
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & 0xffffff00n))
  }
}

const HOLDING_TYPES = new Set(['POSIX', 'OFDLCK', 'FLOCK'])

/**
 * Whether some process holds a lock on LOCK's inode. rough-level itself never takes one, so any holder
 * is foreign: LevelDB's fcntl lock, most likely, even when it is this very process that opened it.
 * Reads on the thread pool: a process's first read of /proc/locks takes 7-15 ms in the kernel here (later
 * ones 0.05 ms), too long for the main thread at every open (issue 11's event-loop budget).
 */
async function heldByNativeLevelDB (dir: string, lockFile: string): Promise<boolean> {
  if (process.platform !== 'linux') return false
  let text: string
  try {
    text = await nodeFs.promises.readFile('/proc/locks', 'latin1')
  } catch {
    return false
  }
  const st = await nodeFs.promises.stat(lockFile, { bigint: true })
  // /proc/locks names the device of the inode's superblock. stat agrees on plain file systems, not on
  // overlayfs over several file systems (checked: /proc/locks said 0:40, stat 0:41) nor, by the kernel's
  // code, on btrfs subvolumes; the device of the mount, from mountinfo, covers those.
  const devices = [splitDevice(st.dev)]
  const mount = await mountDevice(dir)
  if (mount !== undefined) devices.push(mount)
  return parseProcLocks(text).some((l) =>
    !l.waiting && HOLDING_TYPES.has(l.type) && l.ino === st.ino &&
    devices.some((d) => d.major === l.major && d.minor === l.minor))
}

/** The superblock device of the mount holding `dir`: /proc/self/fdinfo gives an fd's mnt_id, mountinfo its device. */
async function mountDevice (dir: string): Promise<Device | undefined> {
  let handle: nodeFs.promises.FileHandle | undefined
  try {
    // A descriptor of the directory, never of LOCK: closing it cannot drop anyone's fcntl lock on LOCK.
    handle = await nodeFs.promises.open(dir, 'r')
    const fdinfo = await nodeFs.promises.readFile(`/proc/self/fdinfo/${handle.fd}`, 'latin1')
    const mountId = /^mnt_id:\s*(\d+)\s*$/m.exec(fdinfo)?.[1]
    if (mountId === undefined) return undefined
    for (const line of (await nodeFs.promises.readFile('/proc/self/mountinfo', 'latin1')).split('\n')) {
      const fields = line.split(' ')
      const dev = /^(\d+):(\d+)$/.exec(fields[2] ?? '')
      if (fields[0] === mountId && dev !== null) return { major: Number(dev[1]), minor: Number(dev[2]) }
    }
    return undefined
  } catch {
    return undefined
  } finally {
    await handle?.close()
  }
}

function errorCode (err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined
  return typeof err.code === 'string' ? err.code : undefined
}
