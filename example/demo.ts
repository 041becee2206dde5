// `npm start`: a short demonstration of rough-level's main job on ./demo-db. Opens (creating) the
// database, writes, reads back, iterates, reopens to show the data survived, and prints what it did.
import fs = require('node:fs')
import path = require('node:path')
import { RoughLevel } from '../index'

async function main (): Promise<void> {
  const location = path.resolve(process.argv[2] ?? 'demo-db')
  fs.rmSync(location, { recursive: true, force: true })

  const db = new RoughLevel<string, string>(location)
  await db.open()
  console.log(`opened ${location}`)

  await db.put('greeting', 'hello')
  await db.batch([
    { type: 'put', key: 'fruit:apple', value: 'red' },
    { type: 'put', key: 'fruit:banana', value: 'yellow' },
    { type: 'put', key: 'fruit:cherry', value: 'dark red' },
    { type: 'del', key: 'greeting' }
  ])
  await db.put('fruit:banana', 'green', { sync: true })
  console.log('wrote 5 entries in a put, a batch and a synced put')

  console.log(`get fruit:banana -> ${await db.get('fruit:banana')}`)
  console.log(`getSync fruit:apple -> ${db.getSync('fruit:apple')}`)
  console.log(`has greeting -> ${await db.has('greeting')}`)

  const snapshot = db.snapshot()
  await db.put('fruit:apple', 'green')
  console.log(`after another write, the snapshot still reads fruit:apple -> ${await db.get('fruit:apple', { snapshot })}`)
  await snapshot.close()

  const fruit = db.sublevel('fruit')
  await fruit.put('date', 'brown')
  for await (const [key, value] of db.iterator({ gte: 'fruit:', lt: 'fruit;' })) console.log(`  ${key} = ${value}`)
  for await (const [key, value] of fruit.iterator({ reverse: true })) console.log(`  sublevel, reversed: ${key} = ${value}`)
  await db.close()

  const again = new RoughLevel<string, string>(location, { createIfMissing: false })
  const all = await again.iterator().all()
  console.log(`reopened: ${all.length} entries survived: ${all.map(([k]) => k).join(', ')}`)
  console.log(`files on disk (LevelDB's layout): ${fs.readdirSync(location).sort().join(' ')}`)
  await again.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
