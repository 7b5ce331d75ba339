return {run = function()
  return os.getenv("TPHOSTILE_SECRET"), os.getenv("HOME"), os.getenv("PATH")
end}
