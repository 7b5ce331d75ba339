return {id = "hostile.stack_overflow", version = "1.0.0", entry = "attack",
        description = "Unbounded recursion in Lua and through C (gsub callbacks)"}
