return {run = function() os.exit(3, true) end,
        ok = function() return "still here" end}
