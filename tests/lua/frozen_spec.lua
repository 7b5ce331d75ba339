-- truthound.frozen: read-only records.

local frozen = require("truthound.frozen")

describe("frozen", function()
  local methods = {describe = function(self) return "id " .. self.id end}
  local src = {id = "x", deps = {"a", "b"}, limits = {mb = 512}}
  local r = frozen.freeze(src, {name = "Manifest", methods = methods})

  it("reads like the table it was made from, methods included", function()
    assert.are.equal("x", r.id)
    assert.are.equal("b", r.deps[2])
    assert.are.equal(2, #r.deps)
    assert.are.equal(512, r.limits.mb)
    assert.are.equal("id x", r:describe())
    local keys = {}
    for k in pairs(r) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({"deps", "id", "limits"}, keys)
    local seen = {}
    for i, v in ipairs(r.deps) do seen[i] = v end
    assert.are.same({"a", "b"}, seen)
  end)

  it("refuses writes at every depth, naming the record and the field", function()
    assert.has_error(function() r.id = "y" end,
      "Manifest is read-only (field 'id'); use :with{...} for a changed copy")
    assert.has_error(function() r.deps[3] = "c" end)
    assert.has_error(function() r.limits.mb = 1 end)
    assert.are.equal("x", r.id)
  end)

  it("copies at freeze time: the original stays independent", function()
    src.id = "changed"
    src.deps[1] = "z"
    assert.are.equal("x", r.id)
    assert.are.equal("a", r.deps[1])
    src.id, src.deps[1] = "x", "a"
  end)

  it("hides its metatable and data", function()
    assert.are.equal("Manifest", getmetatable(r))
    assert.is_nil(rawget(r, "id"))
  end)

  it("thaws into a deep mutable copy", function()
    local t = frozen.thaw(r)
    t.id = "y"
    t.deps[3] = "c"
    assert.are.same({id = "y", deps = {"a", "b", "c"}, limits = {mb = 512}}, t)
    assert.are.equal("x", r.id)
  end)

  it("does not count a record forged with rawset as frozen", function()
    local f = frozen.freeze({a = 1}, {name = "Thing"})
    assert.is_true(frozen.is(f, "Thing"))
    assert.is_false(frozen.is(f, "Other"))
    rawset(f, "a", 2)
    assert.is_false(frozen.is_frozen(f))
    assert.is_false(frozen.is(f, "Thing"))
    local again = frozen.freeze(f)              -- freezes the real data, not the forgery
    assert.are.equal(1, again.a)
  end)

  it("knows its own", function()
    assert.is_true(frozen.is_frozen(r))
    assert.is_true(frozen.is_frozen(r.deps))
    assert.is_false(frozen.is_frozen(src))
    assert.are.equal(r, frozen.freeze(r))
  end)
end)
