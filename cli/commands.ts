// Every command of the tool, in the order --help lists them.
import { backup } from './backup'
import type { Command } from './command'
import { compact } from './compact'
import { del } from './del'
import { destroy } from './destroy'
import { dump } from './dump'
import { exportCommand } from './export'
import { get } from './get'
import { importCommand } from './import'
import { info } from './info'
import { put } from './put'
import { repair } from './repair'
import { scan } from './scan'
import { verify } from './verify'

export const COMMANDS: readonly Command[] = [info, get, put, del, scan, dump, verify, compact, backup, repair, destroy, exportCommand, importCommand]
