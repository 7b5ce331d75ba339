-- csv-stats: entry module (entry = "csv_stats" finds csv_stats/init.lua,
-- as require would). It keeps a count of the rows it has seen, which
-- save/restore would carry across a hot reload.
local M = {rows = 0}

function M.load() M.rows = 0 end
function M.activate() return true end
function M.deactivate() end
function M.save() return {rows = M.rows} end
function M.restore(state) M.rows = state.rows end

-- summarize(csv_text, column) -> {count, sum, mean, min, max} of a
-- numeric column (by header name).
function M.summarize(text, column)
  local header, col, out = nil, nil, {count = 0, sum = 0}
  for line in text:gmatch("[^\n]+") do
    local cells = {}
    for cell in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = cell end
    if not header then
      header = cells
      for i, name in ipairs(cells) do if name == column then col = i end end
      if not col then error(("no column %q"):format(column), 0) end
    else
      local v = tonumber(cells[col])
      if v then
        out.count, out.sum = out.count + 1, out.sum + v
        out.min = math.min(out.min or v, v)
        out.max = math.max(out.max or v, v)
      end
    end
  end
  M.rows = M.rows + out.count
  out.mean = out.count > 0 and out.sum / out.count or nil
  out.seen = M.rows
  return out
end

return M
