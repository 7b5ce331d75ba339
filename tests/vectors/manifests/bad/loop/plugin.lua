while true do end
return {id = "loop", version = "1.0.0", entry = "main"}
