return {run = function()
  local ok, how, code = os.execute("perl -e 'exit 7'")
  if how ~= "exit" or code ~= 7 then
    error(("helper did not run: %s %s %s"):format(tostring(ok), tostring(how), tostring(code)))
  end
  ok, how, code = os.execute([[perl -e '$x = "m" x (1024 * 1024 * 1024); exit 0' 2>/dev/null]])
  if ok then return "allocated 1 GiB in a child" end
  error(("allocation failed: %s %s"):format(tostring(how), tostring(code)))
end}
