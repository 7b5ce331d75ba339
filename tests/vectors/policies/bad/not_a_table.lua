return "PROCESS"
-- expect: 1: : expected the file to return a table of policy fields (return { ... }), got "PROCESS"
