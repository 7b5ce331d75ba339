return {run = function(env)
  local got = {}
  for _, name in ipairs{"environ", "mem", "cmdline", "maps"} do
    local f = io.open(("/proc/%d/%s"):format(env.host_pid, name), "rb")
    if f then
      local ok, data = pcall(f.read, f, 4096)
      if ok and data and #data > 0 then got[#got + 1] = name end
      f:close()
    end
  end
  if #got > 0 then return "read the host's " .. table.concat(got, ", ") end
  error("open failed: nothing of the host's /proc was readable")
end}
