return {run = function() while true do end end,
        quick = function(x) return x + 1 end}
