// tests/e2e/semver_diff/ref.js: node-semver's answers, the oracle.
//
//   SEMVER=/path/to/semver node ref.js DIR
//
// Reads DIR/ranges.tsv, pairs.tsv, xpairs.tsv, versions.txt, sortlist.txt
// (see gen.lua) and writes:
//   node_ranges.tsv    VALID_DEF<TAB>CANON_DEF<TAB>VALID_INC<TAB>CANON_INC
//                      (CANON mapped to our spelling: "" -> "*", "||" -> " || ")
//   node_sat.txt       one line per pair: two characters, default and
//                      includePrerelease, each 1, 0 or E (invalid range or
//                      version), or XX (excluded: identifiers >= 2^53)
//   node_x.txt         one line per xpair: two characters (1, 0, or - when a
//                      range is invalid)
//   node_versions.tsv  VALID<TAB>FORMAT (node's .version)<TAB>FIELDS
//                      (major,minor,patch|prerelease ids|build ids)
//   maxmin_in.txt      per range, its valid and safe versions, tab-separated
//   node_maxmin.tsv    MAX_DEF<TAB>MIN_DEF<TAB>MAX_INC<TAB>MIN_INC ("" none,
//                      "-" invalid range)
//   sort_in.txt        the versions of sortlist.txt that node accepts and whose
//                      numeric identifiers are below 2^53
//   node_compare.txt   semver.compare() of each adjacent pair of sort_in.txt
'use strict'

const fs = require('fs')
const path = require('path')
const semver = require(process.env.SEMVER)
const { Range, SemVer } = semver

const dir = process.argv[2]
const mode = process.argv[3] || 'all'
const lines = (name) => {
  const s = fs.readFileSync(path.join(dir, name), 'utf8')
  const t = s.split('\n')
  if (t.length && t[t.length - 1] === '') t.pop()
  return t
}
const write = (name, t) => fs.writeFileSync(path.join(dir, name), t.length ? t.join('\n') + '\n' : '')

const OPTS = [{}, { includePrerelease: true }]

// "node ref.js DIR sortcheck NAME...": for each of our sorted outputs NAME,
// node's compareBuild of each adjacent pair (-1, 0, 1, or E) into
// NAME.node. Adjacent pairs, because node's compareBuild is not transitive
// (it stops at the first pair of build identifiers that differ as text
// but compare equal as numbers: 1.0.0+001 ties 1.0.0+1.2, which is above
// 1.0.0+1 that ties 1.0.0+001), so sorts may legitimately differ.
if (mode === 'sortcheck') {
  for (const name of process.argv.slice(4)) {
    let t = []
    try { t = lines(name) } catch (e) { continue }
    write(name + '.node', t.slice(1).map((b, i) => {
      try { return String(semver.compareBuild(t[i], b)) } catch (e) { return 'E' }
    }))
  }
  process.exit(0)
}

const canon = (r) => {
  const s = r.set.map((comps) => comps.map((c) => c.toString().trim()).join(' ')).join(' || ')
  return s === '' ? '*' : s
}

// Ranges under both option values.
const ranges = lines('ranges.tsv').map((l) => l.split('\t')[3])
const parsed = ranges.map((s) => OPTS.map((o) => {
  try { return new Range(s, o) } catch (e) { return null }
}))
write('node_ranges.tsv', parsed.map((p) => p.map((r) => r ? '1\t' + canon(r) : '0\t').join('\t')))

// Versions. Numeric identifiers of 2^53 or more are where node and we
// deliberately part (node rounds them through doubles, we compare digit
// strings): "safe" versions have none.
const small = (id) => typeof id === 'number' || !/^[0-9]+$/.test(id) ||
  BigInt(id) < 9007199254740992n
const safe = (sv) => sv.prerelease.every(small) && sv.build.every(small)
const fields = (sv) => [sv.major, sv.minor, sv.patch].join(',') + '|' +
  sv.prerelease.join(',') + '|' + sv.build.join(',')
const vcache = new Map()
const version = (v) => {
  if (!vcache.has(v)) {
    let sv = null
    try { sv = new SemVer(v) } catch (e) { sv = null }
    vcache.set(v, sv)
  }
  return vcache.get(v)
}
write('node_versions.tsv', lines('versions.txt').map((v) => {
  const sv = version(v)
  return sv ? '1\t' + sv.version + '\t' + fields(sv) : '0\t\t'
}))

// Satisfaction: what satisfies() says, with E where the range or the
// version is invalid (satisfies() says false there), and X (excluded) for
// a version with a numeric identifier of 2^53 or more, which node rounds.
write('node_sat.txt', lines('pairs.tsv').map((l) => {
  const tab = l.indexOf('\t')
  const id = +l.slice(0, tab) - 1
  const v = l.slice(tab + 1)
  const sv = version(v)
  if (sv && !safe(sv)) return 'XX'
  return OPTS.map((o, k) => {
    const r = parsed[id][k]
    if (!r || !sv) return 'E'
    return r.test(v) ? '1' : '0'
  }).join('')
}))

// maxSatisfying / minSatisfying over each range's valid, safe versions.
{
  const lists = ranges.map(() => [])
  for (const l of lines('pairs.tsv')) {
    const tab = l.indexOf('\t')
    const v = l.slice(tab + 1)
    const sv = version(v)
    if (sv && safe(sv)) lists[+l.slice(0, tab) - 1].push(v)
  }
  write('maxmin_in.txt', lists.map((t) => t.join('\t')))
  write('node_maxmin.tsv', lists.map((t, i) => OPTS.map((o, k) => {
    if (!parsed[i][k]) return '-\t-'
    return (semver.maxSatisfying(t, parsed[i][k], o) || '') + '\t' +
      (semver.minSatisfying(t, parsed[i][k], o) || '')
  }).join('\t')))
}

// intersects(r1, r2, opts), node's Range.intersects.
write('node_x.txt', lines('xpairs.tsv').map((l) => {
  const [a, b] = l.split('\t').map((x) => +x - 1)
  return OPTS.map((o, k) => {
    const ra = parsed[a][k]; const rb = parsed[b][k]
    if (!ra || !rb) return '-'
    return ra.intersects(rb, o) ? '1' : '0'
  }).join('')
}))

// Sort: keep the versions node accepts and that are safe (above).
const sortIn = lines('sortlist.txt').filter((v) => { const sv = version(v); return sv && safe(sv) })
write('sort_in.txt', sortIn)
write('node_compare.txt', sortIn.slice(1).map((b, i) => String(semver.compare(sortIn[i], b))))
