-- truthound.security.signing.treehash: the tree digest (docs/formats.md,
-- "Tree digest") checked against two independent computations, the
-- documented shell pipeline and a Lua reimplementation (its own SHA-256);
-- every refusal; what changes the digest and what does not; the same call
-- inside a task (yields) and outside (runs the loop). Also core.fs.write_atomic.

local tp = require("truthound")
local errors = require("truthound.errors")
local core = require("truthound.native")
local treehash = require("truthound.security.signing.treehash")

-- ---- SHA-256 in plain Lua (FIPS 180-4), independent of OpenSSL ----------

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local M32 = 0xffffffff

local function ror(x, n) return ((x >> n) | (x << (32 - n))) & M32 end

local function sha256(msg)
  local H = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
  local len = #msg
  msg = msg .. "\128" .. ("\0"):rep((55 - len) % 64) .. string.pack(">I8", len * 8)
  local w = {}
  for i = 1, #msg, 64 do
    for j = 1, 16 do w[j] = string.unpack(">I4", msg, i + (j - 1) * 4) end
    for j = 17, 64 do
      local a, b = w[j - 15], w[j - 2]
      local s0 = ror(a, 7) ~ ror(a, 18) ~ (a >> 3)
      local s1 = ror(b, 17) ~ ror(b, 19) ~ (b >> 10)
      w[j] = (w[j - 16] + s0 + w[j - 7] + s1) & M32
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for j = 1, 64 do
      local t1 = (h + (ror(e, 6) ~ ror(e, 11) ~ ror(e, 25)) + ((e & f) ~ (~e & g)) + K[j] + w[j]) & M32
      local t2 = ((ror(a, 2) ~ ror(a, 13) ~ ror(a, 22)) + ((a & b) ~ (a & c) ~ (b & c))) & M32
      h, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
    end
    H[1], H[2], H[3], H[4] = (H[1] + a) & M32, (H[2] + b) & M32, (H[3] + c) & M32, (H[4] + d) & M32
    H[5], H[6], H[7], H[8] = (H[5] + e) & M32, (H[6] + f) & M32, (H[7] + g) & M32, (H[8] + h) & M32
  end
  return ("%08x"):rep(8):format(table.unpack(H))
end

-- ---- trees on disk ------------------------------------------------------

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  local ok, how, code = os.execute(cmd)
  assert(ok, ("command failed (%s %s): %s"):format(how, code, cmd))
end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local roots = {}

local function new_root()
  local dir = capture("mktemp -d \"${TMPDIR:-/tmp}/treehash_spec.XXXXXX\""):gsub("\n$", "")
  roots[#roots + 1] = dir
  return dir
end

local function remove_roots()
  for _, d in ipairs(roots) do os.execute("rm -rf " .. q(d)) end
  roots = {}
end

local function write(root, rel, data, mode)
  local dir = rel:match("^(.*)/[^/]*$")
  if dir then sh("mkdir -p " .. q(root .. "/" .. dir)) end
  local f = assert(io.open(root .. "/" .. rel, "wb"))
  f:write(data)
  f:close()
  sh(("chmod %s %s"):format(mode or "644", q(root .. "/" .. rel)))
end

-- A tree from {path = content} or {path = {content, "755"}}.
local function tree(files)
  local root = new_root()
  for rel, v in pairs(files) do
    if type(v) == "table" then write(root, rel, v[1], v[2]) else write(root, rel, v) end
  end
  return root
end

-- The pipeline of docs/formats.md, byte for byte, with DIR in the
-- environment: listing (without the last sha256sum) and digest.
local PIPELINE_LISTING = [[
(cd "$DIR" && find . -type f ! -path ./plugin.sig -printf '%P\n' | LC_ALL=C sort |
  while IFS= read -r p; do
    case $(stat -c %A -- "$p") in ???[xs]*) x=x ;; *) x=- ;; esac
    printf '%s %s %s\n' "$(sha256sum < "$p" | cut -c1-64)" "$x" "$p"
  done)]]
local PIPELINE = PIPELINE_LISTING .. " | sha256sum | cut -c1-64"

local function pipeline(root, listing_only)
  local out = capture("DIR=" .. q(root) .. " sh -c " .. q(listing_only and PIPELINE_LISTING or PIPELINE))
  return listing_only and out or out:gsub("\n$", "")
end

