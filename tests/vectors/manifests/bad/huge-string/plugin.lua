local s = "x"
for _ = 1, 40 do s = s .. s end
return {id = "huge-string", version = "1.0.0", entry = "main", description = s}
