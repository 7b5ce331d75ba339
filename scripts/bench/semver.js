// scripts/bench/semver.js: the peer side of the semver rows of `make bench`,
// node-semver (the copy bundled with npm; SEMVER=DIR to choose another).
//
//   node scripts/bench/semver.js filter < ours.tsv > pairs.tsv
//       keeps the "RANGE<TAB>VERSION" pairs node also accepts (commas in
//       ranges are AND for us, a blank for node); the count skipped goes
//       to stderr
//   node scripts/bench/semver.js bench pairs.tsv
//       prints "NAME<TAB>calls per second":
//         satisfies   semver.satisfies(version, range), both strings
//         range_test  range.test(version), range = new Range(r) beforehand
//
// Same method as semver.lua: loop over all pairs until BENCH_MIN_SECONDS
// (default 1) have passed, best of 3.
'use strict'

const fs = require('fs')
const semver = require(process.env.SEMVER)

const MIN_SECONDS = +(process.env.BENCH_MIN_SECONDS || 1)
const ROUNDS = 3
const nodeRange = (r) => r.replace(/,/g, ' ')

const readPairs = (text) => text.split('\n').filter((l) => l !== '').map((l) => {
  const tab = l.indexOf('\t')
  return [l.slice(0, tab), l.slice(tab + 1)]
})

// pass() makes n calls; see semver.lua.
const measure = (n, pass) => {
  let best = 0
  for (let k = 0; k < ROUNDS; k++) {
    let calls = 0
    const t0 = process.hrtime.bigint()
    let elapsed
    do {
      pass()
      calls += n
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9
    } while (elapsed < MIN_SECONDS)
    best = Math.max(best, calls / elapsed)
  }
  return best
}

const [mode, arg] = process.argv.slice(2)
if (mode === 'filter') {
  const pairs = readPairs(fs.readFileSync(0, 'utf8'))
  const kept = pairs.filter(([r, v]) => {
    try { new semver.Range(nodeRange(r)); new semver.SemVer(v); return true } catch (e) { return false }
  })
  process.stdout.write(kept.map((p) => p.join('\t')).join('\n') + '\n')
  process.stderr.write(`node: ${kept.length} pairs, ${pairs.length - kept.length} skipped (range or version refused)\n`)
} else if (mode === 'bench') {
  const pairs = readPairs(fs.readFileSync(arg, 'utf8'))
  const ranges = pairs.map(([r]) => nodeRange(r))
  const versions = pairs.map(([, v]) => v)
  const n = pairs.length
  let sink = 0
  const sat = measure(n, () => {
    for (let i = 0; i < n; i++) if (semver.satisfies(versions[i], ranges[i])) sink++
  })
  const parsed = ranges.map((r) => new semver.Range(r))
  const test = measure(n, () => {
    for (let i = 0; i < n; i++) if (parsed[i].test(versions[i])) sink++
  })
  process.stdout.write(`satisfies\t${sat.toFixed(0)}\nrange_test\t${test.toFixed(0)}\n`)
  if (sink < 0) console.log(sink)
} else {
  process.stderr.write('usage: semver.js filter < PAIRS | bench PAIRS\n')
  process.exit(2)
}