-- The format reimplemented from its description over known bytes.
local function reimplemented(files)
  local paths = {}
  for rel in pairs(files) do
    if rel ~= "plugin.sig" then paths[#paths + 1] = rel end
  end
  table.sort(paths)                    -- Lua compares strings bytewise (C locale)
  local lines = {}
  for _, rel in ipairs(paths) do
    local v = files[rel]
    local data, mode = v, "644"
    if type(v) == "table" then data, mode = v[1], v[2] end
    local x = (tonumber(mode, 8) & 64) ~= 0 and "x" or "-"
    lines[#lines + 1] = sha256(data) .. " " .. x .. " " .. rel .. "\n"
  end
  local listing = table.concat(lines)
  return sha256(listing), listing
end

local function refusal(root, opts)
  local ok, e = pcall(treehash.digest, root, opts)
  assert.is_false(ok, "expected the tree to be refused")
  assert.is_true(errors.is(e, "SignatureError"), tostring(e))
  return e
end

-- The refusal names rel (raw bytes in e.path, quoted in the message).
local function refused_at(root, rel, reason, text, opts)
  local e = refusal(root, opts)
  assert.are.equal(rel, e.path)
  assert.are.equal(reason, e.reason)
  assert.are.equal(root, e.dir)
  assert.matches(root, e.message, 1, true)
  if text then assert.matches(text, e.message, 1, true) end
  return e
end

local FIXED = {
  ["plugin.lua"] = 'return {id = "hello", version = "1.0.0", entry = "main"}\n',
  ["main.lua"] = "return require('hello.util')\n",
  ["hello/util.lua"] = "return {answer = 42}\n",
  ["hello/empty.lua"] = "",
  ["bin/run"] = {"#!/bin/sh\nexec lua5.4 main.lua\n", "755"},
  ["bin/odd"] = {"group and other may run it\n", "655"},    -- not owner: "-"
  ["bin/setuid"] = {"owner x with setuid\n", "4744"},         -- "s" in ls: "x"
  ["plugin.sig"] = "not hashed\n",
  ["docs/plugin.sig"] = "a deeper plugin.sig is content\n",
  ["a b.txt"] = "space\n",
  [" lead"] = "leading blank\n",
  ["-rf"] = "a dash first\n",
  ["back\\slash"] = "backslash\n",
  ["caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.lua"] = "utf-8 names\n",
  ["a.b"] = "dot\n",
  ["a/b"] = "slash: '/' sorts after '.'\n",
  [".hidden"] = "dot files count\n",
  ["bin.dat"] = ("\0\1\2\255"):rep(5000),
}

describe("truthound.security.signing.treehash", function()
  after_each(remove_roots)

  it("has a working SHA-256 of its own to compare with", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sha256(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sha256("abc"))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    -- sha256sum of 1,000 "a"
    assert.are.equal("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3",
      sha256(("a"):rep(1000)))
  end)

  it("equals the documented shell pipeline and a reimplementation", function()
    local root = tree(FIXED)
    sh("mkdir -p " .. q(root .. "/empty/dirs/do/not/count"))
    local digest, listing, files, bytes = treehash.digest(root)
    assert.are.equal(pipeline(root, true), listing)
    assert.are.equal(pipeline(root), digest)
    local want, want_listing = reimplemented(FIXED)
    assert.are.equal(want_listing, listing)
    assert.are.equal(want, digest)
    assert.matches("^%x+$", digest)
    assert.are.equal(64, #digest)
    assert.are.equal(17, files)
    local n = 0
    for rel, v in pairs(FIXED) do
      if rel ~= "plugin.sig" then n = n + #(type(v) == "table" and v[1] or v) end
    end
    assert.are.equal(n, bytes)
    -- the lines the format promises
    assert.matches("\n%x+ x bin/run\n", "\n" .. listing, 1)
    assert.matches("\n%x+ %- bin/odd\n", "\n" .. listing, 1)
    assert.matches("\n%x+ x bin/setuid\n", "\n" .. listing, 1)
    assert.is_nil(listing:find(" plugin.sig\n", 1, true))
    assert.truthy(listing:find(" docs/plugin.sig\n", 1, true))
  end)

  it("gives an empty tree the digest of the empty listing", function()
    local root = new_root()
    sh("mkdir -p " .. q(root .. "/a/b"))
    write(root, "plugin.sig", "only signatures")
    local digest, listing = treehash.digest(root)
    assert.are.equal("", listing)
    assert.are.equal(sha256(""), digest)
    assert.are.equal(pipeline(root), digest)
  end)

  describe("changes", function()
    local function digest(root) return (treehash.digest(root)) end

    it("the exec bit changes the digest, other x bits do not", function()
      local root = tree{["run.sh"] = "echo\n", ["lib/x.lua"] = "x"}
      local base = digest(root)
      sh("chmod 744 " .. q(root .. "/run.sh"))
      local exec = digest(root)
      assert.are_not.equal(base, exec)
      assert.are.equal(pipeline(root), exec)
      sh("chmod 655 " .. q(root .. "/run.sh"))
      assert.are.equal(base, digest(root))
    end)

    it("moving a file between directories changes the digest", function()
      local root = tree{["a/util.lua"] = "same bytes", ["b/other.lua"] = "x"}
      local base = digest(root)
      sh("mv " .. q(root .. "/a/util.lua") .. " " .. q(root .. "/b/util.lua"))
      local moved = digest(root)
      assert.are_not.equal(base, moved)
      assert.are.equal(pipeline(root), moved)
      sh("mv " .. q(root .. "/b/util.lua") .. " " .. q(root .. "/a/util.lua"))
      assert.are.equal(base, digest(root))
    end)

    it("renaming, adding, removing a file or changing a byte changes it", function()
      local root = tree{["main.lua"] = "return 1\n", ["lib/a.lua"] = "a"}
      local seen = {[digest(root)] = "base"}
      local function differs(what)
        local d = digest(root)
        assert.is_nil(seen[d], what .. " gave the digest of " .. tostring(seen[d]))
        seen[d] = what
      end
      write(root, "main.lua", "return 2\n"); differs("one byte")
      write(root, "lib/b.lua", ""); differs("an empty file added")
      sh("mv " .. q(root .. "/lib/b.lua") .. " " .. q(root .. "/lib/c.lua")); differs("renamed")
      os.remove(root .. "/lib/c.lua"); assert.are.equal("one byte", seen[digest(root)])
    end)

    it("plugin.sig is excluded at the top level only", function()
      local root = tree{["main.lua"] = "x"}
      local base = digest(root)
      write(root, "plugin.sig", "{}")
      assert.are.equal(base, digest(root))
      write(root, "plugin.sig", '{"other": "signatures"}')
      assert.are.equal(base, digest(root))
      write(root, "sub/plugin.sig", "{}")
      assert.are_not.equal(base, digest(root))
      assert.are.equal(pipeline(root), digest(root))
    end)

    it("empty directories do not count; empty files do", function()
      local root = tree{["main.lua"] = "x"}
      local base = digest(root)
      sh("mkdir -p " .. q(root .. "/empty/nested"))
      assert.are.equal(base, digest(root))
      write(root, "empty/nested/zero", "")
      assert.are_not.equal(base, digest(root))
    end)
  end)

  describe("refuses", function()
    it("a symbolic link to a file, to a directory, or dangling", function()
      local root = tree{["main.lua"] = "x", ["lib/real.lua"] = "y"}
      sh("ln -s real.lua " .. q(root .. "/lib/link.lua"))
      refused_at(root, "lib/link.lua", "symlink", '"lib/link.lua" is a symbolic link')
      root = tree{["main.lua"] = "x", ["real/a.lua"] = "y"}
      sh("ln -s real " .. q(root .. "/dirlink"))
      refused_at(root, "dirlink", "symlink", '"dirlink" is a symbolic link')
      root = tree{["main.lua"] = "x"}
      sh("ln -s /nonexistent " .. q(root .. "/dangling"))
      refused_at(root, "dangling", "symlink")
      root = tree{["main.lua"] = "x"}
      sh("ln -s /etc/passwd " .. q(root .. "/plugin.sig"))
      refused_at(root, "plugin.sig", "symlink")
    end)

    it("fifos, sockets and devices", function()
      local root = tree{["main.lua"] = "x"}
      sh("mkdir " .. q(root .. "/d") .. " && mkfifo " .. q(root .. "/d/fifo"))
      refused_at(root, "d/fifo", "special", '"d/fifo" is a fifo')
      root = tree{["main.lua"] = "x"}
      if os.execute("mknod " .. q(root .. "/null") .. " c 1 3 2>/dev/null") then
        refused_at(root, "null", "special", "is a character device")
      else
        print("# devices: mknod refused here (not root?); tests/c/test_treehash.c skips likewise")
      end
      root = tree{["main.lua"] = "x"}
      sh("mkdir " .. q(root .. "/plugin.sig"))
      refused_at(root, "plugin.sig", "special", "the top-level plugin.sig must be a regular file")
    end)

    it("names with a newline, a control character, or not UTF-8", function()
      for _, name in ipairs{"new\nline.lua", "tab\t.lua", "esc\27[31m.lua", "del\127", "nel\194\133",
                            "latin1-\233.lua", "\255\254", "overlong\192\175"} do
        local root = tree{["main.lua"] = "x", ["lib/" .. name] = "y"}
        local e = refused_at(root, "lib/" .. name, "name")
        assert.is_nil(e.message:find("\n", 1, true), "the message must not carry the raw newline")
        assert.is_nil(e.message:find("\27", 1, true))
      end
      local root = tree{["main.lua"] = "x", ["bad\ndir/inside.lua"] = "y"}
      local e = refused_at(root, "bad\ndir", "name", '"bad\\ndir" has a name with a control character')
      assert.truthy(e.message)
    end)

    it("trees beyond their bounds, which options move", function()
      local root = tree{["a/b/c/d.lua"] = "1234", ["x.lua"] = "123456"}
      assert.truthy(treehash.digest(root))
      refused_at(root, "a/b/c", "depth", "deeper than 2 directories", {max_depth = 2})
    end)

    it("names the file that crosses max_files and max_bytes", function()
      local root = tree{["only.lua"] = "1234567890"}
      assert.truthy(treehash.digest(root, {max_files = 1, max_bytes = 10}))
      refused_at(root, "only.lua", "bytes", "over its limit of 9 bytes", {max_bytes = 9})
      refused_at(root, "only.lua", "files", "limit of 0 files", {max_files = 0})
      refused_at(root, "only.lua", "path", "longer than 4 bytes", {max_path = 4})
    end)

    it("a directory that does not exist, naming it", function()
      local root = new_root()
      local e = refused_at(root .. "/missing", "", "system", "No such file or directory")
      assert.are.equal(2, e.errno)
    end)

    it("bad arguments as programming errors", function()
      assert.matches("bad argument #1 to 'digest' %(string expected, got nil%)",
        select(2, pcall(treehash.digest)))
      assert.matches("unknown option 'max_dpeth'", select(2, pcall(treehash.digest, ".", {max_dpeth = 1})))
      assert.matches("bad option 'max_depth'", select(2, pcall(treehash.digest, ".", {max_depth = -1})))
      assert.matches("bad option 'jobs'", select(2, pcall(treehash.digest, ".", {jobs = 1.5})))
    end)
  end)

  describe("same call, both worlds", function()
    -- One 2,000-file tree for the whole block, made once.
    local big, want

    local function big_tree()
      if big then return big, want end
      big = capture("mktemp -d \"${TMPDIR:-/tmp}/treehash_spec.XXXXXX\""):gsub("\n$", "")
      local files, dirs = {}, {}
      for i = 1, 2000 do
        local dir = ("d%02d/sub%d"):format(i % 23, i % 3)
        dirs[dir] = true
        files[dir .. ("/file%04d.lua"):format(i)] = ("return %d -- %s\n"):format(i, ("x"):rep(i % 700))
      end
      local list = {}
      for dir in pairs(dirs) do list[#list + 1] = q(big .. "/" .. dir) end
      sh("mkdir -p " .. table.concat(list, " "))
      for rel, data in pairs(files) do
        local f = assert(io.open(big .. "/" .. rel, "wb"))
        f:write(data)
        f:close()
      end
      want = reimplemented(files)
      return big, want
    end

    teardown(function()
      if big then os.execute("rm -rf " .. q(big)) end
    end)

    it("blocks outside a task: 2,000 files, the right digest", function()
      local root, digest = big_tree()
      assert.is_nil(require("truthound.loop").current())
      local d, listing, files = treehash.digest(root)
      assert.are.equal(digest, d)
      assert.are.equal(2000, files)
      assert.are.equal(2000, select(2, listing:gsub("\n", "")))
      -- every thread count gives the same answer
      for _, jobs in ipairs{1, 2, 3, 8} do
        assert.are.equal(digest, (treehash.digest(root, {jobs = jobs})))
      end
    end)

    it("yields inside a task while other tasks run", function()
      local root, digest = big_tree()
      local seen
      local hashing = tp.spawn(function() return treehash.digest(root) end)
      tp.spawn(function() seen = hashing:status() end)
      tp.run()
      assert.are.equal("waiting", seen)             -- it yielded, it did not block
      assert.are.equal(digest, (hashing:wait()))
    end)

    it("runs the loop from a plain coroutine inside a task", function()
      local root, digest = big_tree()
      local seen, got
      local outer = tp.spawn(function()
        local co = coroutine.wrap(function() return treehash.digest(root) end)
        got = co()
      end)
      tp.spawn(function() seen = outer:status() end)
      tp.run()
      assert.are.equal("running", seen)             -- blocked, and the loop went on
      assert.are.equal(digest, got)
    end)

    it("raises inside a task as outside, and the task fails with it", function()
      local root = tree{["main.lua"] = "x"}
      sh("ln -s main.lua " .. q(root .. "/link"))
      local t = tp.spawn(function() return treehash.digest(root) end)
      local ok, e = pcall(tp.run)
      assert.is_false(ok)
      assert.is_true(errors.is(e, "SignatureError"))
      assert.are.equal("link", e.path)
      assert.are.equal("failed", t:status())
    end)

    it("a cancelled task cancels its hash", function()
      local root = big_tree()
      local hashing = tp.spawn(function() return treehash.digest(root) end)
      tp.spawn(function() assert(hashing:cancel()) end)
      tp.run()
      assert.are.equal("cancelled", hashing:status())
      collectgarbage()
      -- and the loop still works
      local t = tp.spawn(function() return (treehash.digest(root)) end)
      tp.run()
      assert.are.equal(select(2, big_tree()), t:wait())
    end)
  end)

  it("core.treehash ops report their state and refuse early reads", function()
    local root = tree{["main.lua"] = "x"}
    local op = core.treehash.digest(root)
    assert.are.equal("pending", op:status())
    assert.matches("still pending", select(2, pcall(op.result, op)))
    require("truthound.loop").await(op)
    assert.are.equal("done", op:status())
    local d, listing, files, bytes = op:result()
    assert.are.equal(64, #d)
    assert.are.equal(1, files)
    assert.are.equal(1, bytes)
    assert.are.equal(sha256(listing), d)
    assert.is_false(op:cancel())
    do local closing <close> = op end
    assert.are.equal("closed", op:status())
    local op2 = core.treehash.digest(root)
    assert.is_true(op2:cancel())
    assert.are.equal("cancelled", op2:status())
    assert.are.same({nil, "the tree hash was cancelled", "", "cancelled"}, {op2:result()})
    assert.are.equal(32, core.treehash.defaults.max_depth)
    assert.are.equal(treehash.defaults.max_files, core.treehash.defaults.max_files)
  end)
end)

describe("core.fs.write_atomic", function()
  after_each(remove_roots)
  local fs = core.fs

  local function read(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
  end

  local function mode_of(path)
    return capture("stat -c %a " .. q(path)):gsub("\n", "")
  end

  it("writes, replaces, and leaves no temporary file", function()
    local dir = new_root()
    local path = dir .. "/store.json"
    assert.is_true(fs.write_atomic(path, '{"v":1}'))
    assert.are.equal('{"v":1}', read(path))
    assert.are.equal("600", mode_of(path))
    assert.is_true(fs.write_atomic(path, "\0binary\255", tonumber("644", 8)))
    assert.are.equal("\0binary\255", read(path))
    assert.are.equal("644", mode_of(path))
    assert.are.same({"store.json"}, fs.list(dir))
  end)

  it("returns nil, the failing step and errno", function()
    local dir = new_root()
    local ok, msg, errno = fs.write_atomic(dir .. "/missing/store.json", "x")
    assert.is_nil(ok)
    assert.are.equal("open the directory: No such file or directory", msg)
    assert.are.equal(2, errno)
    os.execute("mkdir " .. q(dir .. "/sub"))
    ok, msg = fs.write_atomic(dir .. "/sub", "x")
    assert.is_nil(ok)
    assert.matches("^rename: ", msg)
    assert.are.same({"sub"}, fs.list(dir))
    assert.matches("permission bits", select(2, pcall(fs.write_atomic, dir .. "/f", "x", -1)))
    assert.matches("string expected", select(2, pcall(fs.write_atomic, dir .. "/f")))
  end)
end)
