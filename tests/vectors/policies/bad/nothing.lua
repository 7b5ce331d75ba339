local x = 1
-- expect: -: : expected the file to return a table of policy fields (return { ... }), got nothing
